/* Exercise 05-timer-heap: the heap passes every case the wheel passes
 * (timer_queue_cases.h), firing each timer at its deadline exactly, and then what is its
 * own: next_ns is the earliest deadline, the array stays a heap whose timers know their
 * slots, and free disarms what is left. */
#include "axtest.h"
#include "timer_heap.h"

/* The shared cases, bound to the heap: it fires at the deadline itself, and next_ns is
 * that deadline, so one step of following it fires the timer. */
typedef struct timer_heap tq_queue;
typedef struct heap_timer tq_timer;
#define TQ_SLACK_NS  ((uint64_t)0)
#define TQ_MAX_STEPS 1

static void tq_init(tq_queue *queue, uint64_t now_ns)
{
    timer_heap_init(queue, now_ns);
}

static void tq_free(tq_queue *queue)
{
    timer_heap_free(queue);
}

static void tq_timer_init(tq_timer *timer, void (*fire)(tq_timer *))
{
    heap_timer_init(timer, fire);
}

static int tq_insert(tq_queue *queue, tq_timer *timer, uint64_t deadline_ns)
{
    return timer_heap_insert(queue, timer, deadline_ns);
}

static void tq_cancel(tq_queue *queue, tq_timer *timer)
{
    timer_heap_cancel(queue, timer);
}

static uint64_t tq_next_ns(const tq_queue *queue)
{
    return timer_heap_next_ns(queue);
}

static size_t tq_advance(tq_queue *queue, uint64_t now_ns)
{
    return timer_heap_advance(queue, now_ns);
}

static size_t tq_count(const tq_queue *queue)
{
    return queue->count;
}

static bool tq_pending(const tq_timer *timer)
{
    return timer->pending;
}

#include "timer_queue_cases.h"

START_TEST(next_ns_is_the_earliest_deadline_exactly)
{
    struct timer_heap heap;
    struct log log = {0};
    timer_heap_init(&heap, 0);
    struct probe p[5];
    static const uint64_t deadlines[] = {7 * MS, 3 * MS + 1, 9 * MS, 3 * MS + 1, 5 * MS};
    for (int i = 0; i < 5; i++)
        arm(&heap, &p[i], &log, i, deadlines[i]);
    ck_assert_uint_eq(timer_heap_next_ns(&heap), 3 * MS + 1);
    timer_heap_cancel(&heap, &p[1].timer);
    ck_assert_uint_eq(timer_heap_next_ns(&heap), 3 * MS + 1); /* p[3]: the same deadline */
    timer_heap_cancel(&heap, &p[3].timer);
    ck_assert_uint_eq(timer_heap_next_ns(&heap), 5 * MS);
    ck_assert_uint_eq(advance(&heap, &log, 5 * MS), 1);
    ck_assert_uint_eq(timer_heap_next_ns(&heap), 7 * MS);
    ck_assert_uint_eq(advance(&heap, &log, 7 * MS), 1);
    ck_assert_uint_eq(timer_heap_next_ns(&heap), 9 * MS);
    timer_heap_free(&heap);
}
END_TEST

/* Checks the layout timer_heap.h describes: every pending timer is in the slot its
 * index names, and each slot of the heap fires after its parent. Asserts once. */
static void assert_heap_layout(const struct timer_heap *heap)
{
    ck_assert_uint_eq(heap->ordered, heap->count); /* between advances */
    ck_assert_uint_le(heap->count, heap->capacity);
    for (size_t i = 0; i < heap->count; i++) {
        const struct heap_timer *t = heap->slots[i];
        if (!t->pending || t->index != i)
            ck_abort_msg("slot %zu holds a timer whose index is %zu (pending %d)", i, t->index,
                         (int)t->pending);
        if (i == 0)
            continue;
        const struct heap_timer *parent = heap->slots[(i - 1) / 2];
        if (t->deadline < parent->deadline ||
            (t->deadline == parent->deadline && t->seq < parent->seq))
            ck_abort_msg("slot %zu fires before its parent, slot %zu", i, (i - 1) / 2);
    }
}

START_TEST(the_array_stays_a_heap_and_every_timer_knows_its_slot)
{
    enum { N = 2000 };
    static struct probe p[N];
    struct log log = {0};
    struct timer_heap heap;
    timer_heap_init(&heap, 0);
    uint64_t now = 0;
    srand(3);
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < N; i++)
            if (round == 0 || !p[i].timer.pending)
                arm(&heap, &p[i], &log, i, now + (uint64_t)rand() % (1000 * MS));
        assert_heap_layout(&heap);
        for (int k = 0; k < N / 2; k++) /* from anywhere: sifting up as well as down */
            timer_heap_cancel(&heap, &p[rand() % N].timer);
        assert_heap_layout(&heap);
        log.count = 0;
        now += (uint64_t)rand() % (300 * MS);
        advance(&heap, &log, now);
        assert_heap_layout(&heap);
    }
    timer_heap_free(&heap);
}
END_TEST

START_TEST(a_deep_heap_fires_what_a_sorted_list_of_timers_says)
{
    run_beside_the_model(5, 1000, 10000, 0);
}
END_TEST

START_TEST(free_disarms_the_timers_left_and_the_heap_can_be_used_again)
{
    enum { N = 100 };
    struct probe p[N];
    struct log log = {0};
    struct timer_heap heap;
    timer_heap_init(&heap, 0);
    for (int i = 0; i < N; i++)
        arm(&heap, &p[i], &log, i, (uint64_t)(N - i) * MS);
    timer_heap_free(&heap);
    int still_pending = 0;
    for (int i = 0; i < N; i++)
        still_pending += p[i].timer.pending;
    ck_assert_msg(still_pending == 0, "%d timers still pending after free", still_pending);
    ck_assert_uint_eq(heap.count, 0);
    ck_assert_uint_eq(timer_heap_next_ns(&heap), UINT64_MAX);
    insert(&heap, &p[0], 1 * MS);
    ck_assert_uint_eq(advance(&heap, &log, 1 * MS), 1);
    timer_heap_free(&heap);
}
END_TEST

static Suite *timer_heap_suite(void)
{
    Suite *s = suite_create("05-timer-heap");
    TCase *tc = axt_tcase("timer_heap");
    tq_add_cases(tc);
    tcase_add_test(tc, next_ns_is_the_earliest_deadline_exactly);
    tcase_add_test(tc, the_array_stays_a_heap_and_every_timer_knows_its_slot);
    tcase_add_test(tc, a_deep_heap_fires_what_a_sorted_list_of_timers_says);
    tcase_add_test(tc, free_disarms_the_timers_left_and_the_heap_can_be_used_again);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(timer_heap_suite)
