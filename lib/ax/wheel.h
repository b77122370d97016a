//@ 05
/*
 * A hierarchical timer wheel: many timers, each inserted and cancelled in O(1), and the
 * next one due found without looking at the others.
 *
 * Time is counted in ticks of 2^AX_WHEEL_TICK_SHIFT ns (4.096 µs). The wheel has
 * AX_WHEEL_LEVELS levels; a slot of level L spans 512^L ticks, so a slot of level L + 1
 * spans a turn of 512 slots of level L. Each level is a ring of two turns: the turn
 * under way and the next. A timer goes to the lowest level whose ring reaches its
 * tick, into the slot that tick falls in: an O(1) link into a list. Level 0 reaches
 * 4 ms ahead, level 1 two seconds, level 2 eighteen minutes, and level 5 beyond any
 * deadline a program will set. Each level keeps an occupancy bitmap of its slots, and
 * a word saying which parts of the bitmap are not zero, so the next occupied slot is
 * found with two counts of trailing zeros, not a scan.
 *
 * A timer in a higher level moves down as its time comes closer (cascading), at most
 * once per level. Turns of 512 slots, where tokio and Linux have 64, are chosen for
 * that: a timer a second away moves once on its way to level 0, not twice, and each
 * move is a cache miss. Moving a whole slot at the moment it comes due would still
 * stall the caller: with a million timers set over ten seconds, a slot of level 2
 * holds a hundred thousand of them. So each level moves its next slot down a little
 * at every advance, in proportion to the time that has passed, and is done when that
 * slot comes due; that is what the second turn of each ring is for. Cascading is then
 * spread as evenly as the timers are.
 *
 * A slot of level 0 fires once its whole tick has passed: a timer never fires before
 * its deadline, and at most one tick after it (plus however late advance is called).
 * Timers due in the same slot fire in deadline order, and timers with equal deadlines
 * in the order they were inserted. A deadline beyond the top ring waits in its farthest
 * slot and is placed again when that slot comes round.
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

#define AX_WHEEL_TICK_SHIFT 12
#define AX_WHEEL_TURN_SHIFT 9 /* a turn of a level is 512 slots */
#define AX_WHEEL_SLOTS      1024 /* per level: two turns */
#define AX_WHEEL_LEVELS     6

struct ax_timer;
typedef void (*ax_timer_fn)(struct ax_timer *timer);

// snippet wheel-timer
struct ax_timer {
    struct ax_list link; /* in its slot's list while pending */
    uint64_t deadline; /* ns, on whatever clock the wheel is advanced by */
    uint64_t seq; /* insertion order: equal deadlines fire in it */
    ax_timer_fn fire;
    uint8_t level; /* where it is linked */
    uint16_t slot;
    bool pending;
};
// end snippet

struct ax_wheel_level {
    uint64_t moved_at; /* tick: when this level last moved timers down */
    uint64_t words; /* bit w: occupied[w] is not 0 */
    uint64_t occupied[AX_WHEEL_SLOTS / 64]; /* bit s % 64 of word s / 64: slot s is not empty */
    uint32_t counts[AX_WHEEL_SLOTS]; /* timers in each slot */
    struct ax_list slots[AX_WHEEL_SLOTS];
};

struct ax_wheel {
    uint64_t elapsed; /* ticks: every tick before this one has been processed */
    uint64_t seq;
    size_t count; /* timers pending */
    struct ax_wheel_level levels[AX_WHEEL_LEVELS];
};

/* An empty wheel whose time starts at now_ns. */
void ax_wheel_init(struct ax_wheel *wheel, uint64_t now_ns);

void ax_timer_init(struct ax_timer *timer, ax_timer_fn fire);

/* Disarms every pending timer without firing it. A timer's owner may then cancel it,
 * which does nothing, even after the wheel's memory is gone: it is how an executor
 * lets go of timers that outlive it. */
void ax_wheel_clear(struct ax_wheel *wheel);

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
