/* I/O futures over sources: tasks that wait for sockets without blocking the thread. */
#include "axtest.h"
#include "ax/async.h"
#include "ax/backend.h"
#include "ax/combine.h"
#include "ax/error.h"
#include "ax/event.h"
#include "ax/io.h"
#include "ax/nonblock.h"
#include "ax/reactor.h"
#include "ax/source.h"
#include "ax/task.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { BIG = 1 << 20 };

/* The built-in backends, which every test looped over them runs on: epoll registers a
 * source once, edge-triggered; select watches while a future waits. */
static const char *const backend_names[] = {"epoll", "select"};
enum { BACKENDS = sizeof backend_names / sizeof backend_names[0] };

static struct ax_executor *new_executor_on(const char *backend)
{
    struct ax_executor *executor;
    ck_assert_int_eq(ax_executor_new(&executor, backend), 0);
    return executor;
}

static struct ax_executor *new_executor(void)
{
    return new_executor_on(NULL);
}

static struct ax_source *open_source(struct ax_executor *executor, int fd)
{
    ck_assert_int_ge(fd, 0);
    struct ax_source *source;
    int err = ax_source_open(executor, fd, &source);
    ck_assert_msg(err == 0, "ax_source_open: %s", ax_strerror(err));
    return source;
}

/* Server side: accept one client, read BIG bytes, write them back. */
struct server {
    struct ax_future base;
    struct ax_coroutine co;
    struct ax_source *listener, *conn;
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
    ax_accept_future_init(&s->io.accept, s->listener);
    AX_AWAIT(&s->co, cx, &s->io.accept.base, s->rc);
    if (s->rc < 0)
        AX_ASYNC_RETURN(&s->co, s->rc);
    axt_tiny_sndbuf((int)s->rc); /* the echo must park on write, too */
    if ((s->rc = ax_source_open(cx->executor, (int)s->rc, &s->conn)) < 0)
        AX_ASYNC_RETURN(&s->co, s->rc);
    memcpy(s->peer, s->io.accept.peer, sizeof s->peer);
    while (s->got < BIG) {
        ax_read_future_init(&s->io.read, s->conn, s->buf + s->got, BIG - s->got);
        AX_AWAIT(&s->co, cx, &s->io.read.base, s->rc);
        if (s->rc <= 0)
            AX_ASYNC_RETURN(&s->co, s->rc == 0 ? -EPIPE : s->rc);
        s->got += (size_t)s->rc;
    }
    ax_write_future_init(&s->io.write, s->conn, s->buf, BIG);
    AX_AWAIT(&s->co, cx, &s->io.write.base, s->rc);
    AX_ASYNC_END(&s->co, s->rc);
}

static void server_drop(struct ax_future *self)
{
    struct server *s = (struct server *)self;
    AX_ASYNC_DROP(&s->co);
    if (s->conn != NULL)
        ax_source_close(s->conn);
}

static const struct ax_future_ops server_ops = {.poll = server_poll, .drop = server_drop};

