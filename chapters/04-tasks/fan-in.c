/*
 * fan-in: many producer tasks send into one consumer task through one queue, and what
 * happens to that queue when the producers are faster.
 *
 *     build/bin/fan-in [--producers N] [--messages M] [--bound B] [--tsv]
 *
 * Go's fan-in, with tasks: N producers each send M messages into a queue, and one
 * consumer takes them out. The queue is an intrusive list of messages plus the
 * consumer's waker; sending never waits. The consumer handles one message per turn and
 * the producers each send one per turn, so N producers arrive N times as fast as one
 * consumer leaves, and the queue grows by N - 1 messages a round until the producers
 * stop. Nothing pushes back: the memory is all in the queue.
 *
 * With --bound B (B >= 1), a producer that finds B messages queued waits on an event
 * that the consumer sets each time it takes one: a bounded queue in miniature, and
 * the peak stays at B. Chapter 07 builds proper bounded channels. Without --bound the
 * demo runs both ways (unbounded first, then B = 64).
 *
 * It prints the peak queue length, the bytes of messages queued at that peak, and the
 * growth of resident memory. --tsv prints them as name<TAB>value<TAB>unit lines for
 * bench/pitfalls.c.
 */
#include "ax/async.h"
#include "ax/error.h"
#include "ax/event.h"
#include "ax/list.h"
#include "ax/task.h"

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { RSS_SAMPLE_EVERY = 4096 };

/* Resident memory in KiB, from /proc/self/status. */
static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    if (f != NULL)
        fclose(f);
    return kb;
}

// snippet fan-in-queue
/* One message: the links that put it on the queue are inside it. */
struct msg {
    struct ax_list link;
    uint32_t producer;
    uint32_t seq;
    char payload[48];
};

/* An unbounded queue for many senders and one receiver. */
struct queue {
    struct ax_list items; /* struct msg, by link, oldest first */
    size_t len, peak;
    int senders; /* producers still running: at 0 an empty queue is the end */
    struct ax_waker receiver; /* the consumer, while it waits for a message */
    size_t bound; /* 0: unbounded; else a sender waits while len >= bound */
    struct ax_event room; /* set when a message is taken (bounded only) */
};

/* Never waits, never fails: it only links the message in. */
static void queue_send(struct queue *q, struct msg *m)
{
    ax_list_push_back(&q->items, &m->link);
    if (++q->len > q->peak)
        q->peak = q->len;
    ax_wake(&q->receiver); /* wakes the consumer if it waits (and drops that waker) */
}

/* A future for the next message: the message, or NULL once every sender is done. */
struct queue_recv {
    struct ax_future base;
    struct queue *q;
    struct msg *msg;
};

static ax_result queue_recv_poll(struct ax_future *self, struct ax_context *cx)
{
    struct queue_recv *r = (struct queue_recv *)self;
    struct queue *q = r->q;
    struct ax_list *node = ax_list_pop_front(&q->items);
    if (node != NULL) {
        q->len--;
        if (q->bound > 0)
            ax_event_set(&q->room); /* every waiting sender tries again */
        r->msg = ax_container_of(node, struct msg, link);
        return 0;
    }
    if (q->senders == 0) {
        r->msg = NULL;
        return 0;
    }
    if (!ax_waker_wakes(&q->receiver, cx)) {
        ax_waker_drop(&q->receiver);
        q->receiver = ax_waker_clone(cx);
    }
    return AX_PENDING;
}
// end snippet

static const struct ax_future_ops queue_recv_ops = {.poll = queue_recv_poll};

static void queue_recv_init(struct queue_recv *r, struct queue *q)
{
    *r = (struct queue_recv){.base = {&queue_recv_ops}, .q = q};
}

/* ---- yield: give the other tasks a turn ----------------------------------------------- */

/* Pending once, after waking its own task: the task goes to the back of the run queue. */
struct yield_now {
    struct ax_future base;
    bool yielded;
};

static ax_result yield_poll(struct ax_future *self, struct ax_context *cx)
{
    struct yield_now *y = (struct yield_now *)self;
    if (y->yielded)
        return 0;
    y->yielded = true;
    struct ax_waker me = ax_waker_clone(cx);
    ax_wake(&me);
    return AX_PENDING;
}

static const struct ax_future_ops yield_ops = {.poll = yield_poll};

static void yield_init(struct yield_now *y)
{
    *y = (struct yield_now){.base = {&yield_ops}};
}

