/* Signals into the loop (ax/signal.h): both mechanisms, signalfd and the self-pipe, by
 * the same tests (each runs once per mechanism: _i is 0 for signalfd, 1 for the pipe),
 * then what tells them apart, then the shutdown rule.
 *
 * Check's fork mode runs each test in a child that inherits Check's own SIGINT and
 * SIGTERM handlers, which kill the whole process group. So the tests raise SIGUSR1
 * and SIGUSR2, and SIGINT or SIGTERM only while the signals are taken, or in a child
 * of their own. Time is virtual where a deadline matters; nothing here sleeps. */
#include "axtest.h"
#include "virtual_time.h"
#include "ax/cancel.h"
#include "ax/scope.h"
#include "ax/signal.h"
#include "ax/task.h"
#include "ax/timer.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MS (1000ull * 1000)

static const unsigned MECHANISM[] = {0, AX_SIGNALS_SELF_PIPE};

/* ---- helpers ---------------------------------------------------------------------- */

static void take(struct ax_signals *signals, struct ax_executor *executor, unsigned flags,
                 const int *signos, size_t n)
{
    int err = ax_signals_open(signals, executor, signos, n, flags);
    ck_assert_msg(err == 0, "ax_signals_open: %s", strerror(-err));
}

static void take_usr(struct ax_signals *signals, struct ax_executor *executor, unsigned flags)
{
    static const int usr[] = {SIGUSR1, SIGUSR2};
    take(signals, executor, flags, usr, 2);
}

/* A task that waits for one signal and keeps what the wait said in *out. */
struct catcher {
    struct ax_future base;
    struct ax_signal_wait wait;
    ax_result *out;
};

static ax_result catcher_poll(struct ax_future *self, struct ax_context *cx)
{
    struct catcher *c = (struct catcher *)self;
    ax_result rc = ax_poll(&c->wait.base, cx);
    if (rc != AX_PENDING && c->out != NULL)
        *c->out = rc;
    return rc;
}

static void catcher_drop(struct ax_future *self)
{
    ax_future_drop(&((struct catcher *)self)->wait.base);
}

static const struct ax_future_ops catcher_ops = {.poll = catcher_poll, .drop = catcher_drop};

static struct ax_task *spawn_catcher(struct ax_executor *executor, struct ax_signals *signals,
                                     ax_result *out)
{
    struct catcher *c = ax_task_alloc(executor, sizeof *c);
    ck_assert_ptr_nonnull(c);
    *c = (struct catcher){.base = {&catcher_ops}, .out = out};
    ax_signal_wait_init(&c->wait, signals);
    return ax_task_spawn(&c->base);
}

/* The next signal, waited for on the loop. */
static ax_result next_signal(struct ax_executor *executor, struct ax_signals *signals)
{
    return ax_block_on(executor, spawn_catcher(executor, signals, NULL));
}

static sigset_t current_mask(void)
{
    sigset_t mask;
    ck_assert_int_eq(pthread_sigmask(SIG_SETMASK, NULL, &mask), 0);
    return mask;
}

static bool same_membership(const sigset_t *a, const sigset_t *b)
{
    for (int s = 1; s < NSIG; s++)
        if (sigismember(a, s) != sigismember(b, s))
            return false;
    return true;
}

/* A handler the tests install to see what reaches the old disposition. */
static volatile sig_atomic_t counted[NSIG];

static void count_signal(int signo)
{
    counted[signo]++;
}

static void install_counter(int signo, struct sigaction *old)
{
    struct sigaction action = {.sa_handler = count_signal};
    sigemptyset(&action.sa_mask);
    ck_assert_int_eq(sigaction(signo, &action, old), 0);
    counted[signo] = 0;
}

/* ---- both mechanisms -------------------------------------------------------------- */

