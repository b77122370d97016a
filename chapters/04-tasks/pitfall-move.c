/*
 * pitfall-move: a future that points into itself breaks when it is copied or moved.
 *
 *     build/bin/pitfall-move
 *
 * Futures hold pointers into themselves all the time: a read future's buffer is often
 * a field of the same struct, and an event waiter's list links are pointed at by its
 * neighbours on the event's list. Copy such a struct with `=` or memcpy and the copy's
 * pointers still lead to the original. Three cases, each detected by comparing
 * addresses (never by dereferencing a stale pointer, so the demo cannot crash):
 *
 *   1. built, then copied   a future initialised on the stack and then copied into its
 *                           task: the copy's read future still writes into the stack
 *                           copy's buffer, and the task's own buffer stays empty
 *   2. moved while pending  a parked event waiter moved to new memory: the event's list
 *                           still holds the old address, and the counted waker now has
 *                           two owners
 *   3. built in place       the same future initialised where the task stores it, which
 *                           is where it stays: everything points where it should
 *
 * This is what Rust's Pin prevents, and what ax_task_alloc prevents by construction: a
 * task's future is built inside the task's one allocation and never moves. The demo
 * repairs case 2 by hand so that it exits cleanly (and valgrind-clean).
 */
#include "ax/error.h"
#include "ax/event.h"
#include "ax/io.h"
#include "ax/nonblock.h"
#include "ax/task.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void die(const char *what, int err)
{
    fprintf(stderr, "pitfall-move: %s: %s\n", what, ax_strerror(err));
    exit(1);
}

// snippet move-greeting
/* Reads a short greeting into its own buffer: `read` points into the same struct. */
struct greeting {
    struct ax_future base;
    char text[32];
    struct ax_read_future read; /* its buf is &text, inside this very struct */
};

static ax_result greeting_poll(struct ax_future *self, struct ax_context *cx)
{
    return ax_poll(&((struct greeting *)self)->read.base, cx);
}

static void greeting_drop(struct ax_future *self)
{
    ax_future_drop(&((struct greeting *)self)->read.base);
}

static const struct ax_future_ops greeting_ops = {.poll = greeting_poll, .drop = greeting_drop};

static void greeting_init(struct greeting *g, struct ax_source *source)
{
    memset(g, 0, sizeof *g);
    g->base.ops = &greeting_ops;
    ax_read_future_init(&g->read, source, g->text, sizeof g->text - 1); /* points into g */
}
// end snippet

static struct ax_executor *new_executor(void)
{
    struct ax_executor *executor;
    int err = ax_executor_new(&executor, NULL);
    if (err < 0)
        die("executor", err);
    return executor;
}

static void *alloc_task(struct ax_executor *executor, size_t size)
{
    void *storage = ax_task_alloc(executor, size);
    if (storage == NULL)
        die("task", -ENOMEM);
    return storage;
}

static void make_socketpair(int fds[2])
{
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
        die("socketpair", -errno);
}

static const char *yes_no(bool ok)
{
    return ok ? "yes" : "NO";
}

/* Case 1 and case 3: where does a greeting's read land? */
static void greet(bool in_place)
{
    int fds[2];
    make_socketpair(fds);
    struct ax_executor *executor = new_executor();
    struct ax_source *source;
    int err = ax_source_open(executor, fds[0], &source);
    if (err < 0)
        die("source", err);
    struct greeting *g = alloc_task(executor, sizeof *g);
    // snippet move-copy
    struct greeting built; /* only used by the copied case */
    if (in_place) {
        greeting_init(g, source); /* built where it will live */
    } else {
        greeting_init(&built, source); /* built on the stack... */
        *g = built; /* ...then copied in: g->read.buf still points at built.text */
    }
    // end snippet
    bool agrees = g->read.buf == g->text;
    printf("%s\n", in_place ? "3. built in place" : "1. built on the stack, then copied");
    printf("   does the task's read future write into the task's own buffer? %s\n", yes_no(agrees));
    ax_write_all(fds[1], "hello", 5);
    ax_result rc = ax_block_on(executor, ax_task_spawn(&g->base));
    if (rc < 0)
        die("read", (int)rc);
    /* The task has finished and is freed; its text went wherever read.buf pointed. */
    printf("   %lld bytes read; they went to %s\n", (long long)rc,
           agrees ? "the task's buffer" : "the stack copy, which nobody reads again");
    if (!agrees)
        printf("   the stack copy now holds \"%.5s\"\n", built.text);
    ax_source_close(source);
    ax_executor_free(executor);
    close(fds[1]);
}

