/* Exercise 07-challenge-priority-channel: high values are taken first, the reserved
 * slots take only high values, freed slots go to waiting high senders before low ones
 * and to senders of a class in the order they came, a woken receiver that is dropped
 * passes its wake on, a dropped sender sends nothing, and close fails the senders while
 * the receivers drain.
 *
 * Senders and receivers that must wait run as tasks of their own; the tests run the
 * executor a turn at a time (axt_run_turn), or to the end on virtual time for the flood. */
#include "axtest.h"
#include "prio_chan.h"
#include "virtual_time.h"

#include "ax/error.h"
#include "ax/task.h"
#include "ax/timer.h"

#include <errno.h>

#define MS (1000ull * 1000)

static struct prio_chan *chan_new(size_t capacity, size_t reserved)
{
    static struct prio_chan c;
    ck_assert_int_eq(prio_chan_init(&c, capacity, reserved), 0);
    return &c;
}

/* Receives at once, and checks what: one value and its class. */
static void expect(struct prio_chan *c, uint64_t value, enum prio prio)
{
    uint64_t got = 0;
    enum prio got_prio = PRIO_CLASSES;
    int rc = prio_chan_try_recv(c, &got, &got_prio);
    ck_assert_msg(rc == 0 && got == value && got_prio == prio,
                  "expected %llu (%s), got rc %d, %llu (%s)", (unsigned long long)value,
                  prio == PRIO_HIGH ? "high" : "low", rc, (unsigned long long)got,
                  got_prio == PRIO_HIGH  ? "high"
                  : got_prio == PRIO_LOW ? "low"
                                         : "none");
}

/* ---- a send or a receive in a task of its own ---------------------------------------- */

struct outcome {
    ax_result result; /* AX_PENDING until it finished */
    uint64_t value; /* a receive's */
    enum prio prio;
    int drops;
};

struct sender {
    struct ax_future base;
    struct prio_chan_send send;
    struct outcome *outcome;
};

static ax_result sender_poll(struct ax_future *self, struct ax_context *cx)
{
    struct sender *s = (struct sender *)self;
    ax_result rc = ax_poll(&s->send.base, cx);
    if (rc != AX_PENDING)
        s->outcome->result = rc;
    return rc == AX_PENDING ? rc : 0;
}

static void sender_drop(struct ax_future *self)
{
    struct sender *s = (struct sender *)self;
    ax_future_drop(&s->send.base);
    s->outcome->drops++;
}

static const struct ax_future_ops sender_ops = {.poll = sender_poll, .drop = sender_drop};

static struct ax_task *start_send(struct ax_executor *executor, struct prio_chan *c, enum prio prio,
                                  uint64_t value, struct outcome *o)
{
    struct sender *s = ax_task_alloc(executor, sizeof *s);
    ck_assert_ptr_nonnull(s);
    *s = (struct sender){.base = {&sender_ops}, .outcome = o};
    prio_chan_send_init(&s->send, c, prio, value);
    *o = (struct outcome){.result = AX_PENDING};
    return ax_task_spawn(&s->base);
}

struct receiver {
    struct ax_future base;
    struct prio_chan_recv recv;
    struct outcome *outcome;
};

static ax_result receiver_poll(struct ax_future *self, struct ax_context *cx)
{
    struct receiver *r = (struct receiver *)self;
    ax_result rc = ax_poll(&r->recv.base, cx);
    if (rc != AX_PENDING)
        r->outcome->result = rc;
    return rc == AX_PENDING ? rc : 0;
}

static void receiver_drop(struct ax_future *self)
{
    struct receiver *r = (struct receiver *)self;
    ax_future_drop(&r->recv.base);
    r->outcome->drops++;
}

static const struct ax_future_ops receiver_ops = {.poll = receiver_poll, .drop = receiver_drop};

static struct ax_task *start_recv(struct ax_executor *executor, struct prio_chan *c,
                                  struct outcome *o)
{
    struct receiver *r = ax_task_alloc(executor, sizeof *r);
    ck_assert_ptr_nonnull(r);
    *r = (struct receiver){.base = {&receiver_ops}, .outcome = o};
    *o = (struct outcome){.result = AX_PENDING};
    prio_chan_recv_init(&r->recv, c, &o->value, &o->prio);
    return ax_task_spawn(&r->base);
}