/* Client side: connect, send BIG bytes, read them back, compare. */
struct client {
    struct ax_future base;
    struct ax_coroutine co;
    uint16_t port;
    struct ax_source *conn;
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
    ax_connect_future_init(&c->io.connect, "127.0.0.1", c->port, &c->conn);
    AX_AWAIT(&c->co, cx, &c->io.connect.base, c->rc);
    if (c->rc < 0)
        AX_ASYNC_RETURN(&c->co, c->rc);
    axt_tiny_sndbuf(ax_source_fd(c->conn));
    ax_write_future_init(&c->io.write, c->conn, c->out, BIG);
    AX_AWAIT(&c->co, cx, &c->io.write.base, c->rc);
    while (c->got < BIG) {
        ax_read_future_init(&c->io.read, c->conn, c->in + c->got, BIG - c->got);
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
    if (c->conn != NULL)
        ax_source_close(c->conn);
}

static const struct ax_future_ops client_ops = {.poll = client_poll, .drop = client_drop};

/* The megabyte echo on the backend named by the loop index. */
START_TEST(two_tasks_echo_a_megabyte_through_accept_connect_read_and_write)
{
    struct ax_executor *executor = new_executor_on(backend_names[_i]);
    uint16_t port;
    struct ax_source *listener = open_source(executor, ax_listen("127.0.0.1", 0, &port));
    char *out = malloc(BIG), *in = malloc(BIG), *relay = malloc(BIG);
    for (size_t i = 0; i < BIG; i++)
        out[i] = (char)(i * 7 + 1);

    struct server *s = ax_task_alloc(executor, sizeof *s);
    *s = (struct server){.base = {&server_ops}, .listener = listener, .buf = relay};
    struct ax_task *server = ax_task_spawn(&s->base);
    struct client *c = ax_task_alloc(executor, sizeof *c);
    *c = (struct client){.base = {&client_ops}, .port = port, .out = out, .in = in};
    struct ax_task *client = ax_task_spawn(&c->base);

    ax_result rc = ax_block_on(executor, client);
    ck_assert_msg(rc == 0, "client: %s", ax_strerror((int)rc));
    ck_assert_int_eq(ax_block_on(executor, server), 0);
    ax_source_close(listener);
    ck_assert_int_eq(ax_reactor_watching(ax_executor_reactor(executor)), 0);
    ax_executor_free(executor);
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
    struct ax_source *never = NULL;
    struct ax_connect_future *f = ax_task_alloc(executor, sizeof *f);
    ax_connect_future_init(f, "127.0.0.1", port, &never);
    ck_assert_int_eq(ax_block_on(executor, ax_task_spawn(&f->base)), -ECONNREFUSED);
    ck_assert_ptr_null(never);
    ck_assert_int_eq(ax_reactor_watching(ax_executor_reactor(executor)), 0);
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

START_TEST(a_dropped_read_stops_waiting_and_nothing_fires_later)
{
    struct ax_executor *executor = new_executor_on(backend_names[_i]);
    struct ax_reactor *reactor = ax_executor_reactor(executor);
    int fds[2];
    axt_socketpair(fds);
    struct ax_source *source = open_source(executor, fds[1]);
    struct ax_event event;
    ax_event_init(&event);

    struct race *r = ax_task_alloc(executor, sizeof *r);
    *r = (struct race){.base = {&race_ops}};
    ax_read_future_init(&r->read, source, &r->byte, 1);
    ax_event_wait_init(&r->wait, &event);
    r->pair[0] = &r->read.base;
    r->pair[1] = &r->wait.base;
    ax_select_init(&r->select, r->pair, 2);
    struct ax_task *race = ax_task_spawn(&r->base);

    struct setter *s = ax_task_alloc(executor, sizeof *s);
    *s = (struct setter){.base = {&setter_ops}, .event = &event};
    ax_task_detach(ax_task_spawn(&s->base));

    ck_assert_int_eq(ax_block_on(executor, race), 1); /* the event won */
    ck_assert_ptr_null(source->reader);
    ck_assert_int_eq(source->refs, 1); /* only the owner's: the read gave its own back */
    ax_write_all(fds[0], "x", 1); /* nobody waits: nothing may be woken */
    ax_reactor_run_once(reactor, 0);
    ck_assert_uint_eq(ax_executor_tasks(executor), 0);
    ax_source_close(source);
    ax_executor_free(executor);
    close(fds[0]);
}
END_TEST

/* Reads one byte from a source; used to have two tasks read the same socket. */
struct reader {
    struct ax_future base;
    struct ax_read_future read;
    char byte;
};

static ax_result reader_poll(struct ax_future *self, struct ax_context *cx)
{
    struct reader *r = (struct reader *)self;
    ax_result rc = ax_poll(&r->read.base, cx);
    return rc == 1 ? (unsigned char)r->byte : rc; /* the byte itself, to tell readers apart */
}

static void reader_drop(struct ax_future *self)
{
    ax_future_drop(&((struct reader *)self)->read.base);
}

static const struct ax_future_ops reader_ops = {.poll = reader_poll, .drop = reader_drop};

static struct ax_task *spawn_reader(struct ax_executor *executor, struct ax_source *source)
{
    struct reader *r = ax_task_alloc(executor, sizeof *r);
    *r = (struct reader){.base = {&reader_ops}};
    ax_read_future_init(&r->read, source, &r->byte, 1);
    return ax_task_spawn(&r->base);
}

START_TEST(a_second_task_reading_the_same_source_gets_ebusy)
{
    struct ax_executor *executor = new_executor_on(backend_names[_i]);
    int fds[2];
    axt_socketpair(fds);
    struct ax_source *source = open_source(executor, fds[1]);
    struct ax_task *first = spawn_reader(executor, source);
    struct ax_task *second = spawn_reader(executor, source);
    ck_assert_int_eq(ax_block_on(executor, second), -EBUSY);
    ax_write_all(fds[0], "x", 1);
    ck_assert_int_eq(ax_block_on(executor, first), 'x');
    ax_source_close(source);
    ax_executor_free(executor);
    close(fds[0]);
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
    struct ax_executor *executor = new_executor_on(backend_names[_i]);
    int fds[2];
    axt_socketpair(fds);
    struct ax_source *source = open_source(executor, fds[1]);
    struct ax_task *reader = spawn_reader(executor, source); /* parks: nothing to read */
    struct closer *c = ax_task_alloc(executor, sizeof *c);
    *c = (struct closer){.base = {&closer_ops}, .fd = fds[0]};
    ax_task_detach(ax_task_spawn(&c->base)); /* then the peer goes away */
    ck_assert_int_eq(ax_block_on(executor, reader), 0);
    ax_source_close(source);
    ax_executor_free(executor);
}
END_TEST

/* Closes a source when polled, then opens a new socket that gets the same fd number.
 * What it opens is stored in the test's memory: the task is gone when the test looks. */
struct reuser {
    struct ax_future base;
    struct ax_source *close_me;
    int *fds; /* the new pair; fds[1] reuses the closed source's number */
    struct ax_source **reopened;
};

static ax_result reuser_poll(struct ax_future *self, struct ax_context *cx)
{
    struct reuser *r = (struct reuser *)self;
    int old_fd = ax_source_fd(r->close_me);
    ax_source_close(r->close_me);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, r->fds) < 0)
        return -errno;
    if (r->fds[0] == old_fd) { /* make the number land on the side we watch */
        int fd = r->fds[0];
        r->fds[0] = r->fds[1];
        r->fds[1] = fd;
    }
    if (r->fds[1] != old_fd)
        return -EEXIST; /* the kernel did not reuse the number: the test proves nothing */
    return ax_source_open(cx->executor, r->fds[1], r->reopened);
}

