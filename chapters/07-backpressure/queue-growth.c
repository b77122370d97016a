/*
 * queue-growth: a producer faster than its consumer, with and without backpressure.
 *
 *     build/bin/queue-growth [--queue unbounded|bounded] [--capacity N] [--duration-ms N]
 *                            [--produce-us N] [--consume-us N] [--message-bytes N]
 *                            [--every-ms N]
 *
 * Two tasks share a queue of messages. The producer makes one message (a block of
 * --message-bytes, default 4096, filled in) every --produce-us (default 100 µs) and
 * puts it in the queue; the consumer takes one, works on it for --consume-us (default
 * 1000 µs), and frees it. The producer is ten times faster, as a client that sends
 * requests faster than a server answers them, or a crawler that finds links faster than
 * it fetches pages. The queue is one of two:
 *
 *   unbounded   a linked list written below, the queue every first version has: a push
 *               never waits, so nothing tells the producer to slow down. The backlog,
 *               and the memory it holds, grow for as long as the run lasts: nine
 *               messages in ten are still waiting at the end.
 *   bounded     ax_chan (ax/chan.h) with room for --capacity messages (default 64): a
 *               send to a full channel waits until the consumer has taken one. The
 *               producer runs at the consumer's pace, and the memory held stays flat.
 *
 * The run lasts --duration-ms (default 1000) on virtual time, so it takes a moment and
 * always reads the same; the messages are real memory, and the peak resident set size
 * the kernel reports (getrusage) grows with them. One run measures one queue, so that
 * the peak RSS of one is never the other's: run it once with each. It prints the backlog
 * every --every-ms (default 100) and then a table: messages produced and consumed, the
 * peak queued, the peak bytes held by messages not yet freed, the peak RSS, and how long
 * the producer spent waiting for room.
 */
#include "ax/async.h"
#include "ax/chan.h"
#include "ax/clock.h"
#include "ax/error.h"
#include "ax/task.h"
#include "ax/timer.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

enum { MAX_SAMPLES = 1000 };

struct options {
    bool bounded;
    size_t capacity;
    uint64_t duration, produce_gap, consume_time, every; /* ns */
    size_t message_bytes;
};

struct message {
    struct message *next; /* the unbounded queue's link; unused in the channel */
    uint64_t seq;
    unsigned char payload[];
};

/* What the run measured. Both tasks and the sampler write here; main prints it. */
struct stats {
    uint64_t produced, consumed;
    size_t queued, peak_queued;
    size_t bytes_held, peak_bytes; /* messages made and not yet freed */
    uint64_t producer_waited; /* ns spent in a send that had to wait */
    bool out_of_memory; /* a message could not be made: the producer stopped early */
    size_t samples;
    struct sample {
        uint64_t at; /* ns since the start */
        size_t queued, bytes;
    } sample[MAX_SAMPLES];
};

/* ---- the unbounded queue: what not to write ----------------------------------------- */

/* The queue a first version has: a list that any number of messages can join. Nothing
 * in it can say "full", so a producer that pushes into it never waits, never learns
 * that the consumer is behind, and the backlog is limited only by memory. */
struct naive_queue {
    struct message *head, *tail;
    size_t len;
    struct ax_waker consumer; /* parked on an empty queue; empty waker otherwise */
    bool closed;
};

static void naive_push(struct naive_queue *q, struct message *m)
{
    m->next = NULL;
    if (q->tail != NULL)
        q->tail->next = m;
    else
        q->head = m;
    q->tail = m;
    q->len++;
    ax_wake(&q->consumer);
    q->consumer = (struct ax_waker){0};
}

static struct message *naive_pop(struct naive_queue *q)
{
    struct message *m = q->head;
    if (m != NULL) {
        q->head = m->next;
        if (q->head == NULL)
            q->tail = NULL;
        q->len--;
    }
    return m;
}

/* A future that takes the next message into *out: 0, or AX_EOF once the queue is
 * closed and empty. */
struct naive_pop_future {
    struct ax_future base;
    struct naive_queue *q;
    struct message **out;
};

static ax_result naive_pop_poll(struct ax_future *self, struct ax_context *cx)
{
    struct naive_pop_future *pop = (struct naive_pop_future *)self;
    struct naive_queue *q = pop->q;
    if ((*pop->out = naive_pop(q)) != NULL)
        return 0;
    if (q->closed)
        return AX_EOF;
    if (!ax_waker_wakes(&q->consumer, cx)) {
        ax_waker_drop(&q->consumer);
        q->consumer = ax_waker_clone(cx);
    }
    return AX_PENDING;
}

static const struct ax_future_ops naive_pop_ops = {.poll = naive_pop_poll};

