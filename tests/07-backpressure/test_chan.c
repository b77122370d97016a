/* The bounded channel (ax/chan.h): sends wait while it is full and receives while it is
 * empty; waiting senders are served in order and nobody overtakes them; close lets
 * receivers drain and then says AX_EOF, and refuses new values without taking them; a
 * permit holds a slot; and every wait dropped mid-way, by hand, by an abort or by a
 * timeout, loses nothing and leaves the channel to the next waiter. Time is virtual. */
#include "axtest.h"
#include "by_hand.h"
#include "virtual_time.h"
#include "ax/chan.h"
#include "ax/error.h"
#include "ax/task.h"
#include "ax/timer.h"

#include <errno.h>
#include <stdint.h>

#define MS (1000ull * 1000)
enum { POLLS = 16 };

static struct ax_chan *new_chan(size_t capacity)
{
    struct ax_chan *chan;
    ck_assert_int_eq(ax_chan_new(&chan, capacity, sizeof(uint64_t)), 0);
    return chan;
}

static void fill(struct ax_chan *chan, uint64_t first, size_t n)
{
    for (uint64_t v = first; v < first + n; v++)
        ck_assert_int_eq(ax_chan_try_send(chan, &v), 0);
}

/* The next value, which must be there. */
static uint64_t take(struct ax_chan *chan)
{
    uint64_t v = 0;
    ck_assert_int_eq(ax_chan_try_recv(chan, &v), 0);
    return v;
}

/* A task that runs one channel future and logs its id, its result and the value. */
struct job {
    struct ax_future base;
    union {
        struct ax_future future;
        struct ax_chan_send send;
        struct ax_chan_recv recv;
    } u;
    uint64_t value;
    int id;
    struct record *log;
    int *count;
};

struct record {
    int id;
    ax_result result;
    uint64_t value;
};

static ax_result job_poll(struct ax_future *self, struct ax_context *cx)
{
    struct job *job = (struct job *)self;
    ax_result rc = ax_poll(&job->u.future, cx);
    if (rc != AX_PENDING)
        job->log[(*job->count)++] = (struct record){job->id, rc, job->value};
    return rc == AX_PENDING ? rc : 0;
}

static void job_drop(struct ax_future *self)
{
    ax_future_drop(&((struct job *)self)->u.future);
}

static const struct ax_future_ops job_ops = {.poll = job_poll, .drop = job_drop};

static struct ax_task *spawn_job(struct ax_executor *executor, struct ax_chan *chan, bool send,
                                 uint64_t value, int id, struct record *log, int *count)
{
    struct job *job = ax_task_alloc(executor, sizeof *job);
    ck_assert_ptr_nonnull(job);
    *job = (struct job){.base = {&job_ops}, .value = value, .id = id, .log = log, .count = count};
    if (send)
        ax_chan_send_init(&job->u.send, chan, &job->value);
    else
        ax_chan_recv_init(&job->u.recv, chan, &job->value);
    return ax_task_spawn(&job->base);
}

static ax_result poll_until_done(struct ax_executor *executor, struct ax_future *future)
{
    ax_result rc = AX_PENDING;
    for (int i = 0; i < POLLS && rc == AX_PENDING; i++)
        rc = axt_poll_once(executor, future);
    ck_assert_msg(rc != AX_PENDING, "no answer after %d polls", POLLS);
    return rc;
}

START_TEST(values_come_out_in_the_order_they_went_in_across_the_ring_edge)
{
    struct ax_chan *chan = new_chan(3);
    fill(chan, 1, 3);
    ck_assert_uint_eq(take(chan), 1);
    fill(chan, 4, 1); /* wraps around the end of the ring */
    uint64_t got[3] = {take(chan), take(chan), take(chan)}, want[3] = {2, 3, 4};
    ck_assert_mem_eq(got, want, sizeof want);
    ck_assert_uint_eq(ax_chan_len(chan), 0);
    ax_chan_free(chan);
}
END_TEST