static const struct ax_future_ops reuser_ops = {.poll = reuser_poll};

START_TEST(closing_a_source_wakes_its_reader_with_ebadf_and_a_reused_fd_is_a_new_source)
{
    struct ax_executor *executor = new_executor_on(backend_names[_i]);
    int fds[2];
    axt_socketpair(fds);
    struct ax_source *source = open_source(executor, fds[1]);
    struct ax_task *parked = spawn_reader(executor, source); /* parks: nothing to read */
    int new_fds[2];
    struct ax_source *reopened = NULL;
    struct reuser *r = ax_task_alloc(executor, sizeof *r);
    *r = (struct reuser){
        .base = {&reuser_ops}, .close_me = source, .fds = new_fds, .reopened = &reopened};
    ck_assert_int_eq(ax_block_on(executor, ax_task_spawn(&r->base)), 0);

    /* The new socket has the old number, and a reader of it waits and reads as usual. */
    struct ax_task *fresh = spawn_reader(executor, reopened);
    ax_write_all(new_fds[0], "n", 1);
    ck_assert_int_eq(ax_block_on(executor, fresh), 'n');
    ck_assert_int_eq(ax_block_on(executor, parked), -EBADF);
    ax_source_close(reopened);
    ax_executor_free(executor);
    close(fds[0]);
    close(new_fds[0]);
}
END_TEST

/* An epoll backend that counts the calls that change the kernel's interest list. */
static long interest_changes;

static int counting_add(void *state, int fd, int events)
{
    interest_changes++;
    return ax_backend_epoll.add(state, fd, events);
}

static int counting_modify(void *state, int fd, int old_events, int new_events)
{
    interest_changes++;
    return ax_backend_epoll.modify(state, fd, old_events, new_events);
}

static int counting_del(void *state, int fd, int old_events)
{
    interest_changes++;
    return ax_backend_epoll.del(state, fd, old_events);
}

enum { ECHOES = 1000, ECHO_SIZE = 64 };

