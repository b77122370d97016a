/* Exercise 05-timer-heap: a reference solution. Every move of a timer goes through
 * put(), which keeps the timer's index equal to its slot. */
#include "timer_heap.h"

#include <errno.h>
#include <stdlib.h>

enum { FIRST_CAPACITY = 16 };

/* Whether a fires before b: the earlier deadline, and of equal ones the earlier insert. */
static bool earlier(const struct heap_timer *a, const struct heap_timer *b)
{
    return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
}

static void put(struct timer_heap *heap, size_t slot, struct heap_timer *timer)
{
    heap->slots[slot] = timer;
    timer->index = slot;
}

/* Moves the timer in `slot` up, parents that fire later coming down, until its parent
 * fires before it. A hole travels instead of swapping: one write per level. */
static void sift_up(struct timer_heap *heap, size_t slot)
{
    struct heap_timer *timer = heap->slots[slot];
    while (slot > 0) {
        size_t parent = (slot - 1) / 2;
        if (!earlier(timer, heap->slots[parent]))
            break;
        put(heap, slot, heap->slots[parent]);
        slot = parent;
    }
    put(heap, slot, timer);
}

/* Moves the timer in `slot` down, its earlier child coming up, until both children fire
 * after it. */
static void sift_down(struct timer_heap *heap, size_t slot)
{
    struct heap_timer *timer = heap->slots[slot];
    size_t n = heap->ordered;
    for (;;) {
        size_t child = 2 * slot + 1;
        if (child >= n)
            break;
        if (child + 1 < n && earlier(heap->slots[child + 1], heap->slots[child]))
            child++;
        if (!earlier(heap->slots[child], timer))
            break;
        put(heap, slot, heap->slots[child]);
        slot = child;
    }
    put(heap, slot, timer);
}

void timer_heap_init(struct timer_heap *heap, uint64_t now_ns)
{
    *heap = (struct timer_heap){.now = now_ns};
}

void timer_heap_free(struct timer_heap *heap)
{
    for (size_t i = 0; i < heap->count; i++)
        heap->slots[i]->pending = false;
    free(heap->slots);
    *heap = (struct timer_heap){.now = heap->now};
}

void heap_timer_init(struct heap_timer *timer, heap_timer_fn fire)
{
    *timer = (struct heap_timer){.fire = fire};
}

int timer_heap_insert(struct timer_heap *heap, struct heap_timer *timer, uint64_t deadline_ns)
{
    if (heap->count == heap->capacity) {
        size_t capacity = heap->capacity > 0 ? 2 * heap->capacity : FIRST_CAPACITY;
        if (capacity > SIZE_MAX / sizeof *heap->slots)
            return -ENOMEM;
        struct heap_timer **slots = realloc(heap->slots, capacity * sizeof *slots);
        if (slots == NULL)
            return -ENOMEM;
        heap->slots = slots;
        heap->capacity = capacity;
    }
    timer->deadline = deadline_ns;
    timer->seq = heap->seq++;
    timer->pending = true;
    size_t end = heap->count++;
    if (heap->advancing && deadline_ns <= heap->now) {
        put(heap, end, timer); /* due already: waits for the advance to end */
        return 0;
    }
    if (end > heap->ordered) /* the first waiting timer makes room at the heap's end */
        put(heap, end, heap->slots[heap->ordered]);
    put(heap, heap->ordered, timer);
    sift_up(heap, heap->ordered++);
    return 0;
}

/* Takes the timer in `slot` out: the last of its part of the array (heap or waiting)
 * fills the gap, and the waiting part then slides down into the heap's freed end. */
static void remove_at(struct timer_heap *heap, size_t slot)
{
    heap->slots[slot]->pending = false;
    heap->count--;
    if (slot >= heap->ordered) {
        put(heap, slot, heap->slots[heap->count]);
        return;
    }
    size_t last = --heap->ordered;
    if (slot != last) {
        put(heap, slot, heap->slots[last]);
        if (slot > 0 && earlier(heap->slots[slot], heap->slots[(slot - 1) / 2]))
            sift_up(heap, slot);
        else
            sift_down(heap, slot);
    }
    if (heap->count > heap->ordered)
        put(heap, last, heap->slots[heap->count]);
}

void timer_heap_cancel(struct timer_heap *heap, struct heap_timer *timer)
{
    if (timer->pending)
        remove_at(heap, timer->index);
}

uint64_t timer_heap_next_ns(const struct timer_heap *heap)
{
    return heap->ordered > 0 ? heap->slots[0]->deadline : UINT64_MAX;
}

size_t timer_heap_advance(struct timer_heap *heap, uint64_t now_ns)
{
    heap->now = now_ns;
    heap->advancing = true;
    size_t fired = 0;
    while (heap->ordered > 0 && heap->slots[0]->deadline <= now_ns) {
        struct heap_timer *timer = heap->slots[0];
        remove_at(heap, 0); /* unlinked first: the callback may arm it again */
        fired++;
        timer->fire(timer);
    }
    heap->advancing = false;
    while (heap->ordered < heap->count) /* armed meanwhile for a time already past */
        sift_up(heap, heap->ordered++);
    return fired;
}