START_TEST(try_send_on_a_full_channel_and_try_recv_on_an_empty_one_say_eagain)
{
    struct ax_chan *chan = new_chan(2);
    uint64_t v = 7;
    ck_assert_int_eq(ax_chan_try_recv(chan, &v), -EAGAIN);
    fill(chan, 0, 2);
    ck_assert_int_eq(ax_chan_try_send(chan, &v), -EAGAIN);
    ck_assert_uint_eq(ax_chan_len(chan), 2);
    ax_chan_free(chan);
}
END_TEST

START_TEST(a_channel_of_no_slots_or_empty_values_is_refused)
{
    struct ax_chan *chan;
    ck_assert_int_eq(ax_chan_new(&chan, 0, 8), -EINVAL);
    ck_assert_int_eq(ax_chan_new(&chan, 8, 0), -EINVAL);
    ck_assert_int_eq(ax_chan_new(&chan, SIZE_MAX / 2, 8), -EINVAL);
}
END_TEST

START_TEST(a_send_waits_while_full_and_completes_once_a_slot_frees)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_chan *chan = new_chan(1);
    fill(chan, 1, 1);
    uint64_t v = 2;
    struct ax_chan_send send;
    ax_chan_send_init(&send, chan, &v);
    ck_assert(axt_poll_once(executor, &send.base) == AX_PENDING);
    ck_assert(axt_poll_once(executor, &send.base) == AX_PENDING);
    ck_assert_uint_eq(take(chan), 1);
    ck_assert_int_eq(axt_poll_once(executor, &send.base), 0);
    ax_future_drop(&send.base);
    ck_assert_uint_eq(take(chan), 2);
    ax_chan_free(chan);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_parked_receiver_is_woken_by_the_first_send_and_gets_that_value)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_chan *chan = new_chan(4);
    struct record log[4];
    int count = 0;
    struct ax_task *receiver = spawn_job(executor, chan, false, 0, 1, log, &count);
    ck_assert_int_eq(ax_executor_run(executor), -EDEADLK);
    ck_assert_int_eq(count, 0);
    fill(chan, 42, 1);
    ck_assert_int_eq(ax_block_on(executor, receiver), 0);
    ck_assert_int_eq(count, 1);
    ck_assert_int_eq(log[0].result, 0);
    ck_assert_uint_eq(log[0].value, 42);
    ax_chan_free(chan);
    ax_executor_free(executor);
}
END_TEST

START_TEST(waiting_senders_get_slots_in_order_and_a_new_sender_cannot_overtake_them)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_chan *chan = new_chan(1);
    fill(chan, 0, 1);
    struct record log[8];
    int count = 0;
    for (int id = 1; id <= 3; id++)
        ax_task_detach(spawn_job(executor, chan, true, (uint64_t)id, id, log, &count));
    ck_assert_int_eq(ax_executor_run(executor), -EDEADLK); /* all three wait */
    ck_assert_uint_eq(take(chan), 0); /* frees the slot: handed to sender 1 */
    uint64_t late = 99;
    ck_assert_int_eq(ax_chan_try_send(chan, &late), -EAGAIN); /* no overtaking */
    uint64_t got[3];
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(ax_executor_run(executor), i < 2 ? -EDEADLK : 0);
        got[i] = take(chan);
    }
    uint64_t want[3] = {1, 2, 3};
    ck_assert_mem_eq(got, want, sizeof want);
    ck_assert_int_eq(count, 3);
    ck_assert_int_eq(ax_chan_try_send(chan, &late), 0); /* the line is empty now */
    ax_chan_free(chan);
    ax_executor_free(executor);
}
END_TEST