/* ---- the tests ----------------------------------------------------------------------- */

START_TEST(high_values_are_received_before_low_ones_sent_earlier)
{
    struct prio_chan *c = chan_new(8, 2);
    for (uint64_t v = 1; v <= 3; v++)
        ck_assert_int_eq(prio_chan_try_send(c, PRIO_LOW, v), 0);
    ck_assert_int_eq(prio_chan_try_send(c, PRIO_HIGH, 10), 0);
    ck_assert_int_eq(prio_chan_try_send(c, PRIO_HIGH, 11), 0);
    ck_assert_uint_eq(prio_chan_len(c, PRIO_HIGH), 2);
    ck_assert_uint_eq(prio_chan_len(c, PRIO_LOW), 3);
    expect(c, 10, PRIO_HIGH);
    expect(c, 11, PRIO_HIGH);
    expect(c, 1, PRIO_LOW);
    expect(c, 2, PRIO_LOW);
    ck_assert_int_eq(prio_chan_try_send(c, PRIO_HIGH, 12), 0);
    expect(c, 12, PRIO_HIGH);
    expect(c, 3, PRIO_LOW);
    uint64_t v;
    ck_assert_int_eq(prio_chan_try_recv(c, &v, NULL), -EAGAIN);
    prio_chan_destroy(c);
}
END_TEST

START_TEST(the_reserved_slots_take_only_high_values)
{
    struct prio_chan *c = chan_new(4, 1);
    for (uint64_t v = 1; v <= 3; v++)
        ck_assert_int_eq(prio_chan_try_send(c, PRIO_LOW, v), 0);
    ck_assert_msg(prio_chan_try_send(c, PRIO_LOW, 4) == -EAGAIN,
                  "a low value took the slot reserved for high ones");
    ck_assert_int_eq(prio_chan_try_send(c, PRIO_HIGH, 9), 0);
    ck_assert_int_eq(prio_chan_try_send(c, PRIO_HIGH, 10), -EAGAIN); /* full */
    expect(c, 9, PRIO_HIGH);
    ck_assert_int_eq(prio_chan_try_send(c, PRIO_LOW, 4), -EAGAIN); /* still 3 low: their share */
    expect(c, 1, PRIO_LOW);
    ck_assert_int_eq(prio_chan_try_send(c, PRIO_LOW, 4), 0);
    prio_chan_destroy(c);
}
END_TEST

START_TEST(a_freed_slot_goes_to_a_waiting_high_sender_first)
{
    struct ax_executor *executor = axt_paused_executor();
    struct prio_chan *c = chan_new(2, 0);
    ck_assert_int_eq(prio_chan_try_send(c, PRIO_LOW, 1), 0);
    ck_assert_int_eq(prio_chan_try_send(c, PRIO_LOW, 2), 0);
    struct outcome low, high;
    ax_task_detach(start_send(executor, c, PRIO_LOW, 100, &low));
    axt_run_turn(executor);
    ax_task_detach(start_send(executor, c, PRIO_HIGH, 200, &high));
    axt_run_turn(executor);
    ck_assert_msg(low.result == AX_PENDING && high.result == AX_PENDING,
                  "a send to a full channel finished");
    expect(c, 1, PRIO_LOW); /* the slot goes to the high sender, who came second */
    ck_assert_uint_eq(prio_chan_len(c, PRIO_HIGH), 1);
    expect(c, 200, PRIO_HIGH);
    expect(c, 2, PRIO_LOW);
    expect(c, 100, PRIO_LOW);
    ck_assert_int_eq(ax_executor_run(executor), 0);
    ck_assert_int_eq(low.result, 0);
    ck_assert_int_eq(high.result, 0);
    ax_executor_free(executor);
    prio_chan_destroy(c);
}
END_TEST

