/* I/O futures: tasks that wait for sockets without blocking the thread. */
#include "axtest.h"
#include "ax/async.h"
#include "ax/combine.h"
#include "ax/error.h"
#include "ax/event.h"
#include "ax/io.h"
#include "ax/nonblock.h"
#include "ax/reactor.h"
#include "ax/task.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { BIG = 1 << 20 };

static struct ax_executor *new_executor(void)
{
    struct ax_executor *executor;
    ck_assert_int_eq(ax_executor_new(&executor, NULL), 0);
    return executor;
}

/* Server side: accept one client, read BIG bytes, write them back. */
struct server {
    struct ax_future base;
    struct ax_coroutine co;
    int listen_fd, fd;
    char *buf;
    size_t got;
    ax_result rc;
    char peer[AX_ADDR_STRLEN];
    union {
        struct ax_accept_future accept;
        struct ax_read_future read;
        struct ax_write_future write;
    } io;
};

static ax_result server_poll(struct ax_future *self, struct ax_context *cx)
{
    struct server *s = (struct server *)self;
    AX_ASYNC_BEGIN(&s->co);
    ax_accept_future_init(&s->io.accept, s->listen_fd);
    AX_AWAIT(&s->co, cx, &s->io.accept.base, s->rc);
    if (s->rc < 0)
        AX_ASYNC_RETURN(&s->co, s->rc);
    s->fd = (int)s->rc;
    memcpy(s->peer, s->io.accept.peer, sizeof s->peer);
    axt_tiny_sndbuf(s->fd); /* the echo must park on write, too */
    while (s->got < BIG) {
        ax_read_future_init(&s->io.read, s->fd, s->buf + s->got, BIG - s->got);
        AX_AWAIT(&s->co, cx, &s->io.read.base, s->rc);
        if (s->rc <= 0)
            AX_ASYNC_RETURN(&s->co, s->rc == 0 ? -EPIPE : s->rc);
        s->got += (size_t)s->rc;
    }
    ax_write_future_init(&s->io.write, s->fd, s->buf, BIG);
    AX_AWAIT(&s->co, cx, &s->io.write.base, s->rc);
    AX_ASYNC_END(&s->co, s->rc);
}

static void server_drop(struct ax_future *self)
{
    struct server *s = (struct server *)self;
    AX_ASYNC_DROP(&s->co);
    if (s->fd > 0)
        close(s->fd);
}

static const struct ax_future_ops server_ops = {.poll = server_poll, .drop = server_drop};

/* Client side: connect, send BIG bytes, read them back, compare. */
struct client {
    struct ax_future base;
    struct ax_coroutine co;
    uint16_t port;
    int fd;
    char *out, *in;
    size_t got;
    ax_result rc;
    union {
        struct ax_connect_future connect;
        struct ax_read_future read;
        struct ax_write_future write;
    } io;
};

static ax_result client_poll(struct ax_future *self, struct ax_context *cx)
{
    struct client *c = (struct client *)self;
    AX_ASYNC_BEGIN(&c->co);
    ax_connect_future_init(&c->io.connect, "127.0.0.1", c->port);
    AX_AWAIT(&c->co, cx, &c->io.connect.base, c->rc);
    if (c->rc < 0)
        AX_ASYNC_RETURN(&c->co, c->rc);
    c->fd = (int)c->rc;
    axt_tiny_sndbuf(c->fd);
    ax_write_future_init(&c->io.write, c->fd, c->out, BIG);
    AX_AWAIT(&c->co, cx, &c->io.write.base, c->rc);
    while (c->got < BIG) {
        ax_read_future_init(&c->io.read, c->fd, c->in + c->got, BIG - c->got);
        AX_AWAIT(&c->co, cx, &c->io.read.base, c->rc);
        if (c->rc <= 0)
            AX_ASYNC_RETURN(&c->co, c->rc == 0 ? -EPIPE : c->rc);
        c->got += (size_t)c->rc;
    }
    AX_ASYNC_END(&c->co, memcmp(c->out, c->in, BIG) == 0 ? 0 : -EILSEQ);
}