START_TEST(receivers_drain_a_closed_channel_and_then_see_eof)
{
    struct ax_chan *chan = new_chan(4);
    fill(chan, 1, 2);
    ax_chan_close(chan);
    ck_assert(ax_chan_closed(chan));
    ck_assert_uint_eq(take(chan), 1);
    ck_assert_uint_eq(take(chan), 2);
    uint64_t v;
    ck_assert_int_eq(ax_chan_try_recv(chan, &v), AX_EOF);
    ck_assert_int_eq(ax_chan_try_recv(chan, &v), AX_EOF); /* and stays at the end */
    ax_chan_free(chan);
}
END_TEST

START_TEST(close_wakes_parked_receivers_with_eof)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_chan *chan = new_chan(2);
    struct record log[4];
    int count = 0;
    for (int id = 1; id <= 2; id++)
        ax_task_detach(spawn_job(executor, chan, false, 0, id, log, &count));
    ck_assert_int_eq(ax_executor_run(executor), -EDEADLK);
    ax_chan_close(chan);
    ck_assert_int_eq(ax_executor_run(executor), 0);
    ck_assert_int_eq(count, 2);
    ck_assert_int_eq(log[0].result, AX_EOF);
    ck_assert_int_eq(log[1].result, AX_EOF);
    ax_chan_free(chan);
    ax_executor_free(executor);
}
END_TEST

START_TEST(sending_to_a_closed_channel_fails_with_epipe_and_takes_nothing)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_chan *chan = new_chan(1);
    fill(chan, 1, 1);
    struct record log[4];
    int count = 0;
    ax_task_detach(spawn_job(executor, chan, true, 2, 2, log, &count)); /* waits: full */
    ck_assert_int_eq(ax_executor_run(executor), -EDEADLK);
    ax_chan_close(chan);
    ck_assert_int_eq(ax_executor_run(executor), 0);
    ck_assert_int_eq(count, 1);
    ck_assert_int_eq(log[0].result, -EPIPE);
    ck_assert_uint_eq(log[0].value, 2); /* still the sender's */
    uint64_t v = 3;
    ck_assert_int_eq(ax_chan_try_send(chan, &v), -EPIPE);
    struct ax_chan_send send;
    ax_chan_send_init(&send, chan, &v);
    ck_assert_int_eq(axt_poll_once(executor, &send.base), -EPIPE);
    ax_future_drop(&send.base);
    ck_assert_uint_eq(ax_chan_len(chan), 1); /* only the value sent before the close */
    ck_assert_uint_eq(take(chan), 1);
    ck_assert_int_eq(ax_chan_try_recv(chan, &v), AX_EOF);
    ax_chan_free(chan);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_permit_released_unused_gives_its_slot_back)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_chan *chan = new_chan(1);
    struct ax_chan_reserve reserve;
    ax_chan_reserve_init(&reserve, chan);
    ck_assert_int_eq(axt_poll_once(executor, &reserve.base), 0);
    ax_future_drop(&reserve.base);
    uint64_t v = 5;
    ck_assert_int_eq(ax_chan_try_send(chan, &v), -EAGAIN); /* the permit holds the slot */
    ck_assert_uint_eq(ax_chan_len(chan), 0);
    ax_chan_permit_release(&reserve.permit);
    ax_chan_permit_release(&reserve.permit); /* twice: the second does nothing */
    ck_assert_int_eq(ax_chan_try_send(chan, &v), 0);
    ck_assert_int_eq(ax_chan_try_send(chan, &v), -EAGAIN);
    ax_chan_free(chan);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_reserve_dropped_after_it_was_handed_a_slot_gives_the_slot_back)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_chan *chan = new_chan(1);
    fill(chan, 1, 1);
    struct ax_chan_reserve reserve;
    ax_chan_reserve_init(&reserve, chan);
    ck_assert(axt_poll_once(executor, &reserve.base) == AX_PENDING);
    ck_assert_uint_eq(take(chan), 1); /* the freed slot is handed to the reserve */
    uint64_t v = 2;
    ck_assert_int_eq(ax_chan_try_send(chan, &v), -EAGAIN);
    ax_future_drop(&reserve.base); /* never polled again: it gives the slot back */
    ck_assert_ptr_null(reserve.permit.chan);
    ck_assert_int_eq(ax_chan_try_send(chan, &v), 0);
    ck_assert_uint_eq(take(chan), 2);
    ax_chan_free(chan);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_permit_released_while_a_sender_waits_goes_to_that_sender)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_chan *chan = new_chan(1);
    struct ax_chan_permit permit;
    ck_assert_int_eq(ax_chan_try_reserve(chan, &permit), 0);
    uint64_t v = 8;
    struct ax_chan_send send;
    ax_chan_send_init(&send, chan, &v);
    ck_assert(axt_poll_once(executor, &send.base) == AX_PENDING);
    ax_chan_permit_release(&permit);
    ck_assert_int_eq(ax_chan_try_send(chan, &v), -EAGAIN); /* handed on, not freed */
    ck_assert_int_eq(axt_poll_once(executor, &send.base), 0);
    ax_future_drop(&send.base);
    ck_assert_uint_eq(take(chan), 8);
    ax_chan_free(chan);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_permit_sends_after_a_close_and_receivers_get_its_value_before_eof)
{
    struct ax_chan *chan = new_chan(2);
    struct ax_chan_permit permit;
    ck_assert_int_eq(ax_chan_try_reserve(chan, &permit), 0);
    ax_chan_close(chan);
    uint64_t v;
    ck_assert_int_eq(ax_chan_try_recv(chan, &v), -EAGAIN); /* a value is still promised */
    v = 11;
    ax_chan_permit_send(&permit, &v);
    ck_assert_uint_eq(take(chan), 11);
    ck_assert_int_eq(ax_chan_try_recv(chan, &v), AX_EOF);
    ck_assert_int_eq(ax_chan_try_reserve(chan, &permit), -EPIPE);
    ax_chan_free(chan);
}
END_TEST