static void naive_close(struct naive_queue *q)
{
    q->closed = true;
    ax_wake(&q->consumer);
    q->consumer = (struct ax_waker){0};
}

/* ---- the shared workload ------------------------------------------------------------ */

struct run {
    const struct options *opt;
    struct stats *stats;
    uint64_t start, end; /* on the executor's clock */
    struct naive_queue naive;
    struct ax_chan *chan; /* bounded mode only */
};

static struct message *message_new(struct run *r, uint64_t seq)
{
    size_t size = sizeof(struct message) + r->opt->message_bytes;
    struct message *m = malloc(size);
    if (m == NULL)
        return NULL;
    m->next = NULL;
    m->seq = seq;
    memset(m->payload, (int)(seq & 0xff), r->opt->message_bytes); /* real pages, real RSS */
    struct stats *s = r->stats;
    s->bytes_held += size;
    if (s->bytes_held > s->peak_bytes)
        s->peak_bytes = s->bytes_held;
    return m;
}

static void message_free(struct run *r, struct message *m)
{
    r->stats->bytes_held -= sizeof(struct message) + r->opt->message_bytes;
    free(m);
}

static size_t queued(const struct run *r)
{
    return r->opt->bounded ? ax_chan_len(r->chan) : r->naive.len;
}

static void note_queued(struct run *r)
{
    struct stats *s = r->stats;
    s->queued = queued(r);
    if (s->queued > s->peak_queued)
        s->peak_queued = s->queued;
}

static void close_queue(struct run *r)
{
    if (r->opt->bounded)
        ax_chan_close(r->chan);
    else
        naive_close(&r->naive);
}

/* ---- the producer: one message every produce_gap, until the end --------------------- */

struct producer {
    struct ax_future base;
    struct ax_coroutine co;
    struct run *run;
    struct message *held; /* made, not yet in the queue */
    uint64_t asked; /* when the current send began */
    ax_result rc;
    struct ax_chan_send send;
    struct ax_sleep sleep;
};

// snippet queue-growth-producer
static ax_result producer_poll(struct ax_future *self, struct ax_context *cx)
{
    struct producer *p = (struct producer *)self;
    struct run *r = p->run;
    AX_ASYNC_BEGIN(&p->co);
    while (ax_executor_now(cx->executor) < r->end) {
        p->held = message_new(r, r->stats->produced);
        if (p->held == NULL) { /* where an unbounded queue ends, given time */
            r->stats->out_of_memory = true;
            break;
        }
        if (r->opt->bounded) {
            /* Waits while the channel is full: this wait is the backpressure. */
            p->asked = ax_executor_now(cx->executor);
            ax_chan_send_init(&p->send, r->chan, &p->held);
            AX_AWAIT(&p->co, cx, &p->send.base, p->rc);
            r->stats->producer_waited += ax_executor_now(cx->executor) - p->asked;
            if (p->rc < 0) /* closed: the consumer has stopped */
                break;
        } else {
            naive_push(&r->naive, p->held); /* never waits, never says no */
        }
        p->held = NULL;
        r->stats->produced++;
        note_queued(r);
        ax_sleep_init(&p->sleep, r->opt->produce_gap);
        AX_AWAIT(&p->co, cx, &p->sleep.base, p->rc);
    }
    if (p->held != NULL) /* a send the closed channel refused keeps its message */
        message_free(r, p->held);
    p->held = NULL;
    close_queue(r);
    AX_ASYNC_END(&p->co, 0);
}
// end snippet

static void producer_drop(struct ax_future *self)
{
    struct producer *p = (struct producer *)self;
    AX_ASYNC_DROP(&p->co);
    if (p->held != NULL)
        message_free(p->run, p->held);
    p->held = NULL;
}

static const struct ax_future_ops producer_ops = {.poll = producer_poll, .drop = producer_drop};

/* ---- the consumer: takes one, works on it for consume_time, frees it ----------------- */

struct consumer {
    struct ax_future base;
    struct ax_coroutine co;
    struct run *run;
    struct message *taken;
    ax_result rc;
    union {
        struct ax_chan_recv recv;
        struct naive_pop_future pop;
    };
    struct ax_sleep work;
};