/* ---- producers and the consumer ------------------------------------------------------- */

// snippet fan-in-producer
struct producer {
    struct ax_future base;
    struct ax_coroutine co;
    struct queue *q;
    uint32_t id, sent, count;
    ax_result rc;
    union {
        struct yield_now yield;
        struct ax_event_wait room;
    } wait;
};

static ax_result producer_poll(struct ax_future *self, struct ax_context *cx)
{
    struct producer *p = (struct producer *)self;
    AX_ASYNC_BEGIN(&p->co);
    for (; p->sent < p->count; p->sent++) {
        while (p->q->bound > 0 && p->q->len >= p->q->bound) { /* bounded: wait for room */
            ax_event_reset(&p->q->room);
            ax_event_wait_init(&p->wait.room, &p->q->room);
            AX_AWAIT(&p->co, cx, &p->wait.room.base, p->rc);
        }
        struct msg *m = malloc(sizeof *m);
        if (m == NULL)
            AX_ASYNC_RETURN(&p->co, -ENOMEM);
        m->producer = p->id;
        m->seq = p->sent;
        memset(m->payload, 'x', sizeof m->payload);
        queue_send(p->q, m);
        yield_init(&p->wait.yield); /* one message per turn */
        AX_AWAIT(&p->co, cx, &p->wait.yield.base, p->rc);
    }
    AX_ASYNC_END(&p->co, 0);
}
// end snippet

/* Runs once, finished or not: one sender fewer, and the consumer must hear of it. */
static void producer_drop(struct ax_future *self)
{
    struct producer *p = (struct producer *)self;
    AX_ASYNC_DROP(&p->co);
    p->q->senders--;
    ax_wake(&p->q->receiver);
}

static const struct ax_future_ops producer_ops = {.poll = producer_poll, .drop = producer_drop};

/* Takes messages one per turn, checks each producer's arrive in order, and samples
 * the resident memory; finishes with the number of messages taken. */
struct consumer {
    struct ax_future base;
    struct ax_coroutine co;
    struct queue *q;
    uint32_t *next_seq; /* per producer: the seq expected next */
    uint64_t taken;
    long *peak_rss_kb; /* the caller's: outlives the task */
    ax_result rc;
    union {
        struct queue_recv recv;
        struct yield_now yield;
    } wait;
};

static ax_result consumer_poll(struct ax_future *self, struct ax_context *cx)
{
    struct consumer *c = (struct consumer *)self;
    AX_ASYNC_BEGIN(&c->co);
    for (;;) {
        queue_recv_init(&c->wait.recv, c->q);
        AX_AWAIT(&c->co, cx, &c->wait.recv.base, c->rc);
        struct msg *m = c->wait.recv.msg;
        if (m == NULL)
            break; /* every producer is done and the queue is empty */
        if (m->seq != c->next_seq[m->producer]++) {
            free(m);
            AX_ASYNC_RETURN(&c->co, -EPROTO); /* one producer's messages out of order */
        }
        free(m);
        if (++c->taken % RSS_SAMPLE_EVERY == 0) {
            long kb = rss_kb();
            if (kb > *c->peak_rss_kb)
                *c->peak_rss_kb = kb;
        }
        yield_init(&c->wait.yield); /* one message per turn */
        AX_AWAIT(&c->co, cx, &c->wait.yield.base, c->rc);
    }
    AX_ASYNC_END(&c->co, (ax_result)c->taken);
}

static void consumer_drop(struct ax_future *self)
{
    AX_ASYNC_DROP(&((struct consumer *)self)->co);
}

static const struct ax_future_ops consumer_ops = {.poll = consumer_poll, .drop = consumer_drop};

/* ---- one run ------------------------------------------------------------------------------- */

struct outcome {
    size_t peak_len;
    double peak_mb; /* bytes of messages queued at the peak */
    double rss_growth_mb;
};

static void die(const char *what, int err)
{
    fprintf(stderr, "fan-in: %s: %s\n", what, ax_strerror(err));
    exit(1);
}