START_TEST(a_permit_released_after_a_close_wakes_receivers_with_eof)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_chan *chan = new_chan(2);
    struct ax_chan_permit permit;
    ck_assert_int_eq(ax_chan_try_reserve(chan, &permit), 0);
    struct record log[2];
    int count = 0;
    ax_task_detach(spawn_job(executor, chan, false, 0, 1, log, &count));
    ax_chan_close(chan);
    ck_assert_int_eq(ax_executor_run(executor), -EDEADLK); /* waits for the promised value */
    ax_chan_permit_release(&permit);
    ck_assert_int_eq(ax_executor_run(executor), 0);
    ck_assert_int_eq(count, 1);
    ck_assert_int_eq(log[0].result, AX_EOF);
    ax_chan_free(chan);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_sender_dropped_while_waiting_loses_nothing_and_the_next_sender_proceeds)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_chan *chan = new_chan(1);
    fill(chan, 1, 1);
    uint64_t a = 2, b = 3;
    struct ax_chan_send first, second;
    ax_chan_send_init(&first, chan, &a);
    ax_chan_send_init(&second, chan, &b);
    ck_assert(axt_poll_once(executor, &first.base) == AX_PENDING);
    ck_assert(axt_poll_once(executor, &second.base) == AX_PENDING);
    ax_future_drop(&first.base); /* the caller still has a: nothing was copied */
    ck_assert_uint_eq(take(chan), 1);
    ck_assert_int_eq(axt_poll_once(executor, &second.base), 0);
    ax_future_drop(&second.base);
    ck_assert_uint_eq(take(chan), 3);
    ck_assert_uint_eq(ax_chan_len(chan), 0);
    ck_assert_int_eq(ax_chan_try_send(chan, &a), 0); /* the dropped one left no trace */
    ax_chan_free(chan);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_sender_dropped_after_it_was_handed_a_slot_hands_the_slot_to_the_next)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_chan *chan = new_chan(1);
    fill(chan, 1, 1);
    struct record log[4];
    int count = 0;
    struct ax_task *first = spawn_job(executor, chan, true, 2, 1, log, &count);
    ax_task_detach(spawn_job(executor, chan, true, 3, 2, log, &count));
    ck_assert_int_eq(ax_executor_run(executor), -EDEADLK);
    ck_assert_uint_eq(take(chan), 1); /* the slot goes to the first sender, which is queued */
    ax_task_abort(first); /* dropped at its turn, before it sends */
    ax_task_detach(first);
    ck_assert_int_eq(ax_executor_run(executor), 0);
    ck_assert_int_eq(count, 1);
    ck_assert_int_eq(log[0].id, 2);
    ck_assert_int_eq(log[0].result, 0);
    ck_assert_uint_eq(take(chan), 3);
    ax_chan_free(chan);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_receiver_dropped_while_waiting_takes_nothing)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_chan *chan = new_chan(2);
    uint64_t out = 0;
    struct ax_chan_recv recv;
    ax_chan_recv_init(&recv, chan, &out);
    ck_assert(axt_poll_once(executor, &recv.base) == AX_PENDING);
    ax_future_drop(&recv.base);
    fill(chan, 21, 1);
    ck_assert_uint_eq(out, 0);
    struct ax_chan_recv next;
    ax_chan_recv_init(&next, chan, &out);
    ck_assert_int_eq(poll_until_done(executor, &next.base), 0);
    ax_future_drop(&next.base);
    ck_assert_uint_eq(out, 21);
    ax_chan_free(chan);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_receiver_dropped_after_it_was_woken_passes_the_wake_to_the_next)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_chan *chan = new_chan(2);
    struct record log[4];
    int count = 0;
    struct ax_task *first = spawn_job(executor, chan, false, 0, 1, log, &count);
    struct ax_task *second = spawn_job(executor, chan, false, 0, 2, log, &count);
    ck_assert_int_eq(ax_executor_run(executor), -EDEADLK);
    fill(chan, 5, 1); /* wakes the first receiver only */
    ax_task_abort(first); /* queued: dropped at its turn, never polled */
    ax_task_detach(first);
    ck_assert_int_eq(ax_block_on(executor, second), 0);
    ck_assert_int_eq(count, 1);
    ck_assert_int_eq(log[0].id, 2);
    ck_assert_uint_eq(log[0].value, 5);
    ax_chan_free(chan);
    ax_executor_free(executor);
}
END_TEST

