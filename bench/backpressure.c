//@ 07
/*
 * backpressure: what chapter 07's primitives cost when nobody has to wait long.
 *
 *     chan.msgs_per_s   MESSAGES u64 values from one task to another on one executor,
 *                       through a channel of CAPACITY slots: messages per second, from
 *                       spawning both tasks to the receiver seeing the end (the median
 *                       of ROUNDS runs)
 *     sem.acquire_ns    one task acquiring a permit of a free semaphore (an acquire
 *                       future, awaited) and releasing it, ROUND_TRIPS times: ns per
 *                       round trip (the median of ROUNDS runs)
 *     mutex.lock_ns     the same for an async mutex: lock, awaited, then unlock
 *
 * tools/bench-peers sets chan.msgs_per_s and sem.acquire_ns beside tokio's mpsc channel
 * and Semaphore, measured the same way (bench/peers/tokio/src/bin/tokio-chan.rs). Both
 * sides are written as a reader would write them: tasks awaiting futures, one message a
 * send. The channel's speed comes from waking a task only when it is parked: the
 * receiver sleeps while the channel is empty and drains it when woken, the sender sleeps
 * while it is full, and each yields after a cooperative budget's worth (AX_COOP_BUDGET),
 * so the two switch once per batch of up to 128 messages, not once per message.
 */
#include "bench.h"
#include "ax/async.h"
#include "ax/chan.h"
#include "ax/mutex.h"
#include "ax/sem.h"
#include "ax/task.h"

enum { MESSAGES = 1000000, CAPACITY = 1024, ROUND_TRIPS = 1000000, ROUNDS = 5 };

/* ---- channel ------------------------------------------------------------------------------ */

/* Sends 0, 1, ..., MESSAGES - 1, then closes the channel. */
struct producer {
    struct ax_future base;
    struct ax_coroutine co;
    struct ax_chan *chan;
    uint64_t next;
    ax_result got;
    struct ax_chan_send send;
};

static ax_result producer_poll(struct ax_future *self, struct ax_context *cx)
{
    struct producer *p = (struct producer *)self;
    AX_ASYNC_BEGIN(&p->co);
    for (; p->next < MESSAGES; p->next++) {
        ax_chan_send_init(&p->send, p->chan, &p->next);
        AX_AWAIT(&p->co, cx, &p->send.base, p->got);
        if (p->got < 0)
            AX_ASYNC_RETURN(&p->co, p->got);
    }
    ax_chan_close(p->chan);
    AX_ASYNC_END(&p->co, 0);
}

static void producer_drop(struct ax_future *self)
{
    AX_ASYNC_DROP(&((struct producer *)self)->co);
}

static const struct ax_future_ops producer_ops = {.poll = producer_poll, .drop = producer_drop};

/* Receives until the end and checks that every value came, in order. */
struct consumer {
    struct ax_future base;
    struct ax_coroutine co;
    struct ax_chan *chan;
    uint64_t value, expected;
    ax_result got;
    struct ax_chan_recv recv;
};

static ax_result consumer_poll(struct ax_future *self, struct ax_context *cx)
{
    struct consumer *c = (struct consumer *)self;
    AX_ASYNC_BEGIN(&c->co);
    for (;;) {
        ax_chan_recv_init(&c->recv, c->chan, &c->value);
        AX_AWAIT(&c->co, cx, &c->recv.base, c->got);
        if (c->got == AX_EOF)
            break;
        if (c->value != c->expected++)
            AX_ASYNC_RETURN(&c->co, -EPROTO);
    }
    AX_ASYNC_END(&c->co, c->expected == MESSAGES ? 0 : -EPROTO);
}

static void consumer_drop(struct ax_future *self)
{
    AX_ASYNC_DROP(&((struct consumer *)self)->co);
}

static const struct ax_future_ops consumer_ops = {.poll = consumer_poll, .drop = consumer_drop};