START_TEST(a_raised_signal_is_the_result_of_the_wait)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_signals signals;
    take_usr(&signals, executor, MECHANISM[_i]);
    raise(SIGUSR1);
    ck_assert_int_eq(next_signal(executor, &signals), SIGUSR1);
    ax_signals_close(&signals);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_signal_sent_with_kill_wakes_a_task_parked_on_the_wait)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_signals signals;
    take_usr(&signals, executor, MECHANISM[_i]);
    ax_result got = AX_PENDING;
    struct ax_task *task = spawn_catcher(executor, &signals, &got);
    axt_run_turn(executor);
    ck_assert_msg(got == AX_PENDING, "the wait finished before any signal");
    ck_assert_int_eq(kill(getpid(), SIGUSR2), 0);
    ck_assert_int_eq(ax_block_on(executor, task), SIGUSR2);
    ax_signals_close(&signals);
    ax_executor_free(executor);
}
END_TEST

START_TEST(two_signals_in_a_row_are_waited_for_one_after_the_other)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_signals signals;
    take_usr(&signals, executor, MECHANISM[_i]);
    raise(SIGUSR1);
    ck_assert_int_eq(next_signal(executor, &signals), SIGUSR1);
    raise(SIGUSR2);
    ck_assert_int_eq(next_signal(executor, &signals), SIGUSR2);
    ax_signals_close(&signals);
    ax_executor_free(executor);
}
END_TEST

START_TEST(two_different_signals_pending_together_both_arrive)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_signals signals;
    take_usr(&signals, executor, MECHANISM[_i]);
    raise(SIGUSR2);
    raise(SIGUSR1);
    ax_result a = next_signal(executor, &signals), b = next_signal(executor, &signals);
    ck_assert_msg((a == SIGUSR1 && b == SIGUSR2) || (a == SIGUSR2 && b == SIGUSR1),
                  "got %lld and %lld", (long long)a, (long long)b);
    ax_signals_close(&signals);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_wait_dropped_before_the_signal_leaves_it_for_the_next_wait)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_signals signals;
    take_usr(&signals, executor, MECHANISM[_i]);
    struct ax_task *first = spawn_catcher(executor, &signals, NULL);
    axt_run_turn(executor);
    ax_task_abort(first);
    ax_task_detach(first);
    raise(SIGUSR1);
    ck_assert_int_eq(next_signal(executor, &signals), SIGUSR1);
    ax_signals_close(&signals);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_second_wait_at_the_same_time_is_refused_with_ebusy)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_signals signals;
    take_usr(&signals, executor, MECHANISM[_i]);
    struct ax_task *first = spawn_catcher(executor, &signals, NULL);
    axt_run_turn(executor);
    ck_assert_int_eq(next_signal(executor, &signals), -EBUSY);
    raise(SIGUSR2);
    ck_assert_int_eq(ax_block_on(executor, first), SIGUSR2);
    ax_signals_close(&signals);
    ax_executor_free(executor);
}
END_TEST

START_TEST(closing_under_a_pending_wait_finishes_it_with_ebadf)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_signals signals;
    take_usr(&signals, executor, MECHANISM[_i]);
    struct ax_task *task = spawn_catcher(executor, &signals, NULL);
    axt_run_turn(executor);
    ax_signals_close(&signals);
    ck_assert_int_eq(ax_block_on(executor, task), -EBADF);
    ax_executor_free(executor);
}
END_TEST

START_TEST(close_puts_back_the_signal_mask)
{
    sigset_t before = current_mask();
    struct ax_executor *executor = axt_paused_executor();
    struct ax_signals signals;
    take_usr(&signals, executor, MECHANISM[_i]);
    ax_signals_close(&signals);
    sigset_t after = current_mask();
    ck_assert_msg(same_membership(&before, &after), "the mask differs after close");
    ax_executor_free(executor);
}
END_TEST

START_TEST(close_puts_back_the_handler_that_was_there)
{
    struct sigaction old;
    install_counter(SIGUSR1, &old);
    struct ax_executor *executor = axt_paused_executor();
    struct ax_signals signals;
    take_usr(&signals, executor, MECHANISM[_i]);
    raise(SIGUSR1);
    ck_assert_int_eq(next_signal(executor, &signals), SIGUSR1);
    ck_assert_int_eq(counted[SIGUSR1], 0);
    ax_signals_close(&signals);
    raise(SIGUSR1);
    ck_assert_int_eq(counted[SIGUSR1], 1);
    sigaction(SIGUSR1, &old, NULL);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_signal_not_waited_for_is_discarded_at_close)
{
    struct sigaction old;
    install_counter(SIGUSR2, &old);
    struct ax_executor *executor = axt_paused_executor();
    struct ax_signals signals;
    take_usr(&signals, executor, MECHANISM[_i]);
    raise(SIGUSR2);
    ax_signals_close(&signals);
    sigset_t pending;
    sigpending(&pending);
    ck_assert_int_eq(sigismember(&pending, SIGUSR2), 0);
    ck_assert_int_eq(counted[SIGUSR2], 0);
    sigaction(SIGUSR2, &old, NULL);
    ax_executor_free(executor);
}
END_TEST