/* A task that sends or receives under a deadline (ax_timeout, chapter 05). */
struct timed {
    struct ax_future base;
    struct ax_timeout timeout;
    union {
        struct ax_chan_send send;
        struct ax_chan_recv recv;
    } u;
    uint64_t value;
};

static ax_result timed_poll(struct ax_future *self, struct ax_context *cx)
{
    return ax_poll(&((struct timed *)self)->timeout.base, cx);
}

static void timed_drop(struct ax_future *self)
{
    ax_future_drop(&((struct timed *)self)->timeout.base);
}

static const struct ax_future_ops timed_ops = {.poll = timed_poll, .drop = timed_drop};

static ax_result run_timed(struct ax_executor *executor, struct ax_chan *chan, bool send,
                           uint64_t value)
{
    struct timed *t = ax_task_alloc(executor, sizeof *t);
    ck_assert_ptr_nonnull(t);
    *t = (struct timed){.base = {&timed_ops}, .value = value};
    struct ax_future *inner = &t->u.send.base;
    if (send)
        ax_chan_send_init(&t->u.send, chan, &t->value);
    else
        ax_chan_recv_init(&t->u.recv, chan, &t->value), inner = &t->u.recv.base;
    ax_timeout_init(&t->timeout, inner, ax_executor_now(executor) + 10 * MS);
    return ax_block_on(executor, ax_task_spawn(&t->base));
}

