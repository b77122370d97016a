/* Exercise 07-barrier: nobody passes before the last party arrives, the last one leads,
 * the barrier serves round after round, a repeated poll does not arrive twice, a dropped
 * wait leaves its round (and one dropped after its round changes nothing).
 *
 * Each party is a task that waits at the barrier for a number of rounds and counts what
 * it saw. The tests run the executor a turn at a time (axt_run_turn), so "has not
 * passed yet" is a fact about one moment, not a guess about timing. */
#include "axtest.h"
#include "barrier.h"
#include "virtual_time.h"

#include "ax/task.h"

#include <stdbool.h>

/* What a party saw, kept outside its task. */
struct seen {
    int passed; /* rounds it got through */
    int led; /* of them, as the leader */
    int drops;
};

struct party {
    struct ax_future base;
    struct barrier *barrier;
    struct barrier_wait wait;
    bool waiting; /* `wait` is initialised and not yet dropped */
    int rounds; /* left to go */
    int fidgets; /* polls of one wait still to fake with a wake of its own */
    struct seen *seen;
};

static ax_result party_poll(struct ax_future *self, struct ax_context *cx)
{
    struct party *p = (struct party *)self;
    while (p->rounds > 0) {
        if (!p->waiting)
            barrier_wait_init(&p->wait, p->barrier);
        p->waiting = true;
        ax_result rc = ax_poll(&p->wait.base, cx);
        if (rc == AX_PENDING) {
            if (p->fidgets > 0) { /* be polled again though nothing changed */
                p->fidgets--;
                struct ax_waker self_waker = ax_waker_clone(cx);
                ax_wake(&self_waker);
            }
            return AX_PENDING;
        }
        ax_future_drop(&p->wait.base);
        p->waiting = false;
        ck_assert_msg(rc == 0 || rc == 1, "a wait finished with %lld", (long long)rc);
        p->seen->passed++;
        p->seen->led += (int)rc;
        p->rounds--;
    }
    return 0;
}

static void party_drop(struct ax_future *self)
{
    struct party *p = (struct party *)self;
    if (p->waiting)
        ax_future_drop(&p->wait.base);
    p->waiting = false;
    p->seen->drops++;
}

static const struct ax_future_ops party_ops = {.poll = party_poll, .drop = party_drop};

/* A party of `rounds` rounds, started; its handle. */
static struct ax_task *arrive(struct ax_executor *executor, struct barrier *b, int rounds,
                              struct seen *seen)
{
    struct party *p = ax_task_alloc(executor, sizeof *p);
    ck_assert_ptr_nonnull(p);
    *p = (struct party){.base = {&party_ops}, .barrier = b, .rounds = rounds, .seen = seen};
    return ax_task_spawn(&p->base);
}

static void arrive_detached(struct ax_executor *executor, struct barrier *b, struct seen *seen)
{
    ax_task_detach(arrive(executor, b, 1, seen));
}

static int total_passed(const struct seen *seen, int n)
{
    int sum = 0;
    for (int i = 0; i < n; i++)
        sum += seen[i].passed;
    return sum;
}

START_TEST(nobody_passes_before_the_last_party_arrives)
{
    struct ax_executor *executor = axt_paused_executor();
    struct barrier b;
    barrier_init(&b, 3);
    struct seen seen[3] = {0};
    arrive_detached(executor, &b, &seen[0]);
    arrive_detached(executor, &b, &seen[1]);
    axt_run_turn(executor);
    axt_run_turn(executor);
    ck_assert_msg(total_passed(seen, 3) == 0, "a wait passed with 2 of 3 parties there");
    arrive_detached(executor, &b, &seen[2]);
    ck_assert_int_eq(ax_executor_run(executor), 0);
    ck_assert_int_eq(total_passed(seen, 3), 3);
    ck_assert_msg(seen[2].led == 1 && seen[0].led == 0 && seen[1].led == 0,
                  "the last to arrive leads the round (leaders: %d %d %d)", seen[0].led,
                  seen[1].led, seen[2].led);
    ax_executor_free(executor);
}
END_TEST

