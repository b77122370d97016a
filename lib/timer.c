//@ 05
/* The executor's clock, sleep and timeout; the rules are in ax/timer.h. */
#include "ax/timer.h"
#include "ax/clock.h"
#include "ax/reactor.h"
#include "executor.h"

#include <errno.h>

uint64_t ax_executor_now(const struct ax_executor *executor)
{
    return executor->now;
}

size_t ax_executor_timers(const struct ax_executor *executor)
{
    return executor->timers.count;
}

static uint64_t virtual_clock(void *ctx)
{
    return ((struct ax_executor *)ctx)->virtual_now;
}

void ax_executor_pause_time(struct ax_executor *executor, uint64_t now_ns)
{
    executor->paused = true;
    executor->virtual_now = executor->now = now_ns;
    ax_wheel_init(&executor->timers, now_ns); /* a paused clock starts a fresh wheel */
    ax_clock_set(virtual_clock, executor);
}

void ax_executor_advance_time(struct ax_executor *executor, uint64_t ns)
{
    executor->virtual_now += ns;
}

static uint64_t read_clock(const struct ax_executor *executor)
{
    return executor->paused ? executor->virtual_now : ax_now_ns();
}

// snippet run-timers
void ax__run_timers(struct ax_executor *executor)
{
    executor->now = read_clock(executor); /* once per turn: every task sees this time */
    ax_wheel_advance(&executor->timers, executor->now);
}

int64_t ax__time_to_next_timer(struct ax_executor *executor)
{
    uint64_t next = ax_wheel_next_ns(&executor->timers);
    if (next == UINT64_MAX)
        return -1;
    uint64_t now = read_clock(executor); /* the tasks have run since the turn began */
    return next > now ? (int64_t)(next - now) : 0;
}
// end snippet

int ax__skip_to_next_timer(struct ax_executor *executor, bool look_at_io)
{
    if (look_at_io) {
        int rc = ax_reactor_run_once(executor->reactor, 0);
        if (rc < 0)
            return rc;
    }
    uint64_t next = ax_wheel_next_ns(&executor->timers);
    if (ax__nothing_ready(executor) && next > executor->virtual_now)
        executor->virtual_now = next; /* nothing else to do: time flies */
    return 0;
}

/* ---- sleep ------------------------------------------------------------------------ */

static void sleep_fired(struct ax_timer *timer)
{
    struct ax_sleep *sleep = ax_container_of(timer, struct ax_sleep, timer);
    sleep->fired = true;
    ax_wake(&sleep->waker);
}

// snippet sleep-poll
static ax_result sleep_poll(struct ax_future *self, struct ax_context *cx)
{
    struct ax_sleep *sleep = (struct ax_sleep *)self;
    if (sleep->fired)
        return 0;
    if (sleep->executor == NULL) { /* first poll: arm the timer */
        struct ax_executor *executor = cx->executor;
        if (sleep->relative) /* from now, not from the turn's start: work since counts */
            sleep->deadline += read_clock(executor);
        if (sleep->deadline <= executor->now)
            return sleep->fired = true, 0; /* already due: no timer needed */
        sleep->executor = executor;
        ax_wheel_insert(&executor->timers, &sleep->timer, sleep->deadline);
    }
    if (!ax_waker_wakes(&sleep->waker, cx)) {
        ax_waker_drop(&sleep->waker);
        sleep->waker = ax_waker_clone(cx);
    }
    return AX_PENDING;
}
// end snippet

static void sleep_drop(struct ax_future *self)
{
    struct ax_sleep *sleep = (struct ax_sleep *)self;
    if (sleep->executor != NULL)
        ax_wheel_cancel(&sleep->executor->timers, &sleep->timer);
    ax_waker_drop(&sleep->waker);
}

static const struct ax_future_ops sleep_ops = {.poll = sleep_poll, .drop = sleep_drop};

void ax_sleep_until_init(struct ax_sleep *sleep, uint64_t deadline_ns)
{
    *sleep = (struct ax_sleep){.base = {&sleep_ops}, .deadline = deadline_ns};
    ax_timer_init(&sleep->timer, sleep_fired);
}

void ax_sleep_init(struct ax_sleep *sleep, uint64_t duration_ns)
{
    ax_sleep_until_init(sleep, duration_ns);
    sleep->relative = true;
}

/* ---- interval --------------------------------------------------------------------- */

void ax_interval_init(struct ax_interval *interval, uint64_t first_ns, uint64_t period_ns)
{
    *interval = (struct ax_interval){.next = first_ns, .period = period_ns ? period_ns : 1};
}

// snippet tick-poll
static ax_result tick_poll(struct ax_future *self, struct ax_context *cx)
{
    struct ax_tick *tick = (struct ax_tick *)self;
    ax_result rc = ax_poll(&tick->sleep.base, cx);
    if (rc != 0)
        return rc;
    struct ax_interval *interval = tick->interval;
    uint64_t scheduled = interval->next, now = cx->executor->now;
    interval->next += interval->period; /* from the schedule, not from now: no drift */
    if (interval->next <= now) /* whole periods missed: skip to the first still ahead */
        interval->next +=
            (now - interval->next) / interval->period * interval->period + interval->period;
    return (ax_result)scheduled;
}
// end snippet

static void tick_drop(struct ax_future *self)
{
    ax_future_drop(&((struct ax_tick *)self)->sleep.base);
}

static const struct ax_future_ops tick_ops = {.poll = tick_poll, .drop = tick_drop};

void ax_tick_init(struct ax_tick *tick, struct ax_interval *interval)
{
    *tick = (struct ax_tick){.base = {&tick_ops}, .interval = interval};
    ax_sleep_until_init(&tick->sleep, interval->next);
}

/* ---- timeout ---------------------------------------------------------------------- */

// snippet timeout-poll
static ax_result timeout_poll(struct ax_future *self, struct ax_context *cx)
{
    struct ax_timeout *t = (struct ax_timeout *)self;
    if (t->done)
        return -EINVAL; /* polled after it finished */
    ax_result result = ax_poll(t->inner, cx); /* first: a result that is there wins */
    if (result == AX_PENDING && ax_poll(&t->sleep.base, cx) != AX_PENDING)
        result = -ETIMEDOUT;
    if (result == AX_PENDING)
        return AX_PENDING;
    t->done = true;
    ax_future_drop(t->inner); /* finished or given up on: dropped either way */
    ax_future_drop(&t->sleep.base);
    return result;
}
// end snippet

static void timeout_drop(struct ax_future *self)
{
    struct ax_timeout *t = (struct ax_timeout *)self;
    if (t->done)
        return;
    t->done = true;
    ax_future_drop(t->inner);
    ax_future_drop(&t->sleep.base);
}

static const struct ax_future_ops timeout_ops = {.poll = timeout_poll, .drop = timeout_drop};

void ax_timeout_init(struct ax_timeout *timeout, struct ax_future *inner, uint64_t deadline_ns)
{
    *timeout = (struct ax_timeout){.base = {&timeout_ops}, .inner = inner};
    ax_sleep_until_init(&timeout->sleep, deadline_ns);
}