/* Sends ECHOES messages of ECHO_SIZE bytes, each after the last one came back. */
struct pinger {
    struct ax_future base;
    struct ax_coroutine co;
    struct ax_source *conn;
    int sent;
    size_t got;
    ax_result rc;
    char out[ECHO_SIZE], in[ECHO_SIZE];
    union {
        struct ax_read_future read;
        struct ax_write_future write;
    } io;
};

static ax_result pinger_poll(struct ax_future *self, struct ax_context *cx)
{
    struct pinger *p = (struct pinger *)self;
    AX_ASYNC_BEGIN(&p->co);
    for (; p->sent < ECHOES; p->sent++) {
        memset(p->out, 'a' + p->sent % 26, sizeof p->out);
        ax_write_future_init(&p->io.write, p->conn, p->out, sizeof p->out);
        AX_AWAIT(&p->co, cx, &p->io.write.base, p->rc);
        for (p->got = 0; p->rc >= 0 && p->got < sizeof p->in; p->got += (size_t)p->rc) {
            ax_read_future_init(&p->io.read, p->conn, p->in + p->got, sizeof p->in - p->got);
            AX_AWAIT(&p->co, cx, &p->io.read.base, p->rc);
            if (p->rc == 0)
                p->rc = -EPIPE;
        }
        if (p->rc < 0)
            AX_ASYNC_RETURN(&p->co, p->rc);
        if (memcmp(p->in, p->out, sizeof p->in) != 0)
            AX_ASYNC_RETURN(&p->co, -EILSEQ);
    }
    AX_ASYNC_END(&p->co, 0);
}

/* Echoes whatever arrives until end of stream. */
struct ponger {
    struct ax_future base;
    struct ax_coroutine co;
    struct ax_source *conn;
    ax_result rc;
    char buf[ECHO_SIZE];
    union {
        struct ax_read_future read;
        struct ax_write_future write;
    } io;
};

static ax_result ponger_poll(struct ax_future *self, struct ax_context *cx)
{
    struct ponger *p = (struct ponger *)self;
    AX_ASYNC_BEGIN(&p->co);
    for (;;) {
        ax_read_future_init(&p->io.read, p->conn, p->buf, sizeof p->buf);
        AX_AWAIT(&p->co, cx, &p->io.read.base, p->rc);
        if (p->rc <= 0)
            break;
        ax_write_future_init(&p->io.write, p->conn, p->buf, (size_t)p->rc);
        AX_AWAIT(&p->co, cx, &p->io.write.base, p->rc);
        if (p->rc < 0)
            break;
    }
    AX_ASYNC_END(&p->co, p->rc);
}

static void pinger_drop(struct ax_future *self)
{
    AX_ASYNC_DROP(&((struct pinger *)self)->co);
}

static void ponger_drop(struct ax_future *self)
{
    AX_ASYNC_DROP(&((struct ponger *)self)->co);
}

static const struct ax_future_ops pinger_ops = {.poll = pinger_poll, .drop = pinger_drop};
static const struct ax_future_ops ponger_ops = {.poll = ponger_poll, .drop = ponger_drop};

START_TEST(an_echo_over_sources_changes_no_epoll_interest_per_request)
{
    struct ax_backend counting = ax_backend_epoll;
    counting.name = "counting-epoll";
    counting.add = counting_add;
    counting.modify = counting_modify;
    counting.del = counting_del;
    struct ax_executor *executor;
    ck_assert_int_eq(ax_executor_new_with(&executor, &counting), 0);
    int fds[2];
    axt_socketpair(fds);
    interest_changes = 0;
    struct ax_source *a = open_source(executor, fds[0]), *b = open_source(executor, fds[1]);
    struct pinger *ping = ax_task_alloc(executor, sizeof *ping);
    *ping = (struct pinger){.base = {&pinger_ops}, .conn = a};
    struct ponger *pong = ax_task_alloc(executor, sizeof *pong);
    *pong = (struct ponger){.base = {&ponger_ops}, .conn = b};
    ax_task_detach(ax_task_spawn(&pong->base));
    ck_assert_int_eq(ax_block_on(executor, ax_task_spawn(&ping->base)), 0);
    /* One registration per socket, whatever the number of requests. */
    ck_assert_int_eq(interest_changes, 2);
    ax_source_close(a);
    ax_executor_run(executor); /* the ponger sees end of stream */
    ax_source_close(b);
    ck_assert_int_eq(interest_changes, 4);
    ax_executor_free(executor);
}
END_TEST