START_TEST(waiting_senders_of_a_class_are_served_in_order_and_not_overtaken)
{
    enum { SENDERS = 5 };
    struct ax_executor *executor = axt_paused_executor();
    struct prio_chan *c = chan_new(1, 0);
    ck_assert_int_eq(prio_chan_try_send(c, PRIO_LOW, 0), 0);
    struct outcome o[SENDERS];
    for (int i = 0; i < SENDERS; i++)
        ax_task_detach(start_send(executor, c, PRIO_LOW, (uint64_t)i + 1, &o[i]));
    axt_run_turn(executor);
    for (uint64_t v = 0; v <= SENDERS; v++) {
        expect(c, v, PRIO_LOW);
        if (v < SENDERS)
            ck_assert_msg(prio_chan_try_send(c, PRIO_LOW, 99) == -EAGAIN,
                          "a new sender took the slot freed for a waiting one");
        axt_run_turn(executor);
    }
    for (int i = 0; i < SENDERS; i++)
        ck_assert_int_eq(o[i].result, 0);
    ck_assert_int_eq(ax_executor_run(executor), 0);
    ax_executor_free(executor);
    prio_chan_destroy(c);
}
END_TEST

START_TEST(a_waiting_receiver_gets_the_next_value)
{
    struct ax_executor *executor = axt_paused_executor();
    struct prio_chan *c = chan_new(2, 0);
    struct outcome r;
    ax_task_detach(start_recv(executor, c, &r));
    axt_run_turn(executor);
    ck_assert_int_eq(r.result, AX_PENDING);
    ck_assert_int_eq(prio_chan_try_send(c, PRIO_HIGH, 42), 0);
    ck_assert_int_eq(ax_executor_run(executor), 0);
    ck_assert_msg(r.result == 0 && r.value == 42 && r.prio == PRIO_HIGH,
                  "the receiver got rc %lld, value %llu", (long long)r.result,
                  (unsigned long long)r.value);
    ax_executor_free(executor);
    prio_chan_destroy(c);
}
END_TEST

START_TEST(a_woken_receiver_that_is_dropped_passes_the_wake_on)
{
    struct ax_executor *executor = axt_paused_executor();
    struct prio_chan *c = chan_new(2, 0);
    struct outcome first, second;
    struct ax_task *dropped = start_recv(executor, c, &first);
    ax_task_detach(start_recv(executor, c, &second));
    axt_run_turn(executor);
    ck_assert_int_eq(prio_chan_try_send(c, PRIO_LOW, 7), 0); /* wakes the first */
    ax_task_abort(dropped); /* queued: dropped at its turn, without a poll */
    ax_task_detach(dropped);
    ck_assert_int_eq(ax_executor_run(executor), 0);
    ck_assert_int_eq(first.drops, 1);
    ck_assert_msg(second.result == 0 && second.value == 7,
                  "the second receiver never got the value the dropped one was woken for");
    ax_executor_free(executor);
    prio_chan_destroy(c);
}
END_TEST

START_TEST(a_dropped_waiting_sender_sends_nothing)
{
    struct ax_executor *executor = axt_paused_executor();
    struct prio_chan *c = chan_new(1, 0);
    ck_assert_int_eq(prio_chan_try_send(c, PRIO_HIGH, 1), 0);
    struct outcome o, next;
    struct ax_task *quitter = start_send(executor, c, PRIO_HIGH, 2, &o);
    ax_task_detach(start_send(executor, c, PRIO_HIGH, 3, &next));
    axt_run_turn(executor);
    ax_task_abort(quitter); /* parked: dropped at once */
    ax_task_detach(quitter);
    ck_assert_int_eq(o.drops, 1);
    expect(c, 1, PRIO_HIGH);
    ck_assert_int_eq(ax_executor_run(executor), 0);
    ck_assert_int_eq(next.result, 0);
    expect(c, 3, PRIO_HIGH); /* the dropped send's 2 never arrives */
    uint64_t v;
    ck_assert_int_eq(prio_chan_try_recv(c, &v, NULL), -EAGAIN);
    ax_executor_free(executor);
    prio_chan_destroy(c);
}
END_TEST