static struct outcome run(uint32_t producers, uint32_t messages, size_t bound)
{
    malloc_trim(0); /* start from what is really in use */
    long start_kb = rss_kb(), peak_kb = start_kb;
    struct ax_executor *executor;
    int err = ax_executor_new(&executor, NULL);
    if (err < 0)
        die("executor", err);
    struct queue q = {.bound = bound, .senders = (int)producers};
    ax_list_init(&q.items);
    ax_event_init(&q.room);
    uint32_t *next_seq = calloc(producers, sizeof *next_seq);
    struct consumer *c = ax_task_alloc(executor, sizeof *c);
    if (next_seq == NULL || c == NULL)
        die("setup", -ENOMEM);
    c->base.ops = &consumer_ops;
    c->q = &q;
    c->next_seq = next_seq;
    c->peak_rss_kb = &peak_kb;
    struct ax_task *consumer = ax_task_spawn(&c->base);
    for (uint32_t i = 0; i < producers; i++) {
        struct producer *p = ax_task_alloc(executor, sizeof *p);
        if (p == NULL)
            die("spawn", -ENOMEM);
        p->base.ops = &producer_ops;
        p->q = &q;
        p->id = i;
        p->count = messages;
        ax_task_detach(ax_task_spawn(&p->base));
    }
    ax_result taken = ax_block_on(executor, consumer);
    if (taken < 0)
        die("the consumer", (int)taken);
    if ((uint64_t)taken != (uint64_t)producers * messages)
        die("the consumer lost messages", -EPROTO);
    ax_waker_drop(&q.receiver); /* empty by now; dropping an empty waker does nothing */
    ax_executor_free(executor);
    free(next_seq);
    return (struct outcome){
        .peak_len = q.peak,
        .peak_mb = (double)q.peak * sizeof(struct msg) / 1e6,
        .rss_growth_mb = (double)(peak_kb - start_kb) * 1024 / 1e6,
    };
}

static void print(const char *how, const struct outcome *o, bool tsv, const char *variant)
{
    if (tsv) {
        printf("fanin.peak_queue.%s\t%zu\tmessages\n", variant, o->peak_len);
        printf("fanin.peak_queue_mb.%s\t%.3f\tMB\n", variant, o->peak_mb);
        printf("fanin.rss_growth_mb.%s\t%.3f\tMB\n", variant, o->rss_growth_mb);
        return;
    }
    printf("  %-22s peak queue %9zu messages, %8.2f MB of messages, resident memory +%.1f MB\n",
           how, o->peak_len, o->peak_mb, o->rss_growth_mb);
}

static void usage(FILE *to, int status)
{
    fprintf(to, "usage: fan-in [--producers N] [--messages M] [--bound B] [--tsv]\n"
                "  N producers (1..1000, default 10) each send M messages (1..1000000,\n"
                "  default 100000); --bound B (1..1000000) caps the queue at B\n");
    exit(status);
}

static uint32_t parse(const char *text, uint32_t max)
{
    unsigned long value;
    char extra;
    if (sscanf(text, "%lu%c", &value, &extra) != 1 || value < 1 || value > max)
        usage(stderr, 2);
    return (uint32_t)value;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"producers", required_argument, NULL, 'p'},
        {"messages", required_argument, NULL, 'm'},
        {"bound", required_argument, NULL, 'b'},
        {"tsv", no_argument, NULL, 't'},
        {"help", no_argument, NULL, 'H'},
        {0},
    };
    uint32_t producers = 10, messages = 100000, bound = 0;
    bool tsv = false;
    int opt;
    while ((opt = getopt_long(argc, argv, "p:m:b:t", options, NULL)) != -1) {
        switch (opt) {
        case 'p':
            producers = parse(optarg, 1000);
            break;
        case 'm':
            messages = parse(optarg, 1000000);
            break;
        case 'b':
            bound = parse(optarg, 1000000);
            break;
        case 't':
            tsv = true;
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

    if (tsv) {
        printf("fanin.messages\t%llu\tmessages\n", (unsigned long long)producers * messages);
        printf("fanin.message_bytes\t%zu\tbytes\n", sizeof(struct msg));
    } else {
        printf("%u producers send %u messages each (%zu bytes a message) to one consumer\n",
               producers, messages, sizeof(struct msg));
    }
    if (bound > 0) {
        struct outcome bounded = run(producers, messages, bound);
        print("bounded:", &bounded, tsv, "bounded");
        return 0;
    }
    struct outcome unbounded = run(producers, messages, 0);
    print("unbounded:", &unbounded, tsv, "unbounded");
    struct outcome bounded = run(producers, messages, 64);
    print("bounded at 64:", &bounded, tsv, "bounded");
    return 0;
}
