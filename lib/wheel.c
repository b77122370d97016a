//@ 05
/* The hierarchical timer wheel; the design is in ax/wheel.h. */
#include "ax/wheel.h"

enum {
    BITS = 6, /* log2(AX_WHEEL_SLOTS): each level takes 6 more bits of the tick */
    MASK = AX_WHEEL_SLOTS - 1,
};

/* Ticks the wheel can hold: 64^LEVELS. */
#define RANGE ((uint64_t)1 << (BITS * AX_WHEEL_LEVELS))

void ax_wheel_init(struct ax_wheel *wheel, uint64_t now_ns)
{
    *wheel = (struct ax_wheel){.elapsed = now_ns >> AX_WHEEL_TICK_SHIFT};
    for (int level = 0; level < AX_WHEEL_LEVELS; level++)
        for (int slot = 0; slot < AX_WHEEL_SLOTS; slot++)
            ax_list_init(&wheel->slots[level][slot]);
}

void ax_timer_init(struct ax_timer *timer, ax_timer_fn fire)
{
    *timer = (struct ax_timer){.fire = fire};
    ax_list_init(&timer->link);
}

// snippet wheel-insert
/* Links a timer into the slot its deadline names, seen from the wheel's current tick. */
static void place(struct ax_wheel *wheel, struct ax_timer *timer)
{
    uint64_t when = timer->deadline >> AX_WHEEL_TICK_SHIFT;
    if (when < wheel->elapsed)
        when = wheel->elapsed; /* already due: the current slot */
    if ((when ^ wheel->elapsed) >= RANGE) /* past this turn of the top level: wait in its */
        when = wheel->elapsed | (RANGE - 1); /* last slot, and be placed again from there */
    uint64_t differ = (when ^ wheel->elapsed) | MASK; /* the highest differing group */
    int level = (63 - __builtin_clzll(differ)) / BITS;
    int slot = (int)(when >> (BITS * level)) & MASK;
    timer->level = (uint8_t)level;
    timer->slot = (uint8_t)slot;
    ax_list_push_back(&wheel->slots[level][slot], &timer->link);
    wheel->occupied[level] |= (uint64_t)1 << slot;
}

void ax_wheel_insert(struct ax_wheel *wheel, struct ax_timer *timer, uint64_t deadline_ns)
{
    timer->deadline = deadline_ns;
    timer->seq = wheel->seq++;
    timer->pending = true;
    wheel->count++;
    place(wheel, timer);
}
// end snippet

void ax_wheel_cancel(struct ax_wheel *wheel, struct ax_timer *timer)
{
    if (!timer->pending)
        return;
    ax_list_remove(&timer->link);
    if (ax_list_empty(&wheel->slots[timer->level][timer->slot]))
        wheel->occupied[timer->level] &= ~((uint64_t)1 << timer->slot);
    timer->pending = false;
    wheel->count--;
}

// snippet wheel-next
/* The next occupied slot, as its level, slot and first tick; false when none. Every
 * timer of level L differs from the current tick in group L and agrees above it, so the
 * lowest occupied level holds the earliest, and its next occupied slot is found from
 * the bitmap: the slots at or after the current one, then none (no wrapping round). */
static bool next_slot(const struct ax_wheel *wheel, int *level_out, int *slot_out,
                      uint64_t *tick_out)
{
    for (int level = 0; level < AX_WHEEL_LEVELS; level++) {
        int shift = BITS * level;
        int now = (int)(wheel->elapsed >> shift) & MASK;
        uint64_t ahead = wheel->occupied[level] >> now << now; /* slots >= now */
        if (ahead == 0)
            continue;
        int slot = __builtin_ctzll(ahead);
        uint64_t rotation = wheel->elapsed >> (shift + BITS) << (shift + BITS);
        *level_out = level;
        *slot_out = slot;
        *tick_out = rotation + ((uint64_t)slot << shift);
        return true;
    }
    return false;
}