START_TEST(a_send_with_a_deadline_on_a_full_channel_times_out_and_takes_nothing)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_chan *chan = new_chan(1);
    fill(chan, 1, 1);
    ck_assert_int_eq(run_timed(executor, chan, true, 2), -ETIMEDOUT);
    ck_assert_uint_eq(ax_chan_len(chan), 1);
    ck_assert_uint_eq(take(chan), 1);
    fill(chan, 3, 1); /* the timed-out sender is out of the line */
    ck_assert_int_eq(run_timed(executor, chan, false, 0), 0);
    ax_chan_free(chan);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_recv_with_a_deadline_on_an_empty_channel_times_out_and_takes_nothing)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_chan *chan = new_chan(1);
    ck_assert_int_eq(run_timed(executor, chan, false, 0), -ETIMEDOUT);
    fill(chan, 4, 1);
    ck_assert_uint_eq(take(chan), 4); /* nobody left waiting to take it */
    ax_chan_free(chan);
    ax_executor_free(executor);
}
END_TEST

/* Producers and consumers: each producer sends its own numbers in order, each consumer
 * adds what it gets; the sums and the per-producer order prove nothing was lost,
 * duplicated or reordered. */
enum { PRODUCERS = 3, CONSUMERS = 2, PER_PRODUCER = 1000 };

struct producer {
    struct ax_future base;
    struct ax_chan_send send;
    struct ax_chan *chan;
    uint64_t next, end, value;
    bool sending;
};

static ax_result producer_poll(struct ax_future *self, struct ax_context *cx)
{
    struct producer *p = (struct producer *)self;
    for (;;) {
        if (!p->sending) {
            if (p->next == p->end)
                return 0;
            p->value = p->next;
            ax_chan_send_init(&p->send, p->chan, &p->value);
            p->sending = true;
        }
        ax_result rc = ax_poll(&p->send.base, cx);
        if (rc == AX_PENDING)
            return rc;
        ax_future_drop(&p->send.base);
        p->sending = false;
        if (rc < 0)
            return rc;
        p->next++;
    }
}

static void producer_drop(struct ax_future *self)
{
    struct producer *p = (struct producer *)self;
    if (p->sending)
        ax_future_drop(&p->send.base);
}

static const struct ax_future_ops producer_ops = {.poll = producer_poll, .drop = producer_drop};

struct tally {
    uint64_t sum, count, last[PRODUCERS];
    bool in_order;
};

struct consumer {
    struct ax_future base;
    struct ax_chan_recv recv;
    struct ax_chan *chan;
    uint64_t value;
    bool receiving;
    struct tally *tally; /* the test's: the task's memory goes when it ends */
};

static ax_result consumer_poll(struct ax_future *self, struct ax_context *cx)
{
    struct consumer *c = (struct consumer *)self;
    for (;;) {
        if (!c->receiving) {
            ax_chan_recv_init(&c->recv, c->chan, &c->value);
            c->receiving = true;
        }
        ax_result rc = ax_poll(&c->recv.base, cx);
        if (rc == AX_PENDING)
            return rc;
        ax_future_drop(&c->recv.base);
        c->receiving = false;
        if (rc == AX_EOF)
            return 0;
        struct tally *t = c->tally;
        uint64_t producer = c->value / PER_PRODUCER;
        t->in_order &= c->value + 1 > t->last[producer];
        t->last[producer] = c->value + 1;
        t->sum += c->value;
        t->count++;
    }
}

static void consumer_drop(struct ax_future *self)
{
    struct consumer *c = (struct consumer *)self;
    if (c->receiving)
        ax_future_drop(&c->recv.base);
}

static const struct ax_future_ops consumer_ops = {.poll = consumer_poll, .drop = consumer_drop};

