/* Tasks, wakers and the executor: the rules of ax/task.h, one test each. */
#include "axtest.h"
#include "ax/async.h"
#include "ax/event.h"
#include "ax/net.h"
#include "ax/reactor.h"
#include "ax/task.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct ax_executor *new_executor(void)
{
    struct ax_executor *executor;
    ck_assert_int_eq(ax_executor_new(&executor, NULL), 0);
    return executor;
}

/* ---- small futures for the tests ---------------------------------------------------- */

/* Finishes at once with its value. */
struct ready {
    struct ax_future base;
    ax_result value;
};

static ax_result ready_poll(struct ax_future *self, struct ax_context *cx)
{
    (void)cx;
    return ((struct ready *)self)->value;
}

static const struct ax_future_ops ready_ops = {.poll = ready_poll};

static struct ax_task *spawn_ready(struct ax_executor *executor, ax_result value)
{
    struct ready *f = ax_task_alloc(executor, sizeof *f);
    *f = (struct ready){.base = {&ready_ops}, .value = value};
    return ax_task_spawn(&f->base);
}

/* Counts its polls and drops; pending until `go` is set, waking itself `self_wakes`
 * times during its first poll before returning AX_PENDING. */
struct probe {
    struct ax_future base;
    int *polls;
    int *drops;
    int self_wakes;
    struct ax_waker waker; /* kept so a test can wake it from outside */
    bool *go;
};

static ax_result probe_poll(struct ax_future *self, struct ax_context *cx)
{
    struct probe *p = (struct probe *)self;
    (*p->polls)++;
    if (p->go != NULL && *p->go)
        return 7;
    if (p->waker.task == NULL)
        p->waker = ax_waker_clone(cx);
    for (; p->self_wakes > 0; p->self_wakes--)
        ax_waker_wake(&p->waker);
    return AX_PENDING;
}

static void probe_drop(struct ax_future *self)
{
    struct probe *p = (struct probe *)self;
    (*p->drops)++;
    ax_waker_drop(&p->waker);
}

static const struct ax_future_ops probe_ops = {.poll = probe_poll, .drop = probe_drop};

static struct probe *spawn_probe(struct ax_executor *executor, int *polls, int *drops, bool *go,
                                 struct ax_task **task)
{
    struct probe *p = ax_task_alloc(executor, sizeof *p);
    *p = (struct probe){.base = {&probe_ops}, .polls = polls, .drops = drops, .go = go};
    *task = ax_task_spawn(&p->base);
    return p;
}

/* ---- the tests ---------------------------------------------------------------------- */

START_TEST(block_on_returns_the_task_result)
{
    struct ax_executor *executor = new_executor();
    ck_assert_int_eq(ax_block_on(executor, spawn_ready(executor, 42)), 42);
    ck_assert_int_eq(ax_executor_tasks(executor), 0);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_wake_during_the_poll_that_returns_pending_is_not_lost)
{
    struct ax_executor *executor = new_executor();
    int polls = 0, drops = 0;
    bool go = false;
    struct ax_task *task;
    struct probe *p = spawn_probe(executor, &polls, &drops, &go, &task);
    p->self_wakes = 1; /* wakes itself, then says pending: must be polled again */
    ax_task_detach(task);
    /* Run one round by hand: the first poll, then the requeued one. */
    ax_block_on(executor, spawn_ready(executor, 0));
    ck_assert_int_ge(polls, 2);
    go = true;
    ax_waker_wake(&p->waker);
    ck_assert_int_eq(ax_executor_run(executor), 0);
    ck_assert_int_eq(drops, 1);
    ax_executor_free(executor);
}
END_TEST

START_TEST(many_wakes_of_an_idle_task_queue_it_once)
{
    struct ax_executor *executor = new_executor();
    int polls = 0, drops = 0;
    bool go = false;
    struct ax_task *task;
    struct probe *p = spawn_probe(executor, &polls, &drops, &go, &task);
    ax_block_on(executor, spawn_ready(executor, 0)); /* first poll: parks */
    ck_assert_int_eq(polls, 1);
    for (int i = 0; i < 10; i++)
        ax_waker_wake(&p->waker);
    ax_block_on(executor, spawn_ready(executor, 0));
    ck_assert_int_eq(polls, 2); /* ten wakes, one poll */
    go = true;
    ax_waker_wake(&p->waker);
    ck_assert_int_eq(ax_block_on(executor, task), 7);
    ck_assert_int_eq(drops, 1);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_waker_outliving_its_finished_task_is_harmless)
{
    struct ax_executor *executor = new_executor();
    int polls = 0, drops = 0;
    bool go = false;
    struct ax_task *task;
    struct probe *p = spawn_probe(executor, &polls, &drops, &go, &task);
    ax_block_on(executor, spawn_ready(executor, 0));
    struct ax_waker kept = p->waker; /* moved out of the future: */
    p->waker.task = NULL; /* the future no longer holds it */
    go = true;
    ax_waker_wake(&kept);
    ck_assert_int_eq(ax_block_on(executor, task), 7);
    ax_waker_wake(&kept); /* the task is done: nothing happens */
    ax_waker_drop(&kept); /* and this frees it (valgrind checks) */
    ck_assert_int_eq(ax_executor_tasks(executor), 0);
    ax_executor_free(executor);
}
END_TEST