static void client_drop(struct ax_future *self)
{
    struct client *c = (struct client *)self;
    AX_ASYNC_DROP(&c->co);
    if (c->fd > 0)
        close(c->fd);
}

static const struct ax_future_ops client_ops = {.poll = client_poll, .drop = client_drop};

START_TEST(two_tasks_echo_a_megabyte_through_accept_connect_read_and_write)
{
    struct ax_executor *executor = new_executor();
    uint16_t port;
    int listener = ax_listen("127.0.0.1", 0, &port);
    ax_set_nonblocking(listener, true);
    char *out = malloc(BIG), *in = malloc(BIG), *relay = malloc(BIG);
    for (size_t i = 0; i < BIG; i++)
        out[i] = (char)(i * 7 + 1);

    struct server *s = ax_task_alloc(executor, sizeof *s);
    *s = (struct server){.base = {&server_ops}, .listen_fd = listener, .buf = relay};
    struct ax_task *server = ax_task_spawn(&s->base);
    struct client *c = ax_task_alloc(executor, sizeof *c);
    *c = (struct client){.base = {&client_ops}, .port = port, .out = out, .in = in};
    struct ax_task *client = ax_task_spawn(&c->base);

    ax_result rc = ax_block_on(executor, client);
    ck_assert_msg(rc == 0, "client: %s", ax_strerror((int)rc));
    ck_assert_int_eq(ax_block_on(executor, server), 0);
    ck_assert_int_eq(ax_reactor_watching(ax_executor_reactor(executor)), 0);
    ax_executor_free(executor);
    close(listener);
    free(out);
    free(in);
    free(relay);
}
END_TEST

START_TEST(connecting_to_a_closed_port_finishes_with_econnrefused)
{
    struct ax_executor *executor = new_executor();
    uint16_t port;
    close(ax_listen("127.0.0.1", 0, &port));
    struct ax_connect_future *f = ax_task_alloc(executor, sizeof *f);
    ax_connect_future_init(f, "127.0.0.1", port);
    ck_assert_int_eq(ax_block_on(executor, ax_task_spawn(&f->base)), -ECONNREFUSED);
    ax_executor_free(executor);
}
END_TEST

/* Races a read against an event: whichever finishes first wins the select. */
struct race {
    struct ax_future base;
    struct ax_read_future read;
    struct ax_event_wait wait;
    struct ax_future *pair[2];
    struct ax_select select;
    char byte;
};

static ax_result race_poll(struct ax_future *self, struct ax_context *cx)
{
    struct race *r = (struct race *)self;
    ax_result rc = ax_poll(&r->select.base, cx);
    return rc == AX_PENDING ? rc : (ax_result)r->select.winner;
}

static void race_drop(struct ax_future *self)
{
    ax_future_drop(&((struct race *)self)->select.base);
}

static const struct ax_future_ops race_ops = {.poll = race_poll, .drop = race_drop};

struct setter {
    struct ax_future base;
    struct ax_event *event;
};

static ax_result setter_poll(struct ax_future *self, struct ax_context *cx)
{
    (void)cx;
    ax_event_set(((struct setter *)self)->event);
    return 0;
}

static const struct ax_future_ops setter_ops = {.poll = setter_poll};