START_TEST(the_barrier_serves_round_after_round)
{
    enum { PARTIES = 4, ROUNDS = 6 };
    struct ax_executor *executor = axt_paused_executor();
    struct barrier b;
    barrier_init(&b, PARTIES);
    struct seen seen[PARTIES] = {{0}};
    for (int i = 0; i < PARTIES; i++)
        ax_task_detach(arrive(executor, &b, ROUNDS, &seen[i]));
    ck_assert_int_eq(ax_executor_run(executor), 0);
    int led = 0;
    for (int i = 0; i < PARTIES; i++) {
        ck_assert_int_eq(seen[i].passed, ROUNDS);
        led += seen[i].led;
    }
    ck_assert_msg(led == ROUNDS, "%d leaders in %d rounds: one a round", led, ROUNDS);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_wait_polled_again_does_not_arrive_twice)
{
    struct ax_executor *executor = axt_paused_executor();
    struct barrier b;
    barrier_init(&b, 3);
    struct seen seen[3] = {0};
    struct party *p = ax_task_alloc(executor, sizeof *p);
    ck_assert_ptr_nonnull(p);
    *p = (struct party){
        .base = {&party_ops}, .barrier = &b, .rounds = 1, .fidgets = 5, .seen = &seen[0]};
    ax_task_detach(ax_task_spawn(&p->base));
    for (int i = 0; i < 6; i++)
        axt_run_turn(executor);
    arrive_detached(executor, &b, &seen[1]);
    axt_run_turn(executor);
    axt_run_turn(executor);
    ck_assert_msg(total_passed(seen, 3) == 0,
                  "a wait polled six times counted as more than one arrival");
    arrive_detached(executor, &b, &seen[2]);
    ck_assert_int_eq(ax_executor_run(executor), 0);
    ck_assert_int_eq(total_passed(seen, 3), 3);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_wait_dropped_before_its_round_ends_leaves_it)
{
    struct ax_executor *executor = axt_paused_executor();
    struct barrier b;
    barrier_init(&b, 3);
    struct seen seen[4] = {0};
    arrive_detached(executor, &b, &seen[0]);
    struct ax_task *quitter = arrive(executor, &b, 1, &seen[1]);
    axt_run_turn(executor);
    ax_task_abort(quitter); /* parked: dropped at once */
    ax_task_detach(quitter);
    ck_assert_int_eq(seen[1].drops, 1);
    arrive_detached(executor, &b, &seen[2]);
    axt_run_turn(executor);
    axt_run_turn(executor);
    ck_assert_msg(total_passed(seen, 4) == 0,
                  "a round of 3 ended with 2 waiting and 1 dropped: the dropped one still counted");
    arrive_detached(executor, &b, &seen[3]);
    ck_assert_int_eq(ax_executor_run(executor), 0);
    ck_assert_msg(seen[0].passed == 1 && seen[2].passed == 1 && seen[3].passed == 1 &&
                      seen[1].passed == 0,
                  "the three that stayed pass, the dropped one does not");
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_wait_of_an_ended_round_passes_though_the_next_round_began)
{
    struct ax_executor *executor = axt_paused_executor();
    struct barrier b;
    barrier_init(&b, 2);
    struct seen seen[4] = {0};
    arrive_detached(executor, &b, &seen[0]);
    axt_run_turn(executor);
    /* One turn polls B (it ends round 1 and wakes A), then C (it opens round 2), then A. */
    arrive_detached(executor, &b, &seen[1]);
    arrive_detached(executor, &b, &seen[2]);
    axt_run_turn(executor);
    ck_assert_msg(seen[1].passed == 1 && seen[1].led == 1, "B ends round 1, as its leader");
    ck_assert_msg(seen[0].passed == 1 && seen[0].led == 0,
                  "A waited in round 1, which ended: it passes (passed %d)", seen[0].passed);
    ck_assert_msg(seen[2].passed == 0, "C is alone in round 2 and must wait");
    arrive_detached(executor, &b, &seen[3]);
    ck_assert_int_eq(ax_executor_run(executor), 0);
    ck_assert_int_eq(seen[2].passed + seen[3].passed, 2);
    ck_assert_int_eq(seen[2].led + seen[3].led, 1);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_wait_dropped_after_its_round_ended_changes_nothing)
{
    struct ax_executor *executor = axt_paused_executor();
    struct barrier b;
    barrier_init(&b, 2);
    struct seen seen[4] = {0};
    struct ax_task *late = arrive(executor, &b, 1, &seen[0]);
    axt_run_turn(executor);
    arrive_detached(executor, &b, &seen[1]); /* ends the round: A is queued to pass */
    axt_run_turn(executor);
    ax_task_abort(late); /* dropped at its turn, without being polled */
    ax_task_detach(late);
    axt_run_turn(executor);
    ck_assert_int_eq(seen[0].drops, 1);
    arrive_detached(executor, &b, &seen[2]);
    axt_run_turn(executor);
    ck_assert_msg(seen[2].passed == 0, "round 2 has one party of two: C must wait");
    arrive_detached(executor, &b, &seen[3]);
    ck_assert_int_eq(ax_executor_run(executor), 0);
    ck_assert_msg(seen[2].passed == 1 && seen[3].passed == 1,
                  "round 2 ends when its second party arrives (passed: %d %d)", seen[2].passed,
                  seen[3].passed);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_barrier_of_one_or_no_party_lets_every_wait_through_as_leader)
{
    for (size_t parties = 0; parties <= 1; parties++) {
        struct ax_executor *executor = axt_paused_executor();
        struct barrier b;
        barrier_init(&b, parties);
        struct seen seen = {0};
        ax_task_detach(arrive(executor, &b, 3, &seen));
        axt_run_turn(executor);
        ck_assert_msg(seen.passed == 3 && seen.led == 3,
                      "with %zu parties: passed %d rounds, led %d, in one poll", parties,
                      seen.passed, seen.led);
        ax_executor_free(executor);
    }
}
END_TEST

static Suite *barrier_suite(void)
{
    Suite *s = suite_create("07-barrier");
    TCase *tc = axt_tcase("barrier");
    tcase_add_test(tc, nobody_passes_before_the_last_party_arrives);
    tcase_add_test(tc, the_barrier_serves_round_after_round);
    tcase_add_test(tc, a_wait_polled_again_does_not_arrive_twice);
    tcase_add_test(tc, a_wait_dropped_before_its_round_ends_leaves_it);
    tcase_add_test(tc, a_wait_of_an_ended_round_passes_though_the_next_round_began);
    tcase_add_test(tc, a_wait_dropped_after_its_round_ended_changes_nothing);
    tcase_add_test(tc, a_barrier_of_one_or_no_party_lets_every_wait_through_as_leader);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(barrier_suite)