/* Joins a task for one poll, then gives up on it: drops the join and finishes. */
struct quitter {
    struct ax_future base;
    struct ax_join join;
};

static ax_result quitter_poll(struct ax_future *self, struct ax_context *cx)
{
    struct quitter *q = (struct quitter *)self;
    ck_assert(ax_poll(&q->join.base, cx) == AX_PENDING);
    ax_future_drop(&q->join.base);
    return 0;
}

static const struct ax_future_ops quitter_ops = {.poll = quitter_poll};

START_TEST(a_join_dropped_before_its_task_finishes_leaves_no_joiner_to_wake)
{
    struct ax_executor *executor = new_executor();
    int polls = 0, drops = 0;
    bool go = false;
    struct ax_task *task;
    struct probe *p = spawn_probe(executor, &polls, &drops, &go, &task);
    struct quitter *q = ax_task_alloc(executor, sizeof *q);
    q->base.ops = &quitter_ops;
    ax_join_init(&q->join, task); /* the join takes the handle */
    ck_assert_int_eq(ax_block_on(executor, ax_task_spawn(&q->base)), 0); /* its memory goes */
    go = true;
    ax_waker_wake(&p->waker);
    ck_assert_int_eq(ax_executor_run(executor), 0); /* wakes no freed joiner (ASan checks) */
    ck_assert_int_eq(polls, 2);
    ax_executor_free(executor);
}
END_TEST

START_TEST(joining_a_failed_task_returns_its_error)
{
    struct ax_executor *executor = new_executor();
    ck_assert_int_eq(ax_block_on(executor, spawn_ready(executor, -EIO)), -EIO);
    ax_executor_free(executor);
}
END_TEST

/* Spawns `count` children that each return their index, then joins them in order;
 * finishes with the sum. */
struct parent {
    struct ax_future base;
    struct ax_coroutine co;
    int count, i;
    ax_result got;
    int64_t sum;
    struct ax_task **children;
    struct ax_join join;
};

static ax_result parent_poll(struct ax_future *self, struct ax_context *cx)
{
    struct parent *p = (struct parent *)self;
    AX_ASYNC_BEGIN(&p->co);
    p->children = malloc((size_t)p->count * sizeof *p->children);
    for (p->i = 0; p->i < p->count; p->i++)
        p->children[p->i] = spawn_ready(cx->executor, p->i);
    for (p->i = 0; p->i < p->count; p->i++) {
        ax_join_init(&p->join, p->children[p->i]);
        AX_AWAIT(&p->co, cx, &p->join.base, p->got);
        if (p->got != p->i)
            AX_ASYNC_RETURN(&p->co, -EPROTO); /* results out of order */
        p->sum += p->got;
    }
    AX_ASYNC_END(&p->co, p->sum);
}

static void parent_drop(struct ax_future *self)
{
    struct parent *p = (struct parent *)self;
    AX_ASYNC_DROP(&p->co);
    free(p->children);
}

static const struct ax_future_ops parent_ops = {.poll = parent_poll, .drop = parent_drop};

START_TEST(a_hundred_thousand_tasks_spawned_by_a_task_are_joined_in_order)
{
    enum { COUNT = 100000 };
    struct ax_executor *executor = new_executor();
    struct parent *p = ax_task_alloc(executor, sizeof *p);
    *p = (struct parent){.base = {&parent_ops}, .count = COUNT};
    ax_result sum = ax_block_on(executor, ax_task_spawn(&p->base));
    ck_assert_int_eq(sum, (int64_t)COUNT * (COUNT - 1) / 2);
    ck_assert_int_eq(ax_executor_tasks(executor), 0);
    ax_executor_free(executor);
}
END_TEST

/* Waits on an event; counts drops. */
struct waiter {
    struct ax_future base;
    struct ax_event_wait wait;
    int *drops;
};

