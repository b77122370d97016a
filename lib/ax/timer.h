//@ 05
/*
 * Time in the runtime: the executor's clock, sleeping, and timeouts.
 *
 * Every executor owns a timer wheel (ax/wheel.h). Its loop reads the clock once per
 * turn, fires the timers due by then (which wakes their tasks), runs the ready tasks,
 * and then waits for I/O no longer than until the next timer is due, to the nanosecond
 * (chapter 03's epoll_pwait2). A pending timer counts as something that can wake a task:
 * the executor reports -EDEADLK only when no timer is pending either.
 *
 * Virtual time. ax_executor_pause_time stops the executor's clock: from then on it moves
 * only when ax_executor_advance_time says so, or when the executor has nothing else to
 * do (no task ready, no I/O ready at a look) and a timer is pending, in which case it
 * jumps straight to that timer's deadline. A test of a ten-second timeout then runs in
 * microseconds, and always the same way. While paused, ax_now_ns() reads the same
 * virtual clock, so code that asks "what time is it" agrees with the timers.
 */
#ifndef AX_TIMER_H
#define AX_TIMER_H

#include "ax/future.h"
#include "ax/wheel.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The executor's time, in ns, as read at the start of its current turn. */
uint64_t ax_executor_now(const struct ax_executor *executor);

/* Virtual time: stops the clock at now_ns (see above). One executor at a time. */
void ax_executor_pause_time(struct ax_executor *executor, uint64_t now_ns);

/* Moves paused time forward by ns; the timers due by then fire at the next turn. */
void ax_executor_advance_time(struct ax_executor *executor, uint64_t ns);

/* Timers pending in the executor's wheel. */
size_t ax_executor_timers(const struct ax_executor *executor);

/* Completes with 0 once the executor's clock reaches deadline_ns (at once if it has
 * already). Dropped before that, its timer is cancelled. */
struct ax_sleep {
    struct ax_future base;
    struct ax_timer timer;
    struct ax_executor *executor; /* whose wheel holds the timer, once armed */
    uint64_t deadline; /* ns; when `relative`, the duration until set at the first poll */
    bool relative;
    bool fired;
    struct ax_waker waker;
};

void ax_sleep_until_init(struct ax_sleep *sleep, uint64_t deadline_ns);

/* Sleeps for duration_ns, counted from the first poll: from the clock read then, not
 * from the turn's start, so that work the task did before it counts. */
void ax_sleep_init(struct ax_sleep *sleep, uint64_t duration_ns);

/*
 * A steady beat: ticks at first_ns, first_ns + period, first_ns + 2 * period, ... Each
 * tick is computed from the one before, not from when the last one was noticed, so a
 * task that takes a while over each tick does not drift. When ticks have been missed
 * altogether (the task was busy for several periods), the one that was due fires at
 * once and the rest are skipped: the next tick is the first one of the original
 * schedule still ahead. (tokio calls this MissedTickBehavior::Skip; its Burst fires
 * every missed tick back to back, and its Delay restarts the schedule from the late
 * tick. Skip keeps the schedule and never bunches ticks, which is what a heartbeat or a
 * stats report wants.)
 */
struct ax_interval {
    uint64_t next; /* the deadline of the next tick */
    uint64_t period;
};

void ax_interval_init(struct ax_interval *interval, uint64_t first_ns, uint64_t period_ns);

/* A future for the interval's next tick: completes with the tick's scheduled time. */
struct ax_tick {
    struct ax_future base;
    struct ax_interval *interval;
    struct ax_sleep sleep;
};

void ax_tick_init(struct ax_tick *tick, struct ax_interval *interval);

/* Runs `inner` until deadline_ns: its result if it finishes first (also when both are
 * ready at the same turn), or -ETIMEDOUT, having dropped it, when time runs out. The
 * timeout owns inner from init on and drops it exactly once. */
struct ax_timeout {
    struct ax_future base;
    struct ax_future *inner;
    struct ax_sleep sleep;
    bool done;
};

void ax_timeout_init(struct ax_timeout *timeout, struct ax_future *inner, uint64_t deadline_ns);

#endif