uint64_t ax_wheel_next_ns(const struct ax_wheel *wheel)
{
    int level, slot;
    uint64_t tick;
    if (!next_slot(wheel, &level, &slot, &tick))
        return UINT64_MAX;
    /* Level 0 fires once its tick is over; a higher slot cascades as it begins. */
    return (tick + (level == 0)) << AX_WHEEL_TICK_SHIFT;
}
// end snippet

/* Sorts a fired slot's timers by deadline, then by insertion: an insertion sort from
 * the back, which is linear on the usual case, a list already in order. */
static void sort_due(struct ax_list *due)
{
    struct ax_list sorted;
    ax_list_init(&sorted);
    struct ax_list *node;
    while ((node = ax_list_pop_front(due)) != NULL) {
        struct ax_timer *t = ax_container_of(node, struct ax_timer, link);
        struct ax_list *at = sorted.prev;
        while (at != &sorted) {
            struct ax_timer *u = ax_container_of(at, struct ax_timer, link);
            if (u->deadline < t->deadline || (u->deadline == t->deadline && u->seq < t->seq))
                break;
            at = at->prev;
        }
        ax_list_insert_before(at->next, node);
    }
    ax_list_splice_back(due, &sorted);
}

/* Takes a slot's timers out into `into`. They keep their level and slot: a callback that
 * cancels one of them then finds that slot empty (its bit is already clear) or holding
 * timers armed since (its bit must stay), and either way leaves the bit right. */
static void take_slot(struct ax_wheel *wheel, int level, int slot, struct ax_list *into)
{
    ax_list_init(into);
    ax_list_splice_back(into, &wheel->slots[level][slot]);
    wheel->occupied[level] &= ~((uint64_t)1 << slot);
}

/* Moves down the timers of every slot above level 0 that begins at or before the
 * wheel's tick. Done as the wheel enters a tick, before any callback runs: a callback
 * may arm a timer for just past that tick, which lands in level 0, and level 0 would
 * then hide the slot above it that next_slot must find first. */
static void cascade_begun(struct ax_wheel *wheel)
{
    int level, slot;
    uint64_t tick;
    while (next_slot(wheel, &level, &slot, &tick) && level > 0 && tick <= wheel->elapsed) {
        struct ax_list due;
        take_slot(wheel, level, slot, &due);
        struct ax_list *node;
        while ((node = ax_list_pop_front(&due)) != NULL)
            place(wheel, ax_container_of(node, struct ax_timer, link));
    }
}

// snippet wheel-advance
size_t ax_wheel_advance(struct ax_wheel *wheel, uint64_t now_ns)
{
    uint64_t now = now_ns >> AX_WHEEL_TICK_SHIFT;
    uint64_t armed_before = wheel->seq; /* timers armed from here on wait for the next call */
    struct ax_list later;
    ax_list_init(&later);
    size_t fired = 0;
    int level, slot;
    uint64_t tick;
    while (next_slot(wheel, &level, &slot, &tick) && tick + (level == 0) <= now) {
        struct ax_list due;
        take_slot(wheel, level, slot, &due);
        struct ax_list *node;
        if (level > 0) { /* cascade: from here, each lands in a lower level */
            wheel->elapsed = tick;
            while ((node = ax_list_pop_front(&due)) != NULL)
                place(wheel, ax_container_of(node, struct ax_timer, link));
            continue;
        }
        wheel->elapsed = tick + 1;
        cascade_begun(wheel);
        sort_due(&due);
        while ((node = ax_list_pop_front(&due)) != NULL) {
            struct ax_timer *timer = ax_container_of(node, struct ax_timer, link);
            if (timer->seq >= armed_before) {
                ax_list_push_back(&later, node); /* armed by a callback of this call */
            } else if (timer->deadline >> AX_WHEEL_TICK_SHIFT > tick) {
                place(wheel, timer); /* parked beyond the wheel's range: not due yet */
            } else {
                timer->pending = false; /* unlinked first: the callback may arm it again */
                wheel->count--;
                fired++;
                timer->fire(timer);
            }
        }
    }
    if (now > wheel->elapsed)
        wheel->elapsed = now;
    while (!ax_list_empty(&later))
        place(wheel, ax_container_of(ax_list_pop_front(&later), struct ax_timer, link));
    return fired;
}
// end snippet