static ax_result waiter_poll(struct ax_future *self, struct ax_context *cx)
{
    return ax_poll(&((struct waiter *)self)->wait.base, cx);
}

static void waiter_drop(struct ax_future *self)
{
    struct waiter *w = (struct waiter *)self;
    ax_future_drop(&w->wait.base);
    (*w->drops)++;
}

static const struct ax_future_ops waiter_ops = {.poll = waiter_poll, .drop = waiter_drop};

static struct ax_task *spawn_waiter(struct ax_executor *executor, struct ax_event *event,
                                    int *drops)
{
    struct waiter *w = ax_task_alloc(executor, sizeof *w);
    *w = (struct waiter){.base = {&waiter_ops}, .drops = drops};
    ax_event_wait_init(&w->wait, event);
    return ax_task_spawn(&w->base);
}

START_TEST(setting_an_event_wakes_every_waiter)
{
    struct ax_executor *executor = new_executor();
    struct ax_event event;
    ax_event_init(&event);
    int drops = 0;
    for (int i = 0; i < 1000; i++)
        ax_task_detach(spawn_waiter(executor, &event, &drops));
    ax_block_on(executor, spawn_ready(executor, 0)); /* all of them park */
    ck_assert_int_eq(ax_executor_tasks(executor), 1000);
    ax_event_set(&event);
    ck_assert_int_eq(ax_executor_run(executor), 0);
    ck_assert_int_eq(drops, 1000);
    ax_executor_free(executor);
}
END_TEST

START_TEST(waiting_for_what_nothing_can_wake_is_reported_as_deadlock)
{
    struct ax_executor *executor = new_executor();
    struct ax_event never;
    ax_event_init(&never);
    int drops = 0;
    ck_assert_int_eq(ax_block_on(executor, spawn_waiter(executor, &never, &drops)), -EDEADLK);
    ax_executor_free(executor); /* drops the parked task's future, once */
    ck_assert_int_eq(drops, 1);
}
END_TEST

START_TEST(freeing_the_executor_drops_each_unfinished_future_once)
{
    struct ax_executor *executor = new_executor();
    struct ax_event never;
    ax_event_init(&never);
    int drops = 0;
    for (int i = 0; i < 100; i++)
        ax_task_detach(spawn_waiter(executor, &never, &drops));
    struct ax_task *kept = spawn_waiter(executor, &never, &drops);
    ax_task_detach(kept);
    ax_block_on(executor, spawn_ready(executor, 0));
    ax_executor_free(executor);
    ck_assert_int_eq(drops, 101);
    ck_assert(ax_list_empty(&never.waiters)); /* every wait unlinked itself */
}
END_TEST

/* A task that wakes itself on every poll until *stop is set. */
struct spinner {
    struct ax_future base;
    bool *stop;
    long spins;
};

static ax_result spinner_poll(struct ax_future *self, struct ax_context *cx)
{
    struct spinner *s = (struct spinner *)self;
    if (*s->stop)
        return s->spins;
    s->spins++;
    struct ax_waker me = ax_waker_clone(cx);
    ax_wake(&me);
    return AX_PENDING;
}

static const struct ax_future_ops spinner_ops = {.poll = spinner_poll};

static void stop_on_readable(struct ax_reactor *reactor, int fd, int events, void *data)
{
    (void)events;
    *(bool *)data = true;
    ax_reactor_unwatch(reactor, fd);
}

START_TEST(a_task_that_always_wakes_itself_cannot_starve_io)
{
    struct ax_executor *executor = new_executor();
    bool stop = false;
    int fds[2];
    axt_socketpair(fds);
    ax_write_all(fds[0], "x", 1); /* ready at once: only the reactor can notice */
    ax_reactor_watch(ax_executor_reactor(executor), fds[1], AX_READABLE, stop_on_readable, &stop);
    struct spinner *s = ax_task_alloc(executor, sizeof *s);
    *s = (struct spinner){.base = {&spinner_ops}, .stop = &stop};
    ax_result spins = ax_block_on(executor, ax_task_spawn(&s->base));
    ck_assert_int_ge(spins, 1);
    ck_assert_int_le(spins, AX_EVENT_INTERVAL); /* I/O was looked at within one budget */
    close(fds[0]);
    close(fds[1]);
    ax_executor_free(executor);
}
END_TEST

/* ---- the order of polls: the loop's events first, then the tasks' own work -------- */

/* A task that parks until the reactor wakes it, keeping its waker where the test's
 * reactor callback finds it; `news` counts the polls of new tasks, `*seen` is what it
 * was when this task finished. */