/* Reads one byte at a time for as long as there are bytes, counting them. */
struct greedy {
    struct ax_future base;
    struct ax_source *source;
    long *reads;
    char byte;
    struct ax_read_future read;
    bool reading;
};

static ax_result greedy_poll(struct ax_future *self, struct ax_context *cx)
{
    struct greedy *g = (struct greedy *)self;
    for (;;) {
        if (!g->reading)
            ax_read_future_init(&g->read, g->source, &g->byte, 1);
        g->reading = true;
        ax_result rc = ax_poll(&g->read.base, cx);
        if (rc == AX_PENDING)
            return rc;
        ax_future_drop(&g->read.base);
        g->reading = false;
        if (rc <= 0)
            return rc;
        ++*g->reads;
    }
}

static void greedy_drop(struct ax_future *self)
{
    struct greedy *g = (struct greedy *)self;
    if (g->reading)
        ax_future_drop(&g->read.base);
}

static const struct ax_future_ops greedy_ops = {.poll = greedy_poll, .drop = greedy_drop};

/* Notes how many reads the greedy task had made when it got its turn. */
struct bystander {
    struct ax_future base;
    long *reads;
};

static ax_result bystander_poll(struct ax_future *self, struct ax_context *cx)
{
    (void)cx;
    return *((struct bystander *)self)->reads;
}

static const struct ax_future_ops bystander_ops = {.poll = bystander_poll};

enum { PLENTY = 16 * 1024 };

/* Runs a greedy reader over PLENTY waiting bytes beside a ready bystander, with the
 * given budget, and returns how many reads the bystander had to wait for. */
static long reads_before_the_bystander_ran(int budget)
{
    struct ax_executor *executor = new_executor();
    ax_executor_set_coop_budget(executor, budget);
    int fds[2];
    axt_socketpair(fds);
    static char bytes[PLENTY];
    ck_assert_int_eq(ax_write_all(fds[0], bytes, sizeof bytes), 0);
    shutdown(fds[0], SHUT_WR);
    long reads = 0;
    struct ax_source *source = open_source(executor, fds[1]);
    struct greedy *g = ax_task_alloc(executor, sizeof *g);
    *g = (struct greedy){.base = {&greedy_ops}, .source = source, .reads = &reads};
    struct bystander *b = ax_task_alloc(executor, sizeof *b);
    *b = (struct bystander){.base = {&bystander_ops}, .reads = &reads};
    struct ax_task *greedy = ax_task_spawn(&g->base); /* first in the queue */
    ax_result waited = ax_block_on(executor, ax_task_spawn(&b->base));
    ck_assert_int_eq(ax_block_on(executor, greedy), 0); /* it did read everything, in turns */
    ck_assert_int_eq(reads, PLENTY);
    ax_source_close(source);
    ax_executor_free(executor);
    close(fds[0]);
    return (long)waited;
}

START_TEST(a_task_whose_reads_always_succeed_yields_after_one_budget)
{
    long waited = reads_before_the_bystander_ran(AX_COOP_BUDGET);
    ck_assert_int_le(waited, AX_COOP_BUDGET);
    ck_assert_int_ge(waited, 1);
}
END_TEST

START_TEST(without_a_budget_a_task_whose_reads_succeed_keeps_the_others_waiting)
{
    /* The pitfall the budget prevents, shown to be real: the bystander waits for all. */
    ck_assert_int_eq(reads_before_the_bystander_ran(0), PLENTY);
}
END_TEST

START_TEST(an_open_source_nobody_waits_on_does_not_hide_a_deadlock)
{
    struct ax_executor *executor = new_executor_on(backend_names[_i]);
    int fds[2];
    axt_socketpair(fds);
    struct ax_source *idle = open_source(executor, fds[1]); /* registered, awaited by none */
    struct ax_event never;
    ax_event_init(&never);
    struct ax_event_wait *wait = ax_task_alloc(executor, sizeof *wait);
    ax_event_wait_init(wait, &never);
    ck_assert_int_eq(ax_block_on(executor, ax_task_spawn(&wait->base)), -EDEADLK);
    ax_source_close(idle);
    ax_executor_free(executor);
    close(fds[0]);
}
END_TEST