START_TEST(signals_can_be_taken_again_after_close)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_signals signals;
    take_usr(&signals, executor, MECHANISM[_i]);
    ax_signals_close(&signals);
    take_usr(&signals, executor, MECHANISM[1 - _i]);
    raise(SIGUSR1);
    ck_assert_int_eq(next_signal(executor, &signals), SIGUSR1);
    ax_signals_close(&signals);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_signal_already_taken_is_refused_with_ebusy)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_signals a, b;
    static const int usr1[] = {SIGUSR1}, both[] = {SIGUSR2, SIGUSR1};
    take(&a, executor, MECHANISM[_i], usr1, 1);
    sigset_t before = current_mask();
    ck_assert_int_eq(ax_signals_open(&b, executor, both, 2, MECHANISM[0]), -EBUSY);
    ck_assert_int_eq(ax_signals_open(&b, executor, both, 2, MECHANISM[1]), -EBUSY);
    sigset_t after = current_mask();
    ck_assert_msg(same_membership(&before, &after), "a refused open changed the mask");
    ax_signals_close(&a);
    ax_executor_free(executor);
}
END_TEST

START_TEST(two_owners_of_different_signals_each_get_their_own)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_signals a, b;
    static const int usr1[] = {SIGUSR1}, usr2[] = {SIGUSR2};
    take(&a, executor, MECHANISM[_i], usr1, 1);
    take(&b, executor, MECHANISM[1 - _i], usr2, 1);
    raise(SIGUSR2);
    raise(SIGUSR1);
    ck_assert_int_eq(next_signal(executor, &b), SIGUSR2);
    ck_assert_int_eq(next_signal(executor, &a), SIGUSR1);
    ax_signals_close(&b);
    ax_signals_close(&a);
    ax_executor_free(executor);
}
END_TEST

START_TEST(signals_that_cannot_be_caught_or_do_not_exist_are_refused)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_signals signals;
    const int bad[][1] = {{SIGKILL}, {SIGSTOP}, {0}, {-1}, {NSIG}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(ax_signals_open(&signals, executor, bad[i], 1, MECHANISM[_i]) == -EINVAL,
                      "signal %d was accepted", bad[i][0]);
    ax_executor_free(executor);
}
END_TEST

START_TEST(none_or_too_many_signals_are_refused)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_signals signals;
    int many[AX_SIGNALS_MAX + 1];
    for (int i = 0; i <= AX_SIGNALS_MAX; i++)
        many[i] = SIGRTMIN + i;
    ck_assert_int_eq(ax_signals_open(&signals, executor, many, 0, MECHANISM[_i]), -EINVAL);
    ck_assert_int_eq(ax_signals_open(&signals, executor, many, AX_SIGNALS_MAX + 1, MECHANISM[_i]),
                     -EINVAL);
    ax_executor_free(executor);
}
END_TEST

START_TEST(the_mechanism_asked_for_is_the_one_used)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_signals signals;
    take_usr(&signals, executor, MECHANISM[_i]);
    ck_assert_int_eq(ax_signals_self_pipe(&signals), _i == 1);
    ax_signals_close(&signals);
    ax_executor_free(executor);
}
END_TEST

/* ---- what tells them apart -------------------------------------------------------- */

START_TEST(signalfd_keeps_the_signals_blocked_while_open)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_signals signals;
    take_usr(&signals, executor, 0);
    sigset_t mask = current_mask();
    ck_assert(sigismember(&mask, SIGUSR1) == 1 && sigismember(&mask, SIGUSR2) == 1);
    ax_signals_close(&signals);
    mask = current_mask();
    ck_assert(sigismember(&mask, SIGUSR1) == 0 && sigismember(&mask, SIGUSR2) == 0);
    ax_executor_free(executor);
}
END_TEST