struct listener {
    struct ax_future base;
    struct ax_waker waker;
    bool *stop;
    long *news, *seen;
};

static ax_result listener_poll(struct ax_future *self, struct ax_context *cx)
{
    struct listener *l = (struct listener *)self;
    if (l->waker.task != NULL && (l->stop == NULL || *l->stop)) {
        if (l->seen != NULL)
            *l->seen = *l->news;
        return 0;
    }
    if (l->waker.task == NULL)
        l->waker = ax_waker_clone(cx);
    return AX_PENDING;
}

static void listener_drop(struct ax_future *self)
{
    ax_waker_drop(&((struct listener *)self)->waker);
}

static const struct ax_future_ops listener_ops = {.poll = listener_poll, .drop = listener_drop};

static struct listener *spawn_listener(struct ax_executor *executor, long *news, long *seen,
                                       bool *stop, struct ax_task **task)
{
    struct listener *l = ax_task_alloc(executor, sizeof *l);
    *l = (struct listener){.base = {&listener_ops}, .news = news, .seen = seen, .stop = stop};
    *task = ax_task_spawn(&l->base);
    return l;
}

/* A new task: counts its poll and finishes. */
struct newcomer {
    struct ax_future base;
    long *news;
};

static ax_result newcomer_poll(struct ax_future *self, struct ax_context *cx)
{
    (void)cx;
    (*((struct newcomer *)self)->news)++;
    return 0;
}

static const struct ax_future_ops newcomer_ops = {.poll = newcomer_poll};

static struct ax_task *spawn_newcomer(struct ax_executor *executor, long *news)
{
    struct newcomer *n = ax_task_alloc(executor, sizeof *n);
    *n = (struct newcomer){.base = {&newcomer_ops}, .news = news};
    return ax_task_spawn(&n->base);
}

/* Spawns `count` newcomers on its poll, then makes `fd` readable. */
struct spawner {
    struct ax_future base;
    int count, fd;
    long *news;
};

static ax_result spawner_poll(struct ax_future *self, struct ax_context *cx)
{
    struct spawner *s = (struct spawner *)self;
    for (int i = 0; i < s->count; i++)
        ax_task_detach(spawn_newcomer(cx->executor, s->news));
    ck_assert_int_eq(ax_write_all(s->fd, "x", 1), 0);
    return 0;
}

static const struct ax_future_ops spawner_ops = {.poll = spawner_poll};

/* The reactor's callback: wakes the listeners in `data`, from the loop's I/O phase. */
struct listeners {
    struct listener **each;
    int count;
    bool unwatch;
};

static void wake_listeners(struct ax_reactor *reactor, int fd, int events, void *data)
{
    (void)events;
    struct listeners *ls = data;
    for (int i = 0; i < ls->count; i++)
        ax_waker_wake(&ls->each[i]->waker);
    if (ls->unwatch)
        ax_reactor_unwatch(reactor, fd);
}

enum { BURST = 3 * AX_EVENT_INTERVAL };

