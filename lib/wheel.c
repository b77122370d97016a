//@ 05
/* The hierarchical timer wheel; the design is in ax/wheel.h. */
#include "ax/wheel.h"

#include <string.h>

enum {
    BITS = AX_WHEEL_TURN_SHIFT, /* a slot of level L + 1 spans 2^BITS slots of level L */
    RING = AX_WHEEL_SLOTS, /* slots per level: two turns */
    TOP = AX_WHEEL_LEVELS - 1,
};

/* The number of the level-L slot that holds tick t. Slot numbers only grow; a slot of
 * the ring holds number n at index n % RING. */
static uint64_t number(int level, uint64_t tick)
{
    return tick >> (BITS * level);
}

static uint64_t first_tick(int level, uint64_t number)
{
    return number << (BITS * level);
}

void ax_wheel_init(struct ax_wheel *wheel, uint64_t now_ns)
{
    *wheel = (struct ax_wheel){.elapsed = now_ns >> AX_WHEEL_TICK_SHIFT};
    for (int level = 0; level < AX_WHEEL_LEVELS; level++) {
        wheel->levels[level].moved_at = wheel->elapsed;
        for (int slot = 0; slot < RING; slot++)
            ax_list_init(&wheel->levels[level].slots[slot]);
    }
}

void ax_wheel_clear(struct ax_wheel *wheel)
{
    for (int level = 0; level < AX_WHEEL_LEVELS; level++) {
        struct ax_wheel_level *lv = &wheel->levels[level];
        for (int slot = 0; slot < RING; slot++) {
            struct ax_list *node;
            while ((node = ax_list_pop_front(&lv->slots[slot])) != NULL)
                ax_container_of(node, struct ax_timer, link)->pending = false;
            lv->counts[slot] = 0;
        }
        memset(lv->occupied, 0, sizeof lv->occupied);
        lv->words = 0;
    }
    wheel->count = 0;
}

void ax_timer_init(struct ax_timer *timer, ax_timer_fn fire)
{
    *timer = (struct ax_timer){.fire = fire};
    ax_list_init(&timer->link);
}

static void mark(struct ax_wheel_level *lv, int slot, bool occupied)
{
    int word = slot / 64;
    if (occupied) {
        lv->occupied[word] |= (uint64_t)1 << (slot % 64);
        lv->words |= (uint64_t)1 << word;
    } else if ((lv->occupied[word] &= ~((uint64_t)1 << (slot % 64))) == 0) {
        lv->words &= ~((uint64_t)1 << word);
    }
}

// snippet wheel-insert
/* Links a timer into the lowest level whose ring reaches its tick, seen from the
 * wheel's current tick. */