START_TEST(close_fails_the_senders_and_lets_the_receivers_drain)
{
    struct ax_executor *executor = axt_paused_executor();
    struct prio_chan *c = chan_new(1, 0);
    ck_assert_int_eq(prio_chan_try_send(c, PRIO_LOW, 5), 0);
    struct outcome waiting;
    ax_task_detach(start_send(executor, c, PRIO_LOW, 6, &waiting));
    axt_run_turn(executor);
    prio_chan_close(c);
    ck_assert_int_eq(ax_executor_run(executor), 0);
    ck_assert_int_eq(waiting.result, -EPIPE);
    ck_assert_int_eq(prio_chan_try_send(c, PRIO_HIGH, 7), -EPIPE);
    expect(c, 5, PRIO_LOW);
    uint64_t v;
    ck_assert_int_eq(prio_chan_try_recv(c, &v, NULL), AX_EOF);
    ax_executor_free(executor);
    prio_chan_destroy(c);
}
END_TEST

START_TEST(close_ends_a_waiting_receiver)
{
    struct ax_executor *executor = axt_paused_executor();
    struct prio_chan *c = chan_new(1, 0);
    struct outcome r;
    ax_task_detach(start_recv(executor, c, &r));
    axt_run_turn(executor);
    prio_chan_close(c);
    ck_assert_int_eq(ax_executor_run(executor), 0);
    ck_assert_int_eq(r.result, AX_EOF);
    ax_executor_free(executor);
    prio_chan_destroy(c);
}
END_TEST

START_TEST(bad_sizes_are_refused)
{
    struct prio_chan c;
    ck_assert_int_eq(prio_chan_init(&c, 0, 0), -EINVAL);
    ck_assert_int_eq(prio_chan_init(&c, 4, 4), -EINVAL);
    ck_assert_int_eq(prio_chan_init(&c, 4, 3), 0);
    prio_chan_destroy(&c);
}
END_TEST

/* ---- a flood of low values, and high ones through it ---------------------------------- */

struct flood {
    struct prio_chan *chan;
    uint64_t end;
    int high_sent, high_refused, high_received, low_received;
};

/* Sends low values as fast as the channel takes them, until the end. */
struct flooder {
    struct ax_future base;
    struct flood *f;
    struct prio_chan_send send;
    bool sending;
    uint64_t next;
};

static ax_result flooder_poll(struct ax_future *self, struct ax_context *cx)
{
    struct flooder *l = (struct flooder *)self;
    while (ax_executor_now(cx->executor) < l->f->end) {
        if (!l->sending)
            prio_chan_send_init(&l->send, l->f->chan, PRIO_LOW, l->next);
        l->sending = true;
        ax_result rc = ax_poll(&l->send.base, cx);
        if (rc == AX_PENDING)
            return AX_PENDING;
        ax_future_drop(&l->send.base);
        l->sending = false;
        if (rc == -EPIPE) /* the worker has closed the channel: the end */
            return 0;
        ck_assert_int_eq(rc, 0);
        l->next++;
    }
    return 0;
}

static void flooder_drop(struct ax_future *self)
{
    struct flooder *l = (struct flooder *)self;
    if (l->sending)
        ax_future_drop(&l->send.base);
}

static const struct ax_future_ops flooder_ops = {.poll = flooder_poll, .drop = flooder_drop};

/* Every 10 ms, tries to send one high value without waiting. */
struct alarm {
    struct ax_future base;
    struct flood *f;
    struct ax_sleep sleep;
    bool sleeping;
};

static ax_result alarm_poll(struct ax_future *self, struct ax_context *cx)
{
    struct alarm *a = (struct alarm *)self;
    for (;;) {
        if (!a->sleeping)
            ax_sleep_init(&a->sleep, 10 * MS);
        a->sleeping = true;
        if (ax_poll(&a->sleep.base, cx) == AX_PENDING)
            return AX_PENDING;
        ax_future_drop(&a->sleep.base);
        a->sleeping = false;
        if (ax_executor_now(cx->executor) >= a->f->end)
            return 0;
        int rc = prio_chan_try_send(a->f->chan, PRIO_HIGH, 1000000 + (uint64_t)a->f->high_sent);
        a->f->high_sent += rc == 0;
        a->f->high_refused += rc != 0;
    }
}

static void alarm_drop(struct ax_future *self)
{
    struct alarm *a = (struct alarm *)self;
    if (a->sleeping)
        ax_future_drop(&a->sleep.base);
}

static const struct ax_future_ops alarm_ops = {.poll = alarm_poll, .drop = alarm_drop};

