/*
 * Exercise 05-timer-heap: the other classic timer queue, a binary min-heap, with the
 * same operations and the same tests as chapter 05's wheel.
 *
 * A binary min-heap keeps n items in an array as a tree: the children of slot i are
 * slots 2i + 1 and 2i + 2, its parent is slot (i - 1) / 2, and every item comes no later
 * than its children. So the earliest is always slots[0], and the array has no holes.
 * Adding an item puts it at the end and swaps it up past every parent that comes later
 * (sift up); taking one out moves the last item into its slot and swaps that up or
 * down until the order holds again (sift down: with the earlier child). A tree of n
 * items is log2(n) levels deep, so each is O(log n), against the wheel's O(1); in
 * exchange the heap fires every timer exactly at its deadline, and its size follows the
 * number of timers, not the span of time they cover.
 *
 * The heap holds pointers to timers the caller owns (intrusive, like the wheel: no
 * allocation per timer). Each timer knows its slot (`index`), so cancelling one is a
 * removal from the middle, O(log n), not a search. Timers are ordered by deadline and,
 * for equal deadlines, by `seq`, the count of insertions before theirs: equal deadlines
 * fire in the order they were inserted, as in the wheel and in libuv.
 *
 * The array starts empty and doubles when full (starting at 16 slots); insert is the only
 * call that allocates, and it fails with -ENOMEM, leaving the heap and the timer as they
 * were, when memory runs out. It never shrinks until timer_heap_free.
 *
 * One rule needs care. A callback run by timer_heap_advance may arm a timer for a time
 * already past, itself included; that timer must fire at the next advance, not in this
 * one, or a callback that re-arms itself for "now" would keep one advance going
 * forever. While an advance runs, such a timer waits outside the heap order, in the
 * array's slots after the heap (`ordered` counts the heap's), and joins the heap when
 * the advance ends.
 *
 * The heap knows nothing of clocks: the caller says what time it is. Not thread-safe;
 * the header needs nothing but the C library, so a benchmark can include it alone.
 */
#ifndef TIMER_HEAP_H
#define TIMER_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct heap_timer;
typedef void (*heap_timer_fn)(struct heap_timer *timer);

struct heap_timer {
    uint64_t deadline; /* ns, on whatever clock the heap is advanced by */
    uint64_t seq; /* insertion order: equal deadlines fire in it */
    heap_timer_fn fire;
    size_t index; /* its slot in the heap's array while pending */
    bool pending;
};

struct timer_heap {
    struct heap_timer **slots; /* [0, ordered): the heap, earliest first; [ordered, count):
                                  armed by a callback of the advance under way for a time
                                  already past, waiting for it to end */
    size_t count; /* timers pending, every one in slots[0, count) */
    size_t ordered; /* of which in heap order: count, but during an advance */
    size_t capacity; /* slots allocated */
    uint64_t seq; /* insertions so far */
    uint64_t now; /* the time of the latest advance (at first, init's) */
    bool advancing; /* an advance is running callbacks */
};

/* An empty heap whose time starts at now_ns. It allocates nothing yet. */
void timer_heap_init(struct timer_heap *heap, uint64_t now_ns);

/* Disarms every timer still pending and releases the array; the heap is then empty
 * and may be used again. Not from a callback. */
void timer_heap_free(struct timer_heap *heap);

void heap_timer_init(struct heap_timer *timer, heap_timer_fn fire);

/* Arms timer (which must not be pending) to fire at deadline_ns: 0, or -ENOMEM when
 * the array had to grow and could not. A deadline already past fires at the next
 * advance. */
int timer_heap_insert(struct timer_heap *heap, struct heap_timer *timer, uint64_t deadline_ns);

/* Disarms timer; nothing if it is not pending. */
void timer_heap_cancel(struct timer_heap *heap, struct heap_timer *timer);

/* The earliest deadline pending, in ns: timer_heap_advance fires a timer when given
 * that time or later. UINT64_MAX when no timer is pending. Meant for between advances:
 * from a callback it does not see the timers waiting for the next one. */
uint64_t timer_heap_next_ns(const struct timer_heap *heap);

/* Fires every timer whose deadline is at or before now_ns, earliest first (equal
 * deadlines in insertion order), each unlinked before its callback runs, and returns how
 * many fired. Timers armed by the callbacks for a time already past fire at the next
 * call. Not from a callback. */
size_t timer_heap_advance(struct timer_heap *heap, uint64_t now_ns);

#endif