START_TEST(signalfd_leaves_a_signal_blocked_before_open_blocked_after_close)
{
    sigset_t usr1, before;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &usr1, &before);
    struct ax_executor *executor = axt_paused_executor();
    struct ax_signals signals;
    take_usr(&signals, executor, 0);
    ax_signals_close(&signals);
    sigset_t mask = current_mask();
    ck_assert_int_eq(sigismember(&mask, SIGUSR1), 1);
    ck_assert_int_eq(sigismember(&mask, SIGUSR2), 0);
    pthread_sigmask(SIG_SETMASK, &before, NULL);
    ax_executor_free(executor);
}
END_TEST

START_TEST(signalfd_merges_a_signal_raised_twice_before_the_wait)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_signals signals;
    take_usr(&signals, executor, 0);
    raise(SIGUSR1);
    raise(SIGUSR1);
    ck_assert_int_eq(next_signal(executor, &signals), SIGUSR1);
    ax_result got = AX_PENDING;
    struct ax_task *second = spawn_catcher(executor, &signals, &got);
    axt_run_turn(executor);
    ck_assert_msg(got == AX_PENDING, "a second signal came: %lld", (long long)got);
    ax_task_abort(second);
    ax_task_detach(second);
    ax_signals_close(&signals);
    ax_executor_free(executor);
}
END_TEST

START_TEST(self_pipe_keeps_each_signal_raised_twice_before_the_wait)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_signals signals;
    take_usr(&signals, executor, AX_SIGNALS_SELF_PIPE);
    raise(SIGUSR1);
    raise(SIGUSR1);
    ck_assert_int_eq(next_signal(executor, &signals), SIGUSR1);
    ck_assert_int_eq(next_signal(executor, &signals), SIGUSR1);
    ax_signals_close(&signals);
    ax_executor_free(executor);
}
END_TEST

/* Fills the self-pipe to the brim, so that the handler's own write fails. */
static void fill_pipe(struct ax_signals *signals)
{
    fcntl(signals->write_fd, F_SETPIPE_SZ, 4096); /* a page: quick to fill */
    char page[4096];
    memset(page, SIGUSR2, sizeof page);
    while (write(signals->write_fd, page, sizeof page) > 0)
        continue;
    ck_assert_int_eq(errno, EAGAIN);
}

START_TEST(self_pipe_handler_keeps_errno_when_its_write_fails)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_signals signals;
    take_usr(&signals, executor, AX_SIGNALS_SELF_PIPE);
    fill_pipe(&signals);
    errno = EDOM;
    raise(SIGUSR1); /* the handler runs before raise returns; its write says EAGAIN */
    int seen = errno;
    ck_assert_msg(seen == EDOM, "errno was %d (%s) after the handler", seen, strerror(seen));
    ax_signals_close(&signals);
    ax_executor_free(executor);
}
END_TEST

START_TEST(self_pipe_handler_keeps_errno_when_its_write_succeeds)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_signals signals;
    take_usr(&signals, executor, AX_SIGNALS_SELF_PIPE);
    errno = ERANGE;
    raise(SIGUSR2);
    int seen = errno;
    ck_assert_int_eq(seen, ERANGE);
    ck_assert_int_eq(next_signal(executor, &signals), SIGUSR2);
    ax_signals_close(&signals);
    ax_executor_free(executor);
}
END_TEST

START_TEST(self_pipe_still_wakes_the_loop_when_the_pipe_is_full)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_signals signals;
    take_usr(&signals, executor, AX_SIGNALS_SELF_PIPE);
    fill_pipe(&signals);
    raise(SIGUSR1); /* dropped: the bytes already there say enough */
    ck_assert_int_eq(next_signal(executor, &signals), SIGUSR2);
    ax_signals_close(&signals);
    ax_executor_free(executor);
}
END_TEST

/* ---- names ------------------------------------------------------------------------ */

START_TEST(signal_names_are_the_usual_ones)
{
    ck_assert_str_eq(ax_signal_name(SIGINT), "SIGINT");
    ck_assert_str_eq(ax_signal_name(SIGTERM), "SIGTERM");
    ck_assert_str_eq(ax_signal_name(SIGUSR1), "SIGUSR1");
    ck_assert_str_eq(ax_signal_name(SIGHUP), "SIGHUP");
}
END_TEST