static ax_result consumer_poll(struct ax_future *self, struct ax_context *cx)
{
    struct consumer *c = (struct consumer *)self;
    struct run *r = c->run;
    AX_ASYNC_BEGIN(&c->co);
    while (ax_executor_now(cx->executor) < r->end) {
        if (r->opt->bounded) {
            ax_chan_recv_init(&c->recv, r->chan, &c->taken);
            AX_AWAIT(&c->co, cx, &c->recv.base, c->rc);
        } else {
            c->pop = (struct naive_pop_future){
                .base = {&naive_pop_ops}, .q = &r->naive, .out = &c->taken};
            AX_AWAIT(&c->co, cx, &c->pop.base, c->rc);
        }
        if (c->rc < 0) /* closed and drained */
            break;
        note_queued(r);
        ax_sleep_init(&c->work, r->opt->consume_time);
        AX_AWAIT(&c->co, cx, &c->work.base, c->rc);
        message_free(r, c->taken);
        c->taken = NULL;
        r->stats->consumed++;
    }
    close_queue(r); /* a producer waiting for room gives up */
    AX_ASYNC_END(&c->co, 0);
}

static void consumer_drop(struct ax_future *self)
{
    struct consumer *c = (struct consumer *)self;
    AX_ASYNC_DROP(&c->co);
    if (c->taken != NULL)
        message_free(c->run, c->taken);
    c->taken = NULL;
}

static const struct ax_future_ops consumer_ops = {.poll = consumer_poll, .drop = consumer_drop};

/* ---- the sampler: the backlog every `every` ns -------------------------------------- */

struct sampler {
    struct ax_future base;
    struct run *run;
    struct ax_sleep sleep;
    bool sleeping;
};

static ax_result sampler_poll(struct ax_future *self, struct ax_context *cx)
{
    struct sampler *s = (struct sampler *)self;
    struct run *r = s->run;
    struct stats *st = r->stats;
    for (;;) {
        uint64_t next = r->start + (st->samples + 1) * r->opt->every;
        if (next > r->end || st->samples == MAX_SAMPLES)
            return 0;
        if (!s->sleeping)
            ax_sleep_until_init(&s->sleep, next);
        s->sleeping = true;
        if (ax_poll(&s->sleep.base, cx) == AX_PENDING)
            return AX_PENDING;
        ax_future_drop(&s->sleep.base);
        s->sleeping = false;
        st->sample[st->samples++] =
            (struct sample){.at = next - r->start, .queued = queued(r), .bytes = st->bytes_held};
    }
}

static void sampler_drop(struct ax_future *self)
{
    struct sampler *s = (struct sampler *)self;
    if (s->sleeping)
        ax_future_drop(&s->sleep.base);
    s->sleeping = false;
}

static const struct ax_future_ops sampler_ops = {.poll = sampler_poll, .drop = sampler_drop};

/* ---- main --------------------------------------------------------------------------- */

static void usage(FILE *to, int status)
{
    fprintf(to, "usage: queue-growth [--queue unbounded|bounded] [--capacity N] [--duration-ms N]\n"
                "                    [--produce-us N] [--consume-us N] [--message-bytes N]\n"
                "                    [--every-ms N]\n"
                "  a producer (one message every 100 us) feeds a consumer (1000 us a message)\n"
                "  through an unbounded list (default) or an ax_chan of --capacity (64), for\n"
                "  --duration-ms (1000) of virtual time; prints the backlog every --every-ms\n"
                "  (100), then the messages moved, the peak queued, the peak bytes held and RSS\n");
    exit(status);
}

static uint64_t parse_number(const char *text, uint64_t min, uint64_t max)
{
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    if (*text < '0' || *text > '9' || *end != '\0' || v < min || v > max)
        usage(stderr, 2);
    return v;
}

static void fail(const char *what, int err)
{
    fprintf(stderr, "queue-growth: %s: %s\n", what, ax_strerror(err));
    exit(1);
}

static struct options parse_options(int argc, char **argv)
{
    static const struct option options[] = {
        {"queue", required_argument, NULL, 'q'},
        {"capacity", required_argument, NULL, 'c'},
        {"duration-ms", required_argument, NULL, 'd'},
        {"produce-us", required_argument, NULL, 'p'},
        {"consume-us", required_argument, NULL, 'w'},
        {"message-bytes", required_argument, NULL, 'm'},
        {"every-ms", required_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'H'},
        {0},
    };
    struct options o = {.capacity = 64,
                        .duration = 1000 * AX_NS_PER_MS,
                        .produce_gap = 100 * AX_NS_PER_US,
                        .consume_time = 1000 * AX_NS_PER_US,
                        .message_bytes = 4096,
                        .every = 100 * AX_NS_PER_MS};
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'q':
            if (strcmp(optarg, "bounded") != 0 && strcmp(optarg, "unbounded") != 0)
                usage(stderr, 2);
            o.bounded = strcmp(optarg, "bounded") == 0;
            break;
        case 'c':
            o.capacity = parse_number(optarg, 1, 1000000);
            break;
        case 'd':
            o.duration = parse_number(optarg, 1, 60 * 1000) * AX_NS_PER_MS;
            break;
        case 'p':
            o.produce_gap = parse_number(optarg, 1, 1000000) * AX_NS_PER_US;
            break;
        case 'w':
            o.consume_time = parse_number(optarg, 1, 1000000) * AX_NS_PER_US;
            break;
        case 'm':
            o.message_bytes = parse_number(optarg, 0, 1 << 20);
            break;
        case 'e':
            o.every = parse_number(optarg, 1, 60 * 1000) * AX_NS_PER_MS;
            break;
        case 'H':
            usage(stdout, 0);
            break;
        default:
            usage(stderr, 2);
        }
    }
    if (optind != argc)
        usage(stderr, 2);
    return o;
}