/* ---- case 2 ------------------------------------------------------------------------------- */

/* A task that polls whatever event waiter `wait` points at: lets us move the waiter. */
struct holder {
    struct ax_future base;
    struct ax_event_wait *wait;
};

static ax_result holder_poll(struct ax_future *self, struct ax_context *cx)
{
    return ax_poll(&((struct holder *)self)->wait->base, cx);
}

static void holder_drop(struct ax_future *self)
{
    ax_future_drop(&((struct holder *)self)->wait->base);
}

static const struct ax_future_ops holder_ops = {.poll = holder_poll, .drop = holder_drop};

/* Finishes at once: block_on on it runs every queued task once. */
static ax_result ready_poll(struct ax_future *self, struct ax_context *cx)
{
    (void)self;
    (void)cx;
    return 0;
}

static const struct ax_future_ops ready_ops = {.poll = ready_poll};

static void run_queued_tasks(struct ax_executor *executor)
{
    struct ax_future *f = alloc_task(executor, sizeof *f);
    f->ops = &ready_ops;
    ax_block_on(executor, ax_task_spawn(f));
}

static void move_while_pending(void)
{
    struct ax_executor *executor = new_executor();
    struct ax_event event;
    ax_event_init(&event);
    struct ax_event_wait *original = malloc(sizeof *original);
    struct ax_event_wait *moved = malloc(sizeof *moved);
    if (original == NULL || moved == NULL)
        die("malloc", -ENOMEM);
    ax_event_wait_init(original, &event);
    struct holder *h = alloc_task(executor, sizeof *h);
    h->base.ops = &holder_ops;
    h->wait = original;
    struct ax_task *task = ax_task_spawn(&h->base);
    run_queued_tasks(executor); /* the waiter parks: the event's list now points at it */

    // snippet move-pending
    memcpy(moved, original, sizeof *moved); /* "move" the pending waiter */
    h->wait = moved;
    bool list_follows = event.waiters.next == &moved->link;
    bool one_owner = moved->waker.task == NULL || original->waker.task == NULL;
    // end snippet
    printf("2. an event waiter moved while it waits\n");
    printf("   does the event's list lead to the moved waiter? %s (it leads to %s)\n",
           yes_no(list_follows),
           event.waiters.next == &original->link ? "the old address" : "somewhere else");
    printf("   does the waker reference have one owner?        %s (both copies hold it)\n",
           yes_no(one_owner));

    /* The repair, by hand: hand the list position and the waker to the new place. */
    ax_list_insert_before(&original->link, &moved->link);
    ax_list_remove(&original->link);
    original->waker.task = NULL;
    free(original);
    ax_event_set(&event); /* now it wakes the task through the moved waiter */
    ax_result rc = ax_block_on(executor, task);
    printf("   repaired by hand, the event wakes the task: it finishes with %lld\n", (long long)rc);
    ax_executor_free(executor);
    free(moved);
}

static void usage(FILE *to, int status)
{
    fprintf(to, "usage: pitfall-move\n"
                "  copies and moves futures that point into themselves, and shows which\n"
                "  pointers go stale (no options)\n");
    exit(status);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--help") == 0)
        usage(stdout, 0);
    if (argc > 1)
        usage(stderr, 2);
    greet(false);
    move_while_pending();
    greet(true);
    return 0;
}