START_TEST(a_number_that_names_no_signal_is_an_unknown_signal)
{
    ck_assert_str_eq(ax_signal_name(0), "unknown signal");
    ck_assert_str_eq(ax_signal_name(-1), "unknown signal");
    ck_assert_str_eq(ax_signal_name(NSIG + 100), "unknown signal");
}
END_TEST

/* ---- the shutdown rule ------------------------------------------------------------ */

/* A task that waits for the stop token and notes the time it woke. */
struct stop_watch {
    struct ax_future base;
    struct ax_cancel_wait wait;
    uint64_t *woke_at;
};

static ax_result stop_watch_poll(struct ax_future *self, struct ax_context *cx)
{
    struct stop_watch *w = (struct stop_watch *)self;
    ax_result rc = ax_poll(&w->wait.base, cx);
    if (rc != AX_PENDING)
        *w->woke_at = ax_executor_now(cx->executor);
    return rc;
}

static void stop_watch_drop(struct ax_future *self)
{
    ax_future_drop(&((struct stop_watch *)self)->wait.base);
}

static const struct ax_future_ops stop_watch_ops = {.poll = stop_watch_poll,
                                                    .drop = stop_watch_drop};

static struct ax_task *watch_stop(struct ax_executor *executor, struct ax_cancel_token *token,
                                  uint64_t *woke_at)
{
    struct stop_watch *w = ax_task_alloc(executor, sizeof *w);
    ck_assert_ptr_nonnull(w);
    *w = (struct stop_watch){.base = {&stop_watch_ops}, .woke_at = woke_at};
    ax_cancel_wait_init(&w->wait, token);
    return ax_task_spawn(&w->base);
}

START_TEST(the_first_sigterm_cancels_stop_and_starts_the_grace_period)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_shutdown shutdown;
    ck_assert_int_eq(ax_shutdown_start(&shutdown, executor, 500 * MS, MECHANISM[_i]), 0);
    ck_assert_uint_eq(ax_shutdown_deadline(&shutdown), 0);
    uint64_t woke_at = 0;
    struct ax_task *task = watch_stop(executor, shutdown.stop, &woke_at);
    axt_run_turn(executor);
    ck_assert(!ax_cancelled(shutdown.stop));
    raise(SIGTERM);
    ck_assert_int_eq(ax_block_on(executor, task), 0);
    ck_assert(ax_cancelled(shutdown.stop));
    ck_assert_int_eq(shutdown.signo, SIGTERM);
    ck_assert_uint_eq(ax_shutdown_deadline(&shutdown), woke_at + 500 * MS);
    ax_shutdown_stop(&shutdown);
    ax_executor_free(executor);
}
END_TEST

START_TEST(the_first_sigint_does_the_same)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_shutdown shutdown;
    ck_assert_int_eq(ax_shutdown_start(&shutdown, executor, 0, MECHANISM[_i]), 0);
    uint64_t woke_at = 0;
    struct ax_task *task = watch_stop(executor, shutdown.stop, &woke_at);
    kill(getpid(), SIGINT);
    ck_assert_int_eq(ax_block_on(executor, task), 0);
    ck_assert_int_eq(shutdown.signo, SIGINT);
    ax_shutdown_stop(&shutdown);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_scope_given_the_deadline_is_cut_when_the_grace_period_ends)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_shutdown shutdown;
    ck_assert_int_eq(ax_shutdown_start(&shutdown, executor, 2000 * MS, MECHANISM[_i]), 0);
    struct ax_scope *scope;
    ck_assert_int_eq(ax_scope_new(&scope, executor, NULL), 0);
    /* A child that would outlast any grace: it waits on a token nobody cancels. */
    struct ax_cancel_token *never;
    ck_assert_int_eq(ax_cancel_new(&never), 0);
    uint64_t child_woke = 0, stopped_at = 0;
    struct stop_watch *child = ax_task_alloc(executor, sizeof *child);
    *child = (struct stop_watch){.base = {&stop_watch_ops}, .woke_at = &child_woke};
    ax_cancel_wait_init(&child->wait, never);
    ck_assert_int_eq(ax_scope_spawn(scope, &child->base), 0);
    struct ax_task *watcher = watch_stop(executor, shutdown.stop, &stopped_at);
    raise(SIGTERM);
    ck_assert_int_eq(ax_block_on(executor, watcher), 0);
    ck_assert_int_eq(ax_scope_cancel_at(scope, ax_shutdown_deadline(&shutdown)), 0);

    struct ax_scope_wait *wait = ax_task_alloc(executor, sizeof *wait);
    ax_scope_wait_init(wait, scope);
    ck_assert_int_eq(ax_block_on(executor, ax_task_spawn(&wait->base)), -ECANCELED);
    /* At the deadline, rounded up to the wheel's tick. */
    uint64_t cut_at = ax_executor_now(executor), deadline = ax_shutdown_deadline(&shutdown);
    ck_assert_msg(cut_at >= deadline && cut_at < deadline + (1u << AX_WHEEL_TICK_SHIFT),
                  "cut at %llu, the deadline was %llu", (unsigned long long)cut_at,
                  (unsigned long long)deadline);
    ck_assert_uint_eq(child_woke, 0); /* aborted, never finished */
    ax_scope_release(scope);
    ax_cancel_release(never);
    ax_shutdown_stop(&shutdown);
    ax_executor_free(executor);
}
END_TEST