START_TEST(many_producers_and_consumers_through_a_small_channel_lose_and_reorder_nothing)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_chan *chan = new_chan(4);
    struct ax_task *producers[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++) {
        struct producer *p = ax_task_alloc(executor, sizeof *p);
        ck_assert_ptr_nonnull(p);
        *p = (struct producer){.base = {&producer_ops},
                               .chan = chan,
                               .next = (uint64_t)i * PER_PRODUCER,
                               .end = (uint64_t)(i + 1) * PER_PRODUCER};
        producers[i] = ax_task_spawn(&p->base);
    }
    struct tally tallies[CONSUMERS] = {0};
    for (int i = 0; i < CONSUMERS; i++) {
        struct consumer *c = ax_task_alloc(executor, sizeof *c);
        ck_assert_ptr_nonnull(c);
        *c = (struct consumer){.base = {&consumer_ops}, .chan = chan, .tally = &tallies[i]};
        tallies[i].in_order = true;
        ax_task_detach(ax_task_spawn(&c->base));
    }
    for (int i = 0; i < PRODUCERS; i++)
        ck_assert_int_eq(ax_block_on(executor, producers[i]), 0);
    ax_chan_close(chan);
    uint64_t sum = 0, count = 0, n = PRODUCERS * PER_PRODUCER;
    bool in_order = true;
    ck_assert_int_eq(ax_executor_run(executor), 0); /* the consumers see the end */
    for (int i = 0; i < CONSUMERS; i++) {
        sum += tallies[i].sum;
        count += tallies[i].count;
        in_order &= tallies[i].in_order;
        ck_assert_msg(tallies[i].count > 0, "consumer %d got nothing: the other took all", i);
    }
    ck_assert_uint_eq(count, n);
    ck_assert_uint_eq(sum, n * (n - 1) / 2);
    ck_assert_msg(in_order, "a producer's values arrived out of order");
    ax_chan_free(chan);
    ax_executor_free(executor);
}
END_TEST

static Suite *chan_suite(void)
{
    Suite *s = suite_create("chan");
    TCase *tc = axt_tcase("chan");
    tcase_add_test(tc, values_come_out_in_the_order_they_went_in_across_the_ring_edge);
    tcase_add_test(tc, try_send_on_a_full_channel_and_try_recv_on_an_empty_one_say_eagain);
    tcase_add_test(tc, a_channel_of_no_slots_or_empty_values_is_refused);
    tcase_add_test(tc, a_send_waits_while_full_and_completes_once_a_slot_frees);
    tcase_add_test(tc, a_parked_receiver_is_woken_by_the_first_send_and_gets_that_value);
    tcase_add_test(tc, waiting_senders_get_slots_in_order_and_a_new_sender_cannot_overtake_them);
    tcase_add_test(tc, receivers_drain_a_closed_channel_and_then_see_eof);
    tcase_add_test(tc, close_wakes_parked_receivers_with_eof);
    tcase_add_test(tc, sending_to_a_closed_channel_fails_with_epipe_and_takes_nothing);
    tcase_add_test(tc, a_permit_released_unused_gives_its_slot_back);
    tcase_add_test(tc, a_reserve_dropped_after_it_was_handed_a_slot_gives_the_slot_back);
    tcase_add_test(tc, a_permit_released_while_a_sender_waits_goes_to_that_sender);
    tcase_add_test(tc, a_permit_sends_after_a_close_and_receivers_get_its_value_before_eof);
    tcase_add_test(tc, a_permit_released_after_a_close_wakes_receivers_with_eof);
    tcase_add_test(tc, a_sender_dropped_while_waiting_loses_nothing_and_the_next_sender_proceeds);
    tcase_add_test(tc, a_sender_dropped_after_it_was_handed_a_slot_hands_the_slot_to_the_next);
    tcase_add_test(tc, a_receiver_dropped_while_waiting_takes_nothing);
    tcase_add_test(tc, a_receiver_dropped_after_it_was_woken_passes_the_wake_to_the_next);
    tcase_add_test(tc, a_send_with_a_deadline_on_a_full_channel_times_out_and_takes_nothing);
    tcase_add_test(tc, a_recv_with_a_deadline_on_an_empty_channel_times_out_and_takes_nothing);
    tcase_add_test(tc,
                   many_producers_and_consumers_through_a_small_channel_lose_and_reorder_nothing);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(chan_suite)