START_TEST(a_dropped_read_takes_its_interest_back_and_nothing_fires_later)
{
    struct ax_executor *executor = new_executor();
    struct ax_reactor *reactor = ax_executor_reactor(executor);
    int fds[2];
    axt_socketpair(fds);
    ax_set_nonblocking(fds[1], true);
    struct ax_event event;
    ax_event_init(&event);

    struct race *r = ax_task_alloc(executor, sizeof *r);
    *r = (struct race){.base = {&race_ops}};
    ax_read_future_init(&r->read, fds[1], &r->byte, 1);
    ax_event_wait_init(&r->wait, &event);
    r->pair[0] = &r->read.base;
    r->pair[1] = &r->wait.base;
    ax_select_init(&r->select, r->pair, 2);
    struct ax_task *race = ax_task_spawn(&r->base);

    struct setter *s = ax_task_alloc(executor, sizeof *s);
    *s = (struct setter){.base = {&setter_ops}, .event = &event};
    ax_task_detach(ax_task_spawn(&s->base));

    ck_assert_int_eq(ax_block_on(executor, race), 1); /* the event won */
    ck_assert_int_eq(ax_reactor_interest(reactor, fds[1]), 0);
    ax_write_all(fds[0], "x", 1); /* nobody waits: nothing may fire */
    ck_assert_int_eq(ax_reactor_run_once(reactor, 0), 0);
    ax_executor_free(executor);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

/* Reads one byte from fd; used to have two tasks read the same socket. */
struct reader {
    struct ax_future base;
    struct ax_read_future read;
    char byte;
};

static ax_result reader_poll(struct ax_future *self, struct ax_context *cx)
{
    return ax_poll(&((struct reader *)self)->read.base, cx);
}

static void reader_drop(struct ax_future *self)
{
    ax_future_drop(&((struct reader *)self)->read.base);
}

static const struct ax_future_ops reader_ops = {.poll = reader_poll, .drop = reader_drop};

static struct ax_task *spawn_reader(struct ax_executor *executor, int fd)
{
    struct reader *r = ax_task_alloc(executor, sizeof *r);
    *r = (struct reader){.base = {&reader_ops}};
    ax_read_future_init(&r->read, fd, &r->byte, 1);
    return ax_task_spawn(&r->base);
}

START_TEST(a_second_task_reading_the_same_fd_gets_ebusy)
{
    struct ax_executor *executor = new_executor();
    int fds[2];
    axt_socketpair(fds);
    ax_set_nonblocking(fds[1], true);
    struct ax_task *first = spawn_reader(executor, fds[1]);
    struct ax_task *second = spawn_reader(executor, fds[1]);
    ck_assert_int_eq(ax_block_on(executor, second), -EBUSY);
    ax_write_all(fds[0], "x", 1);
    ck_assert_int_eq(ax_block_on(executor, first), 1);
    ax_executor_free(executor);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

/* Closes an fd when polled: runs after the reader has parked, tasks being FIFO. */
struct closer {
    struct ax_future base;
    int fd;
};

static ax_result closer_poll(struct ax_future *self, struct ax_context *cx)
{
    (void)cx;
    return close(((struct closer *)self)->fd);
}

static const struct ax_future_ops closer_ops = {.poll = closer_poll};

START_TEST(a_peer_hanging_up_wakes_the_reader_with_end_of_stream)
{
    struct ax_executor *executor = new_executor();
    int fds[2];
    axt_socketpair(fds);
    ax_set_nonblocking(fds[1], true);
    struct ax_task *reader = spawn_reader(executor, fds[1]); /* parks: nothing to read */
    struct closer *c = ax_task_alloc(executor, sizeof *c);
    *c = (struct closer){.base = {&closer_ops}, .fd = fds[0]};
    ax_task_detach(ax_task_spawn(&c->base)); /* then the peer goes away */
    ck_assert_int_eq(ax_block_on(executor, reader), 0);
    ax_executor_free(executor);
    close(fds[1]);
}
END_TEST

static Suite *io_suite(void)
{
    Suite *s = suite_create("04-io");
    TCase *tc = axt_tcase("io");
    tcase_add_test(tc, two_tasks_echo_a_megabyte_through_accept_connect_read_and_write);
    tcase_add_test(tc, connecting_to_a_closed_port_finishes_with_econnrefused);
    tcase_add_test(tc, a_dropped_read_takes_its_interest_back_and_nothing_fires_later);
    tcase_add_test(tc, a_second_task_reading_the_same_fd_gets_ebusy);
    tcase_add_test(tc, a_peer_hanging_up_wakes_the_reader_with_end_of_stream);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(io_suite)