START_TEST(shutdown_stop_puts_back_the_mask_and_the_handlers)
{
    sigset_t before = current_mask();
    struct sigaction old_term, old_int, term, intr;
    sigaction(SIGTERM, NULL, &old_term);
    sigaction(SIGINT, NULL, &old_int);
    struct ax_executor *executor = axt_paused_executor();
    struct ax_shutdown shutdown;
    ck_assert_int_eq(ax_shutdown_start(&shutdown, executor, 0, MECHANISM[_i]), 0);
    ax_shutdown_stop(&shutdown);
    sigset_t after = current_mask();
    ck_assert(same_membership(&before, &after));
    sigaction(SIGTERM, NULL, &term);
    sigaction(SIGINT, NULL, &intr);
    ck_assert(term.sa_handler == old_term.sa_handler);
    ck_assert(intr.sa_handler == old_int.sa_handler);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_signal_called_in_by_the_program_counts_as_the_first)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_shutdown shutdown;
    ck_assert_int_eq(ax_shutdown_start(&shutdown, executor, 100 * MS, MECHANISM[_i]), 0);
    ck_assert_int_eq(ax_shutdown_signal(&shutdown, SIGTERM), 0);
    ck_assert(ax_cancelled(shutdown.stop));
    ck_assert_uint_eq(ax_shutdown_deadline(&shutdown), AXT_START + 100 * MS);
    ax_shutdown_stop(&shutdown);
    ax_executor_free(executor);
}
END_TEST

/* In a child of its own: start the rule, take the first signal, then send `second`;
 * returns the child's wait status. The child exits 0 if the second changed nothing. */
static int status_after_two_signals(unsigned flags, int first, int second)
{
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct ax_executor *executor;
        if (ax_executor_new(&executor, NULL) < 0)
            _exit(100);
        struct ax_shutdown shutdown;
        if (ax_shutdown_start(&shutdown, executor, 60000 * MS, flags) < 0)
            _exit(101);
        uint64_t woke_at = 0;
        raise(first);
        if (ax_block_on(executor, watch_stop(executor, shutdown.stop, &woke_at)) != 0)
            _exit(102);
        raise(second);
        /* The watcher takes it at the next look at I/O; this task waits for nothing
         * else. */
        struct ax_cancel_token *never;
        if (ax_cancel_new(&never) < 0)
            _exit(103);
        ax_cancel_at(never, executor, ax_executor_now(executor) + 2000 * MS);
        ax_block_on(executor, watch_stop(executor, never, &woke_at));
        _exit(0);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return status;
}

START_TEST(a_second_sigterm_exits_at_once_with_128_plus_its_number)
{
    int status = status_after_two_signals(MECHANISM[_i], SIGTERM, SIGTERM);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGTERM,
                  "wait status %#x, expected exit %d", status, 128 + SIGTERM);
}
END_TEST