static void *spawn(struct ax_executor *executor, size_t size, const void *future)
{
    struct ax_future *f = ax_task_alloc(executor, size);
    if (f == NULL)
        fail("tasks", -ENOMEM);
    memcpy(f, future, size);
    ax_task_detach(ax_task_spawn(f));
    return f;
}

/* Frees what is still queued at the end; returns how many there were. */
static size_t drain(struct run *r)
{
    size_t left = 0;
    struct message *m;
    if (r->opt->bounded) {
        while (ax_chan_try_recv(r->chan, &m) == 0) {
            message_free(r, m);
            left++;
        }
    } else {
        while ((m = naive_pop(&r->naive)) != NULL) {
            message_free(r, m);
            left++;
        }
    }
    return left;
}

static long peak_rss_kib(void)
{
    struct rusage usage;
    return getrusage(RUSAGE_SELF, &usage) == 0 ? usage.ru_maxrss : -1;
}

int main(int argc, char **argv)
{
    struct options opt = parse_options(argc, argv);
    static struct stats stats; /* its sample array is large for a stack */
    struct ax_executor *executor;
    int err = ax_executor_new(&executor, NULL);
    if (err < 0)
        fail("executor", err);
    /* Virtual time starts at the same instant on every run, so timers round to the
     * wheel's ticks the same way and every run prints the same table. */
    ax_executor_pause_time(executor, AX_NS_PER_S);
    struct run run = {.opt = &opt, .stats = &stats};
    run.start = ax_executor_now(executor);
    run.end = run.start + opt.duration;
    if (opt.bounded && (err = ax_chan_new(&run.chan, opt.capacity, sizeof(struct message *))) < 0)
        fail("channel", err);

    spawn(executor, sizeof(struct producer),
          &(struct producer){.base = {&producer_ops}, .run = &run});
    spawn(executor, sizeof(struct consumer),
          &(struct consumer){.base = {&consumer_ops}, .run = &run});
    spawn(executor, sizeof(struct sampler), &(struct sampler){.base = {&sampler_ops}, .run = &run});
    if ((err = ax_executor_run(executor)) < 0)
        fail("run", err);
    size_t left = drain(&run);
    long rss = peak_rss_kib();

    printf("queue: %s", opt.bounded ? "bounded" : "unbounded");
    if (opt.bounded)
        printf(" (ax_chan, capacity %zu)", opt.capacity);
    printf("; one %zu-byte message every %llu us, consumed in %llu us each; %llu ms\n",
           opt.message_bytes, (unsigned long long)(opt.produce_gap / AX_NS_PER_US),
           (unsigned long long)(opt.consume_time / AX_NS_PER_US),
           (unsigned long long)(opt.duration / AX_NS_PER_MS));
    printf("\n%10s %10s %14s\n", "time (ms)", "queued", "bytes held");
    for (size_t i = 0; i < stats.samples; i++)
        printf("%10llu %10zu %14zu\n", (unsigned long long)(stats.sample[i].at / AX_NS_PER_MS),
               stats.sample[i].queued, stats.sample[i].bytes);
    printf("\n");
    printf("messages produced    %12llu\n", (unsigned long long)stats.produced);
    printf("messages consumed    %12llu\n", (unsigned long long)stats.consumed);
    printf("left queued at end   %12zu\n", left);
    printf("peak queued items    %12zu\n", stats.peak_queued);
    printf("peak bytes held      %12zu\n", stats.peak_bytes);
    printf("peak RSS (KiB)       %12ld\n", rss);
    printf("producer waited (ms) %12llu\n",
           (unsigned long long)(stats.producer_waited / AX_NS_PER_MS));

    if (run.chan != NULL)
        ax_chan_free(run.chan);
    ax_executor_free(executor);
    if (stats.out_of_memory) {
        fprintf(stderr, "queue-growth: out of memory with %zu bytes held: the producer stopped\n",
                stats.peak_bytes);
        return 1;
    }
    return 0;
}