/* Takes one value a millisecond until the end, then closes the channel. */
struct worker {
    struct ax_future base;
    struct flood *f;
    struct prio_chan_recv recv;
    struct ax_sleep work;
    bool receiving, working;
    uint64_t value;
    enum prio prio;
};

static ax_result worker_poll(struct ax_future *self, struct ax_context *cx)
{
    struct worker *w = (struct worker *)self;
    for (;;) {
        if (!w->working) {
            if (ax_executor_now(cx->executor) >= w->f->end) {
                prio_chan_close(w->f->chan); /* the flooder's waiting send fails */
                return 0;
            }
            if (!w->receiving)
                prio_chan_recv_init(&w->recv, w->f->chan, &w->value, &w->prio);
            w->receiving = true;
            ax_result rc = ax_poll(&w->recv.base, cx);
            if (rc == AX_PENDING)
                return AX_PENDING;
            ax_future_drop(&w->recv.base);
            w->receiving = false;
            ck_assert_int_eq(rc, 0);
            if (w->prio == PRIO_HIGH)
                w->f->high_received++;
            else
                w->f->low_received++;
            ax_sleep_init(&w->work, 1 * MS);
            w->working = true;
        }
        if (ax_poll(&w->work.base, cx) == AX_PENDING)
            return AX_PENDING;
        ax_future_drop(&w->work.base);
        w->working = false;
    }
}

static void worker_drop(struct ax_future *self)
{
    struct worker *w = (struct worker *)self;
    if (w->receiving)
        ax_future_drop(&w->recv.base);
    if (w->working)
        ax_future_drop(&w->work.base);
}

static const struct ax_future_ops worker_ops = {.poll = worker_poll, .drop = worker_drop};

START_TEST(high_values_get_through_a_flood_of_low_ones_at_once)
{
    struct ax_executor *executor = axt_paused_executor();
    struct flood f = {.chan = chan_new(16, 1), .end = AXT_START + 500 * MS};
    struct flooder *l = ax_task_alloc(executor, sizeof *l);
    struct alarm *a = ax_task_alloc(executor, sizeof *a);
    struct worker *w = ax_task_alloc(executor, sizeof *w);
    ck_assert(l != NULL && a != NULL && w != NULL);
    *l = (struct flooder){.base = {&flooder_ops}, .f = &f};
    *a = (struct alarm){.base = {&alarm_ops}, .f = &f};
    *w = (struct worker){.base = {&worker_ops}, .f = &f};
    ax_task_detach(ax_task_spawn(&l->base));
    ax_task_detach(ax_task_spawn(&a->base));
    ax_task_detach(ax_task_spawn(&w->base));
    ck_assert_int_eq(ax_executor_run(executor), 0);
    ck_assert_msg(f.high_refused == 0,
                  "%d of %d high values were refused by a channel full of low ones", f.high_refused,
                  f.high_sent + f.high_refused);
    ck_assert_int_ge(f.high_sent, 45);
    ck_assert_int_eq(f.high_received, f.high_sent);
    ck_assert_int_ge(f.low_received, 400); /* the low ones move too, at the worker's pace */
    ax_executor_free(executor);
    prio_chan_destroy(f.chan);
}
END_TEST

static Suite *prio_chan_suite(void)
{
    Suite *s = suite_create("07-priority-channel");
    TCase *tc = axt_tcase("priority-channel");
    tcase_add_test(tc, high_values_are_received_before_low_ones_sent_earlier);
    tcase_add_test(tc, the_reserved_slots_take_only_high_values);
    tcase_add_test(tc, a_freed_slot_goes_to_a_waiting_high_sender_first);
    tcase_add_test(tc, waiting_senders_of_a_class_are_served_in_order_and_not_overtaken);
    tcase_add_test(tc, a_waiting_receiver_gets_the_next_value);
    tcase_add_test(tc, a_woken_receiver_that_is_dropped_passes_the_wake_on);
    tcase_add_test(tc, a_dropped_waiting_sender_sends_nothing);
    tcase_add_test(tc, close_fails_the_senders_and_lets_the_receivers_drain);
    tcase_add_test(tc, close_ends_a_waiting_receiver);
    tcase_add_test(tc, bad_sizes_are_refused);
    tcase_add_test(tc, high_values_get_through_a_flood_of_low_ones_at_once);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(prio_chan_suite)
