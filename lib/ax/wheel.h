//@ 05
/*
 * A hierarchical timer wheel: many timers, each inserted and cancelled in O(1), and the
 * next one due found without looking at the others.
 *
 * Time is counted in ticks of 2^AX_WHEEL_TICK_SHIFT ns (1.024 µs). The wheel has
 * AX_WHEEL_LEVELS levels of 64 slots; a slot of level L covers 64^L ticks, so level 0
 * holds the timers of the next 64 ticks one tick a slot, level 1 those of the next 4,096
 * ticks 64 ticks a slot, and so on up to about nine years. A timer goes to the level of
 * the highest 6-bit group in which its tick differs from the wheel's current tick, into
 * the slot that group names: an O(1) link into a list. Each level keeps a 64-bit
 * occupancy bitmap, so the next occupied slot is a count of trailing zeros, not a scan.
 *
 * When the wheel reaches a slot of level 1 or above, its timers are placed again, which
 * puts them in lower levels (cascading); a timer moves at most once per level. A slot of
 * level 0 fires once its whole tick has passed: a timer never fires before its
 * deadline, and at most one tick after it (plus however late advance is called).
 * Timers due in the same slot fire in deadline order, and timers with equal deadlines
 * in the order they were inserted. A deadline beyond the wheel's range waits in its
 * farthest slot and is placed again when that slot comes round.
 *
 * The wheel knows nothing of clocks: the caller says what time it is (ax_wheel_advance),
 * which is what lets tests run it on virtual time. Timers are intrusive and owned by
 * the caller; a fired or cancelled timer is unlinked and may be inserted again, or
 * freed. A fire callback may insert and cancel any timer, itself included.
 */
#ifndef AX_WHEEL_H
#define AX_WHEEL_H

#include "ax/list.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AX_WHEEL_TICK_SHIFT 10
#define AX_WHEEL_LEVELS     8
#define AX_WHEEL_SLOTS      64

struct ax_timer;
typedef void (*ax_timer_fn)(struct ax_timer *timer);

// snippet wheel-timer
struct ax_timer {
    struct ax_list link; /* in its slot's list while pending */
    uint64_t deadline; /* ns, on whatever clock the wheel is advanced by */
    uint64_t seq; /* insertion order: equal deadlines fire in it */
    ax_timer_fn fire;
    uint8_t level, slot; /* where it is linked */
    bool pending;
};
// end snippet

struct ax_wheel {
    uint64_t elapsed; /* ticks: every slot before this one has been processed */
    uint64_t seq;
    size_t count; /* timers pending */
    uint64_t occupied[AX_WHEEL_LEVELS]; /* bit s: slots[level][s] is not empty */
    struct ax_list slots[AX_WHEEL_LEVELS][AX_WHEEL_SLOTS];
};

/* An empty wheel whose time starts at now_ns. */
void ax_wheel_init(struct ax_wheel *wheel, uint64_t now_ns);

void ax_timer_init(struct ax_timer *timer, ax_timer_fn fire);

/* Arms timer (which must not be pending) to fire at deadline_ns. A deadline already
 * past fires at the next advance. */
void ax_wheel_insert(struct ax_wheel *wheel, struct ax_timer *timer, uint64_t deadline_ns);

/* Disarms timer; nothing if it is not pending. */
void ax_wheel_cancel(struct ax_wheel *wheel, struct ax_timer *timer);

/* When the wheel next has work: the time (ns) at or after which ax_wheel_advance will
 * fire a timer or move some down a level. UINT64_MAX when no timer is pending. */
uint64_t ax_wheel_next_ns(const struct ax_wheel *wheel);

/* Moves the wheel's time to now_ns, firing every timer due by then, earliest first.
 * Returns how many fired. Timers armed by the callbacks for a time already past fire at
 * the next call, so a callback that re-arms itself cannot keep one call going. */
size_t ax_wheel_advance(struct ax_wheel *wheel, uint64_t now_ns);

#endif