static void place(struct ax_wheel *wheel, struct ax_timer *timer)
{
    uint64_t when = timer->deadline >> AX_WHEEL_TICK_SHIFT;
    if (when < wheel->elapsed)
        when = wheel->elapsed; /* already due: the current slot */
    int level = 0;
    while (number(level, when) - number(level, wheel->elapsed) >= RING && level < TOP)
        level++;
    uint64_t n = number(level, when);
    if (n - number(level, wheel->elapsed) >= RING) /* beyond the top ring: wait in its */
        n = number(level, wheel->elapsed) + RING - 1; /* farthest slot, placed again later */
    int slot = (int)(n % RING);
    struct ax_wheel_level *lv = &wheel->levels[level];
    timer->level = (uint8_t)level;
    timer->slot = (uint16_t)slot;
    ax_list_push_back(&lv->slots[slot], &timer->link);
    if (lv->counts[slot]++ == 0)
        mark(lv, slot, true);
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

/* A timer advance has taken out of its slot (due now, or armed during this advance)
 * is held aside on a list of advance's own: it counts in no slot. */
enum { ASIDE = AX_WHEEL_LEVELS };

static void unlink_timer(struct ax_wheel *wheel, struct ax_timer *timer)
{
    ax_list_remove(&timer->link);
    if (timer->level == ASIDE)
        return;
    struct ax_wheel_level *lv = &wheel->levels[timer->level];
    if (--lv->counts[timer->slot] == 0)
        mark(lv, timer->slot, false);
}

void ax_wheel_cancel(struct ax_wheel *wheel, struct ax_timer *timer)
{
    if (!timer->pending)
        return;
    unlink_timer(wheel, timer);
    timer->pending = false;
    wheel->count--;
}

/* The first occupied slot of a level at or after `from`, going round the ring, as a
 * distance from `from`; -1 when the level is empty. */
static int distance_to_occupied(const struct ax_wheel_level *lv, int from)
{
    int word = from / 64;
    uint64_t here = lv->occupied[word] >> (from % 64) << (from % 64);
    int slot;
    if (here != 0) {
        slot = word * 64 + __builtin_ctzll(here);
    } else if (lv->words >> word >> 1 != 0) { /* a later word */
        int w = word + 1 + __builtin_ctzll(lv->words >> word >> 1);
        slot = w * 64 + __builtin_ctzll(lv->occupied[w]);
    } else if (lv->words != 0) { /* round the ring: the first word (maybe `word` itself) */
        int w = __builtin_ctzll(lv->words);
        slot = w * 64 + __builtin_ctzll(lv->occupied[w]);
    } else {
        return -1;
    }
    return (slot - from + RING) % RING;
}

// snippet wheel-next
/* The wheel's next piece of work: the tick at which it is due, and the level whose
 * slot (`number`) it concerns. On level 0 that is firing a slot, due when its tick is
 * over; on a higher level it is the last moment to move a slot down: when it begins.
 * False when no timer is pending. */
static bool next_work(const struct ax_wheel *wheel, int *level_out, uint64_t *number_out,
                      uint64_t *due_out)
{
    bool found = false;
    for (int level = 0; level < AX_WHEEL_LEVELS; level++) {
        uint64_t now = number(level, wheel->elapsed);
        int ahead = distance_to_occupied(&wheel->levels[level], (int)(now % RING));
        if (ahead < 0)
            continue;
        uint64_t n = now + (uint64_t)ahead;
        uint64_t due = level == 0 ? n + 1 : first_tick(level, n);
        if (due < wheel->elapsed)
            due = wheel->elapsed;
        if (!found || due < *due_out) { /* on a tie, the lower level: its ticks are earlier */
            found = true;
            *level_out = level;
            *number_out = n;
            *due_out = due;
        }
    }
    return found;
}

uint64_t ax_wheel_next_ns(const struct ax_wheel *wheel)
{
    int level;
    uint64_t n, due;
    if (!next_work(wheel, &level, &n, &due))
        return UINT64_MAX;
    return due << AX_WHEEL_TICK_SHIFT;
}
// end snippet

/* Moves up to `max` timers out of a slot into the lower levels their ticks now call for. */
static void move_down(struct ax_wheel *wheel, int level, int slot, uint64_t max)
{
    struct ax_list *head = &wheel->levels[level].slots[slot];
    for (; max > 0 && !ax_list_empty(head); max--) {
        struct ax_timer *timer = ax_container_of(head->next, struct ax_timer, link);
        unlink_timer(wheel, timer);
        place(wheel, timer);
    }
}

// snippet wheel-spread
/* The spread-out cascade. Each level above 0 moves its next slot down while the current
 * one runs, a share of what is left in proportion to the time gone since it last did:
 * by the time that slot begins, it is empty. */
static void move_ahead_of_time(struct ax_wheel *wheel)
{
    uint64_t now = wheel->elapsed;
    for (int level = TOP; level > 0; level--) {
        uint64_t next = number(level, now) + 1;
        int slot = (int)(next % RING);
        struct ax_wheel_level *lv = &wheel->levels[level];
        uint32_t left = lv->counts[slot];
        uint64_t since = lv->moved_at, until = first_tick(level, next);
        if (since < first_tick(level, next - 1))
            since = first_tick(level, next - 1); /* this slot's turn began later */
        lv->moved_at = now;
        if (left == 0 || now <= since)
            continue;
        double share = (double)(now - since) / (double)(until - since);
        move_down(wheel, level, slot, (uint64_t)((double)left * share) + 1);
    }
}
// end snippet

/* Sorts a fired slot's timers by deadline, then by insertion, and marks them held
 * aside: an insertion sort from the back, linear on the usual case, a list in order. */
static void sort_due(struct ax_list *due)
{
    struct ax_list sorted;
    ax_list_init(&sorted);
    struct ax_list *node;
    while ((node = ax_list_pop_front(due)) != NULL) {
        struct ax_timer *t = ax_container_of(node, struct ax_timer, link);
        t->level = ASIDE;
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

/* Takes a level-0 slot's timers out into `into`, sorted and held aside. */
static void take_slot(struct ax_wheel *wheel, int slot, struct ax_list *into)
{
    ax_list_init(into);
    struct ax_wheel_level *lv = &wheel->levels[0];
    ax_list_splice_back(into, &lv->slots[slot]);
    lv->counts[slot] = 0;
    mark(lv, slot, false);
    sort_due(into);
}

// snippet wheel-advance
size_t ax_wheel_advance(struct ax_wheel *wheel, uint64_t now_ns)
{
    uint64_t now = now_ns >> AX_WHEEL_TICK_SHIFT;
    uint64_t armed_before = wheel->seq; /* timers armed from here on wait for the next call */
    struct ax_list later;
    ax_list_init(&later);
    size_t fired = 0;
    int level;
    uint64_t n, due;
    while (next_work(wheel, &level, &n, &due) && due <= now) {
        int slot = (int)(n % RING);
        if (level > 0) { /* its turn has come: whatever is left moves down now */
            wheel->elapsed = due;
            move_down(wheel, level, slot, UINT64_MAX);
            continue;
        }
        wheel->elapsed = due; /* the slot's tick is over */
        struct ax_list due_now;
        take_slot(wheel, slot, &due_now);
        struct ax_list *node;
        while ((node = ax_list_pop_front(&due_now)) != NULL) {
            struct ax_timer *timer = ax_container_of(node, struct ax_timer, link);
            if (timer->seq >= armed_before) {
                ax_list_push_back(&later, node); /* armed by a callback of this call */
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
    move_ahead_of_time(wheel);
    while (!ax_list_empty(&later))
        place(wheel, ax_container_of(ax_list_pop_front(&later), struct ax_timer, link));
    return fired;
}
// end snippet
