/* Exercise 07-pipeline. Read chapter 07, section #bounded-channel, first. */
#include "pipeline.h"

#include <errno.h>

/* ---- the source and the sink: given, nothing to do here ------------------------------ */

/* Makes 1..count, each after its cost, into `out`; closes `out` when done (rule 2) or
 * refused (rule 3). */
static ax_result source_poll(struct ax_future *self, struct ax_context *cx)
{
    struct pipeline_stage *s = (struct pipeline_stage *)self;
    struct pipeline *p = s->p;
    AX_ASYNC_BEGIN(&s->co);
    for (s->value = 1; s->value <= p->config.count; s->value++) {
        if (p->config.cost_ns[PIPELINE_SOURCE] > 0) {
            ax_sleep_init(&s->work, p->config.cost_ns[PIPELINE_SOURCE]);
            AX_AWAIT(&s->co, cx, &s->work.base, s->rc);
        }
        ax_chan_send_init(&s->send, s->out, &s->value);
        AX_AWAIT(&s->co, cx, &s->send.base, s->rc);
        if (s->rc < 0) /* -EPIPE: the stages after have stopped */
            break;
        p->produced++;
        if (p->produced - p->sunk > p->max_in_flight)
            p->max_in_flight = p->produced - p->sunk;
    }
    ax_chan_close(s->out);
    AX_ASYNC_END(&s->co, 0);
}

/* Stores what arrives on `in` until AX_EOF, or until it has `limit` values, when it
 * closes `in` so that the stages before it stop (rule 3). */
static ax_result sink_poll(struct ax_future *self, struct ax_context *cx)
{
    struct pipeline_stage *s = (struct pipeline_stage *)self;
    struct pipeline *p = s->p;
    AX_ASYNC_BEGIN(&s->co);
    for (;;) {
        if (p->config.limit != 0 && p->sunk == p->config.limit) {
            ax_chan_close(s->in);
            break;
        }
        ax_chan_recv_init(&s->recv, s->in, &s->value);
        AX_AWAIT(&s->co, cx, &s->recv.base, s->rc);
        if (s->rc < 0) /* AX_EOF: everything before has ended */
            break;
        if (p->config.cost_ns[PIPELINE_SINK] > 0) {
            ax_sleep_init(&s->work, p->config.cost_ns[PIPELINE_SINK]);
            AX_AWAIT(&s->co, cx, &s->work.base, s->rc);
        }
        if (p->sunk == p->config.count) /* a value the source never made */
            AX_ASYNC_RETURN(&s->co, -EPROTO);
        p->out[p->sunk++] = s->value;
    }
    AX_ASYNC_END(&s->co, 0);
}

/* Every stage's drop: the future it waits on, if any. */
static void stage_drop(struct ax_future *self)
{
    AX_ASYNC_DROP(&((struct pipeline_stage *)self)->co);
}

static const struct ax_future_ops source_ops = {.poll = source_poll, .drop = stage_drop};
static const struct ax_future_ops sink_ops = {.poll = sink_poll, .drop = stage_drop};

/* ---- the middle stage: your work ----------------------------------------------------- */

static ax_result middle_poll(struct ax_future *self, struct ax_context *cx)
{
    /* TODO: a loop, written as the source and the sink are: receive a value from s->in;
     * on AX_EOF close s->out and end (rule 2). Spend the stage's cost on it (a sleep, if
     * the cost is not 0), apply p->config.transform, and send the result to s->out; on
     * -EPIPE close s->in and end (rule 3). The waits are the backpressure: nothing here
     * counts or buffers (chapter 07, #bounded-channel). */
    (void)self;
    (void)cx;
    return -ENOSYS;
}

static const struct ax_future_ops middle_ops = {.poll = middle_poll, .drop = stage_drop};

/* ---- the pipeline: your work too -------------------------------------------------- */

static void free_channels(struct pipeline *p)
{
    for (int i = 0; i < 2; i++) {
        if (p->chan[i] != NULL)
            ax_chan_free(p->chan[i]);
        p->chan[i] = NULL;
    }
}

static ax_result pipeline_poll(struct ax_future *self, struct ax_context *cx)
{
    /* TODO: the first poll refuses a capacity of 0 (-EINVAL), makes the two channels of
     * uint64_t values (ax_chan_new), sets up the three stages (source_ops, middle_ops,
     * sink_ops, each with its p, in and out) and an ax_join_all over them, and sets
     * p->started. Every poll then polls the join; when it finishes, drop it, free the
     * channels, and finish with a stage's error if one failed, else p->sunk (rule 4). */
    (void)self;
    (void)cx;
    (void)free_channels; /* yours to call, with the three stages' ops */
    (void)source_ops, (void)middle_ops, (void)sink_ops;
    return -ENOSYS;
}

static void pipeline_drop(struct ax_future *self)
{
    /* TODO: if started, drop the join (it drops the three stages), then free the
     * channels: after the join's drop nothing waits on them any more. */
    (void)self;
}

static const struct ax_future_ops pipeline_ops = {.poll = pipeline_poll, .drop = pipeline_drop};

void pipeline_init(struct pipeline *p, const struct pipeline_config *config, uint64_t *out)
{
    *p = (struct pipeline){.base = {&pipeline_ops}, .config = *config, .out = out};
}