START_TEST(a_task_woken_by_io_goes_before_a_burst_of_new_tasks)
{
    struct ax_executor *executor = new_executor();
    int fds[2];
    axt_socketpair(fds);
    long news = 0, seen = -1;
    struct ax_task *task;
    struct listener *l = spawn_listener(executor, &news, &seen, NULL, &task);
    struct listeners ls = {&l, 1, true};
    ax_reactor_watch(ax_executor_reactor(executor), fds[1], AX_READABLE, wake_listeners, &ls);
    struct spawner *s = ax_task_alloc(executor, sizeof *s);
    *s = (struct spawner){.base = {&spawner_ops}, .count = BURST, .fd = fds[0], .news = &news};
    ax_task_detach(ax_task_spawn(&s->base));
    ck_assert_int_eq(ax_block_on(executor, task), 0);
    /* With one line it would run after the whole burst; it ran within a turn of its I/O */
    ck_assert_int_ge(seen, 0);
    ck_assert_int_le(seen, AX_EVENT_INTERVAL);
    ax_block_on(executor, spawn_newcomer(executor, &news));
    ck_assert_int_eq(news, BURST + 1); /* and the burst ran too */
    ax_executor_free(executor);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

/* Notes the order of polls; wakes itself once first. */
struct yielder {
    struct ax_future base;
    char name, *log;
    bool yielded;
};

static ax_result yielder_poll(struct ax_future *self, struct ax_context *cx)
{
    struct yielder *y = (struct yielder *)self;
    strncat(y->log, &y->name, 1);
    if (y->yielded)
        return 0;
    y->yielded = true;
    struct ax_waker me = ax_waker_clone(cx);
    ax_wake(&me);
    return AX_PENDING;
}

static const struct ax_future_ops yielder_ops = {.poll = yielder_poll};

START_TEST(a_task_that_wakes_itself_lets_the_tasks_queued_before_go_first)
{
    struct ax_executor *executor = new_executor();
    char log[8] = "";
    struct ax_task *tasks[3];
    for (int i = 0; i < 3; i++) {
        struct yielder *y = ax_task_alloc(executor, sizeof *y);
        *y = (struct yielder){.base = {&yielder_ops}, .name = (char)('A' + i), .log = log};
        tasks[i] = ax_task_spawn(&y->base);
    }
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(ax_block_on(executor, tasks[i]), 0);
    ck_assert_str_eq(log, "ABCABC");
    ax_executor_free(executor);
}
END_TEST

enum { FLOOD = 2 * AX_EVENT_INTERVAL };

START_TEST(a_flood_of_io_wakes_cannot_keep_a_new_task_from_starting)
{
    struct ax_executor *executor = new_executor();
    int fds[2];
    axt_socketpair(fds);
    ck_assert_int_eq(ax_write_all(fds[0], "x", 1), 0); /* readable for good: a wake a turn */
    long news = 0;
    bool stop = false;
    struct listener *each[FLOOD];
    struct ax_task *tasks[FLOOD];
    for (int i = 0; i < FLOOD; i++)
        each[i] = spawn_listener(executor, &news, NULL, &stop, &tasks[i]);
    struct listeners ls = {each, FLOOD, false};
    ax_reactor_watch(ax_executor_reactor(executor), fds[1], AX_READABLE, wake_listeners, &ls);
    /* Every turn from now on wakes more tasks than a turn polls; a new one still starts */
    ck_assert_int_eq(ax_block_on(executor, spawn_newcomer(executor, &news)), 0);
    ck_assert_int_eq(news, 1);
    stop = true; /* the flood ends: no more wakes from the reactor, one last from here */
    ax_reactor_unwatch(ax_executor_reactor(executor), fds[1]);
    for (int i = 0; i < FLOOD; i++)
        ax_waker_wake(&each[i]->waker);
    for (int i = 0; i < FLOOD; i++)
        ck_assert_int_eq(ax_block_on(executor, tasks[i]), 0);
    ax_executor_free(executor);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

START_TEST(a_coroutine_dropped_mid_await_drops_what_it_awaits)
{
    struct ax_executor *executor = new_executor();
    struct ax_event never;
    ax_event_init(&never);
    struct parent *p = ax_task_alloc(executor, sizeof *p);
    *p = (struct parent){.base = {&parent_ops}, .count = 3};
    struct ax_task *task = ax_task_spawn(&p->base);
    ax_task_detach(task);
    /* Poll the parent once: it spawns three children and waits on the first. */
    ax_block_on(executor, spawn_ready(executor, 0));
    ax_executor_free(executor); /* drops the parent mid-await: its join gives the handle back */
}
END_TEST

static Suite *task_suite(void)
{
    Suite *s = suite_create("04-task");
    TCase *tc = axt_tcase("task");
    tcase_add_test(tc, block_on_returns_the_task_result);
    tcase_add_test(tc, a_wake_during_the_poll_that_returns_pending_is_not_lost);
    tcase_add_test(tc, many_wakes_of_an_idle_task_queue_it_once);
    tcase_add_test(tc, a_waker_outliving_its_finished_task_is_harmless);
    tcase_add_test(tc, joining_a_failed_task_returns_its_error);
    tcase_add_test(tc, a_hundred_thousand_tasks_spawned_by_a_task_are_joined_in_order);
    tcase_add_test(tc, setting_an_event_wakes_every_waiter);
    tcase_add_test(tc, waiting_for_what_nothing_can_wake_is_reported_as_deadlock);
    tcase_add_test(tc, freeing_the_executor_drops_each_unfinished_future_once);
    tcase_add_test(tc, a_task_that_always_wakes_itself_cannot_starve_io);
    tcase_add_test(tc, a_task_woken_by_io_goes_before_a_burst_of_new_tasks);
    tcase_add_test(tc, a_task_that_wakes_itself_lets_the_tasks_queued_before_go_first);
    tcase_add_test(tc, a_flood_of_io_wakes_cannot_keep_a_new_task_from_starting);
    tcase_add_test(tc, a_coroutine_dropped_mid_await_drops_what_it_awaits);
    tcase_add_test(tc, a_join_dropped_before_its_task_finishes_leaves_no_joiner_to_wake);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(task_suite)