static double chan_msgs_per_s(void)
{
    struct ax_executor *executor = bench_executor_new();
    struct ax_chan *chan;
    int err = ax_chan_new(&chan, CAPACITY, sizeof(uint64_t));
    if (err < 0)
        bench_fail("channel: %s", ax_strerror(err));
    uint64_t start = ax_now_ns();
    struct producer *p = bench_task_alloc(executor, sizeof *p);
    *p = (struct producer){.base = {&producer_ops}, .chan = chan};
    struct consumer *c = bench_task_alloc(executor, sizeof *c);
    *c = (struct consumer){.base = {&consumer_ops}, .chan = chan};
    struct ax_task *sender = ax_task_spawn(&p->base), *receiver = ax_task_spawn(&c->base);
    ax_result sent = ax_block_on(executor, sender);
    ax_result received = ax_block_on(executor, receiver);
    uint64_t end = ax_now_ns();
    if (sent < 0 || received < 0)
        bench_fail("channel: sending %s, receiving %s", ax_strerror((int)sent),
                   ax_strerror((int)received));
    ax_executor_free(executor);
    ax_chan_free(chan);
    return MESSAGES / ((double)(end - start) / AX_NS_PER_S);
}

/* ---- semaphore and mutex ------------------------------------------------------------------ */

/* Acquires one permit and gives it back (or locks and unlocks), ROUND_TRIPS times. */
struct cycler {
    struct ax_future base;
    struct ax_coroutine co;
    struct ax_sem *sem;
    struct ax_mutex *mutex;
    long done;
    ax_result got;
    union {
        struct ax_sem_acquire acquire;
        struct ax_mutex_lock lock;
    } u;
};

static ax_result cycler_poll(struct ax_future *self, struct ax_context *cx)
{
    struct cycler *c = (struct cycler *)self;
    AX_ASYNC_BEGIN(&c->co);
    for (; c->done < ROUND_TRIPS; c->done++) {
        if (c->sem != NULL) {
            ax_sem_acquire_init(&c->u.acquire, c->sem, 1);
            AX_AWAIT(&c->co, cx, &c->u.acquire.base, c->got);
            ax_sem_release(c->sem, 1);
        } else {
            ax_mutex_lock_init(&c->u.lock, c->mutex);
            AX_AWAIT(&c->co, cx, &c->u.lock.base, c->got);
            ax_mutex_unlock(c->mutex);
        }
    }
    AX_ASYNC_END(&c->co, 0);
}

static void cycler_drop(struct ax_future *self)
{
    AX_ASYNC_DROP(&((struct cycler *)self)->co);
}

static const struct ax_future_ops cycler_ops = {.poll = cycler_poll, .drop = cycler_drop};

static double round_trip_ns(struct ax_sem *sem, struct ax_mutex *mutex)
{
    struct ax_executor *executor = bench_executor_new();
    struct cycler *c = bench_task_alloc(executor, sizeof *c);
    *c = (struct cycler){.base = {&cycler_ops}, .sem = sem, .mutex = mutex};
    uint64_t start = ax_now_ns();
    ax_result rc = ax_block_on(executor, ax_task_spawn(&c->base));
    uint64_t end = ax_now_ns();
    if (rc < 0)
        bench_fail("acquire and release: %s", ax_strerror((int)rc));
    ax_executor_free(executor);
    return (double)(end - start) / ROUND_TRIPS;
}

int main(int argc, char **argv)
{
    bench_args(argc, argv,
               "what chapter 07's primitives cost: channel messages per second between two "
               "tasks, an uncontended semaphore acquire and mutex lock");
    double msgs[ROUNDS], acquire[ROUNDS], lock[ROUNDS];
    for (int i = 0; i < ROUNDS; i++) {
        struct ax_sem sem;
        ax_sem_init(&sem, 1);
        struct ax_mutex mutex;
        ax_mutex_init(&mutex);
        msgs[i] = chan_msgs_per_s();
        acquire[i] = round_trip_ns(&sem, NULL);
        lock[i] = round_trip_ns(NULL, &mutex);
    }
    bench_report("chan.msgs_per_s", bench_median(msgs, ROUNDS), "msg/s");
    bench_report("sem.acquire_ns", bench_median(acquire, ROUNDS), "ns");
    bench_report("mutex.lock_ns", bench_median(lock, ROUNDS), "ns");
    return 0;
}