/* Reads until end of stream into a 64-byte buffer; finishes with the bytes read. */
struct drainer {
    struct ax_future base;
    struct ax_read_future read;
    bool reading;
    ax_result total;
    char buf[64];
};

static ax_result drainer_poll(struct ax_future *self, struct ax_context *cx)
{
    struct drainer *d = (struct drainer *)self;
    for (;;) {
        ax_result rc = ax_poll(&d->read.base, cx);
        if (rc <= 0)
            return rc == 0 ? d->total : rc; /* pending, an error, or the end */
        d->total += rc;
        struct ax_source *source = d->read.waiter.source;
        ax_future_drop(&d->read.base);
        ax_read_future_init(&d->read, source, d->buf, sizeof d->buf);
    }
}

static void drainer_drop(struct ax_future *self)
{
    ax_future_drop(&((struct drainer *)self)->read.base);
}

static const struct ax_future_ops drainer_ops = {.poll = drainer_poll, .drop = drainer_drop};

/* Sends three bytes and shuts its side down, in one go. */
struct ender {
    struct ax_future base;
    int fd;
};

static ax_result ender_poll(struct ax_future *self, struct ax_context *cx)
{
    (void)cx;
    int fd = ((struct ender *)self)->fd;
    return ax_write_all(fd, "abc", 3) < 0 || shutdown(fd, SHUT_WR) < 0 ? -errno : 0;
}

static const struct ax_future_ops ender_ops = {.poll = ender_poll};

START_TEST(a_short_read_with_the_end_of_stream_behind_it_still_reaches_the_end)
{
    struct ax_executor *executor = new_executor_on(backend_names[_i]);
    int fds[2];
    axt_socketpair(fds);
    struct ax_source *source = open_source(executor, fds[1]);
    struct drainer *d = ax_task_alloc(executor, sizeof *d);
    *d = (struct drainer){.base = {&drainer_ops}};
    ax_read_future_init(&d->read, source, d->buf, sizeof d->buf);
    struct ax_task *drainer = ax_task_spawn(&d->base); /* parks: nothing to read yet */
    struct ender *e = ax_task_alloc(executor, sizeof *e);
    *e = (struct ender){.base = {&ender_ops}, .fd = fds[0]};
    ax_task_detach(ax_task_spawn(&e->base)); /* then bytes and the end arrive together */
    ck_assert_int_eq(ax_block_on(executor, drainer), 3);
    ax_source_close(source);
    ax_executor_free(executor);
    close(fds[0]);
}
END_TEST

static Suite *io_suite(void)
{
    Suite *s = suite_create("04-io");
    TCase *tc = axt_tcase("io");
    tcase_add_loop_test(tc, two_tasks_echo_a_megabyte_through_accept_connect_read_and_write, 0,
                        BACKENDS);
    tcase_add_test(tc, connecting_to_a_closed_port_finishes_with_econnrefused);
    tcase_add_loop_test(tc, a_dropped_read_stops_waiting_and_nothing_fires_later, 0, BACKENDS);
    tcase_add_loop_test(tc, a_second_task_reading_the_same_source_gets_ebusy, 0, BACKENDS);
    tcase_add_loop_test(tc, a_peer_hanging_up_wakes_the_reader_with_end_of_stream, 0, BACKENDS);
    tcase_add_loop_test(
        tc, closing_a_source_wakes_its_reader_with_ebadf_and_a_reused_fd_is_a_new_source, 0,
        BACKENDS);
    tcase_add_loop_test(tc, an_open_source_nobody_waits_on_does_not_hide_a_deadlock, 0, BACKENDS);
    tcase_add_loop_test(tc, a_short_read_with_the_end_of_stream_behind_it_still_reaches_the_end, 0,
                        BACKENDS);
    tcase_add_test(tc, an_echo_over_sources_changes_no_epoll_interest_per_request);
    tcase_add_test(tc, a_task_whose_reads_always_succeed_yields_after_one_budget);
    tcase_add_test(tc, without_a_budget_a_task_whose_reads_succeed_keeps_the_others_waiting);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(io_suite)
