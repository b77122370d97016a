/* Exercise 07-pipeline: a reference solution. */
#include "pipeline.h"

#include <errno.h>

/* ---- the source and the sink (given) ------------------------------------------------- */

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

/* ---- the middle stage ---------------------------------------------------------------- */

static ax_result middle_poll(struct ax_future *self, struct ax_context *cx)
{
    struct pipeline_stage *s = (struct pipeline_stage *)self;
    struct pipeline *p = s->p;
    AX_ASYNC_BEGIN(&s->co);
    for (;;) {
        ax_chan_recv_init(&s->recv, s->in, &s->value);
        AX_AWAIT(&s->co, cx, &s->recv.base, s->rc);
        if (s->rc < 0) { /* AX_EOF: the source is done; pass the end on */
            ax_chan_close(s->out);
            break;
        }
        if (p->config.cost_ns[PIPELINE_MIDDLE] > 0) {
            ax_sleep_init(&s->work, p->config.cost_ns[PIPELINE_MIDDLE]);
            AX_AWAIT(&s->co, cx, &s->work.base, s->rc);
        }
        s->value = p->config.transform(s->value);
        ax_chan_send_init(&s->send, s->out, &s->value);
        AX_AWAIT(&s->co, cx, &s->send.base, s->rc);
        if (s->rc < 0) { /* -EPIPE: the sink has stopped; pass the stop back */
            ax_chan_close(s->in);
            break;
        }
    }
    AX_ASYNC_END(&s->co, 0);
}

static const struct ax_future_ops middle_ops = {.poll = middle_poll, .drop = stage_drop};

/* ---- the pipeline -------------------------------------------------------------------- */

static void free_channels(struct pipeline *p)
{
    for (int i = 0; i < 2; i++) {
        if (p->chan[i] != NULL)
            ax_chan_free(p->chan[i]);
        p->chan[i] = NULL;
    }
}

static int start(struct pipeline *p)
{
    if (p->config.capacity == 0)
        return -EINVAL;
    for (int i = 0; i < 2; i++) {
        int rc = ax_chan_new(&p->chan[i], p->config.capacity, sizeof(uint64_t));
        if (rc < 0) {
            free_channels(p);
            return rc;
        }
    }
    static const struct ax_future_ops *const ops[PIPELINE_STAGES] = {&source_ops, &middle_ops,
                                                                     &sink_ops};
    struct ax_chan *in[PIPELINE_STAGES] = {NULL, p->chan[0], p->chan[1]};
    struct ax_chan *out[PIPELINE_STAGES] = {p->chan[0], p->chan[1], NULL};
    for (int i = 0; i < PIPELINE_STAGES; i++) {
        p->stage[i] = (struct pipeline_stage){.base = {ops[i]}, .p = p, .in = in[i], .out = out[i]};
        p->stages[i] = &p->stage[i].base;
    }
    ax_join_all_init(&p->join, p->stages, p->results, p->finished, PIPELINE_STAGES);
    p->started = true;
    return 0;
}

static ax_result pipeline_poll(struct ax_future *self, struct ax_context *cx)
{
    struct pipeline *p = (struct pipeline *)self;
    if (!p->started) {
        int rc = start(p);
        if (rc < 0)
            return rc;
    }
    if (ax_poll(&p->join.base, cx) == AX_PENDING)
        return AX_PENDING;
    ax_future_drop(&p->join.base);
    p->started = false;
    free_channels(p);
    for (int i = 0; i < PIPELINE_STAGES; i++)
        if (p->results[i] < 0)
            return p->results[i];
    return (ax_result)p->sunk;
}

static void pipeline_drop(struct ax_future *self)
{
    struct pipeline *p = (struct pipeline *)self;
    if (p->started)
        ax_future_drop(&p->join.base); /* the three stages, and what they wait on */
    p->started = false;
    free_channels(p);
}

static const struct ax_future_ops pipeline_ops = {.poll = pipeline_poll, .drop = pipeline_drop};

void pipeline_init(struct pipeline *p, const struct pipeline_config *config, uint64_t *out)
{
    *p = (struct pipeline){.base = {&pipeline_ops}, .config = *config, .out = out};
}
