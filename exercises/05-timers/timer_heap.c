/* Exercise 05-timer-heap. Read chapter 05's section on choosing a wheel or a heap
 * ("Wheel or heap") first, and timer_heap.h for the layout of the array. */
#include "timer_heap.h"

#include <errno.h>
#include <stdlib.h>

/* TODO: you will want a few helpers: whether one timer fires before another (deadline,
 * then seq); putting a timer into a slot (which also sets its index); sift up; sift
 * down; and taking the timer out of any slot, which both cancel and advance need. */

void timer_heap_init(struct timer_heap *heap, uint64_t now_ns)
{
    *heap = (struct timer_heap){.now = now_ns};
}

void timer_heap_free(struct timer_heap *heap)
{
    /* TODO: disarm every timer still pending, free the array, and leave the heap empty. */
    (void)heap;
}

void heap_timer_init(struct heap_timer *timer, heap_timer_fn fire)
{
    *timer = (struct heap_timer){.fire = fire};
}

int timer_heap_insert(struct timer_heap *heap, struct heap_timer *timer, uint64_t deadline_ns)
{
    /* TODO: grow the array when it is full (-ENOMEM if realloc fails), give the timer
     * its deadline, the next seq and pending, then put it at the heap's end and sift it
     * up. During an advance, a deadline at or before heap->now instead waits after the
     * heap (see timer_heap.h). */
    (void)heap;
    (void)timer;
    (void)deadline_ns;
    return -ENOSYS;
}

void timer_heap_cancel(struct timer_heap *heap, struct heap_timer *timer)
{
    /* TODO: if the timer is pending, take it out of its slot (timer->index). */
    (void)heap;
    (void)timer;
}

uint64_t timer_heap_next_ns(const struct timer_heap *heap)
{
    /* TODO: the deadline of the heap's first timer, or UINT64_MAX. */
    (void)heap;
    return UINT64_MAX;
}

size_t timer_heap_advance(struct timer_heap *heap, uint64_t now_ns)
{
    /* TODO: while the first timer is due by now_ns, take it out and call its fire.
     * Set heap->now and heap->advancing for the callbacks' inserts, and when no more
     * is due, sift the timers that waited into the heap. */
    (void)heap;
    (void)now_ns;
    return 0;
}