START_TEST(a_sigint_after_a_sigterm_exits_with_128_plus_sigint)
{
    int status = status_after_two_signals(MECHANISM[_i], SIGTERM, SIGINT);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGINT,
                  "wait status %#x, expected exit %d", status, 128 + SIGINT);
}
END_TEST

static Suite *signal_suite(void)
{
    Suite *s = suite_create("06-signal");
    TCase *both = axt_tcase("both mechanisms");
    tcase_add_loop_test(both, a_raised_signal_is_the_result_of_the_wait, 0, 2);
    tcase_add_loop_test(both, a_signal_sent_with_kill_wakes_a_task_parked_on_the_wait, 0, 2);
    tcase_add_loop_test(both, two_signals_in_a_row_are_waited_for_one_after_the_other, 0, 2);
    tcase_add_loop_test(both, two_different_signals_pending_together_both_arrive, 0, 2);
    tcase_add_loop_test(both, a_wait_dropped_before_the_signal_leaves_it_for_the_next_wait, 0, 2);
    tcase_add_loop_test(both, a_second_wait_at_the_same_time_is_refused_with_ebusy, 0, 2);
    tcase_add_loop_test(both, closing_under_a_pending_wait_finishes_it_with_ebadf, 0, 2);
    tcase_add_loop_test(both, close_puts_back_the_signal_mask, 0, 2);
    tcase_add_loop_test(both, close_puts_back_the_handler_that_was_there, 0, 2);
    tcase_add_loop_test(both, a_signal_not_waited_for_is_discarded_at_close, 0, 2);
    tcase_add_loop_test(both, signals_can_be_taken_again_after_close, 0, 2);
    tcase_add_loop_test(both, a_signal_already_taken_is_refused_with_ebusy, 0, 2);
    tcase_add_loop_test(both, two_owners_of_different_signals_each_get_their_own, 0, 2);
    tcase_add_loop_test(both, signals_that_cannot_be_caught_or_do_not_exist_are_refused, 0, 2);
    tcase_add_loop_test(both, none_or_too_many_signals_are_refused, 0, 2);
    tcase_add_loop_test(both, the_mechanism_asked_for_is_the_one_used, 0, 2);
    suite_add_tcase(s, both);

    TCase *apart = axt_tcase("what tells them apart");
    tcase_add_test(apart, signalfd_keeps_the_signals_blocked_while_open);
    tcase_add_test(apart, signalfd_leaves_a_signal_blocked_before_open_blocked_after_close);
    tcase_add_test(apart, signalfd_merges_a_signal_raised_twice_before_the_wait);
    tcase_add_test(apart, self_pipe_keeps_each_signal_raised_twice_before_the_wait);
    tcase_add_test(apart, self_pipe_handler_keeps_errno_when_its_write_fails);
    tcase_add_test(apart, self_pipe_handler_keeps_errno_when_its_write_succeeds);
    tcase_add_test(apart, self_pipe_still_wakes_the_loop_when_the_pipe_is_full);
    suite_add_tcase(s, apart);

    TCase *names = axt_tcase("names");
    tcase_add_test(names, signal_names_are_the_usual_ones);
    tcase_add_test(names, a_number_that_names_no_signal_is_an_unknown_signal);
    suite_add_tcase(s, names);

    TCase *rule = axt_tcase("shutdown");
    tcase_add_loop_test(rule, the_first_sigterm_cancels_stop_and_starts_the_grace_period, 0, 2);
    tcase_add_loop_test(rule, the_first_sigint_does_the_same, 0, 2);
    tcase_add_loop_test(rule, a_scope_given_the_deadline_is_cut_when_the_grace_period_ends, 0, 2);
    tcase_add_loop_test(rule, shutdown_stop_puts_back_the_mask_and_the_handlers, 0, 2);
    tcase_add_loop_test(rule, a_signal_called_in_by_the_program_counts_as_the_first, 0, 2);
    tcase_add_loop_test(rule, a_second_sigterm_exits_at_once_with_128_plus_its_number, 0, 2);
    tcase_add_loop_test(rule, a_sigint_after_a_sigterm_exits_with_128_plus_sigint, 0, 2);
    suite_add_tcase(s, rule);
    return s;
}

AXT_MAIN(signal_suite)
