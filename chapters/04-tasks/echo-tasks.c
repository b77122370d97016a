/*
 * echo-tasks: the echo server once more, one task per connection.
 *
 *     build/bin/echo-tasks [--port N] [--by-hand]     (default port 7000; 0 picks one)
 *
 * Every client gets a task whose code reads like chapter 01's serve_client: read, write
 * it back, repeat until the client hangs up. The difference is underneath. Each read
 * and write is a future; when the socket is not ready the task returns AX_PENDING and
 * the thread goes on to other tasks, so one thread serves every client, as
 * echo-reactor does, without the callbacks and per-connection buffers of chapter 02.
 * The accepting loop is a task as well.
 *
 * The connection task is written with the coroutine macros of ax/async.h. With
 * --by-hand the server runs the same task written out as an explicit state machine,
 * which is what the macros expand to; the two behave the same.
 *
 * A task writes everything it read before it reads again, so a client that sends
 * without reading fills its own socket buffers and then simply waits: the server holds
 * at most one buffer per connection.
 *
 * Running out of descriptors (EMFILE) must not turn the acceptor into a busy loop: the
 * pending connection stays readable, and accepting again at once would fail again at
 * once. The library has no timers until chapter 05, so the acceptor waits for an event
 * that every connection sets as it closes, and the other clients are served meanwhile.
 * Only when there is no client at all (so nothing would wake it) does it sleep the
 * thread for a moment, which then stalls nobody.
 *
 * Standard output carries one line, `listening on 127.0.0.1:PORT`; the log goes to
 * standard error (AX_LOG=warn quiets it).
 */
#include "ax/async.h"
#include "ax/clock.h"
#include "ax/error.h"
#include "ax/event.h"
#include "ax/io.h"
#include "ax/log.h"
#include "ax/net.h"
#include "ax/nonblock.h"
#include "ax/task.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { DEFAULT_PORT = 7000, BUF_SIZE = 4096 };

struct server {
    struct ax_source *listener;
    int clients; /* connection tasks alive */
    struct ax_event client_left; /* set by each connection as it closes */
    bool by_hand; /* run the hand-written connection task */
};

// snippet echo-conn-task
/* One client. Locals do not survive an AX_AWAIT, so everything the task needs from one
 * poll to the next lives here, in the task's own allocation. */
struct conn {
    struct ax_future base;
    struct ax_coroutine co;
    int state; /* --by-hand's resume point; the macros keep theirs in co */
    struct server *server;
    struct ax_source *source; /* the client's socket, registered once */
    ax_result rc;
    char peer[AX_ADDR_STRLEN];
    union { /* one I/O future at a time */
        struct ax_read_future read;
        struct ax_write_future write;
    } io;
    char buf[BUF_SIZE];
};

static ax_result conn_poll(struct ax_future *self, struct ax_context *cx)
{
    struct conn *c = (struct conn *)self;
    AX_ASYNC_BEGIN(&c->co);
    for (;;) {
        ax_read_future_init(&c->io.read, c->source, c->buf, sizeof c->buf);
        AX_AWAIT(&c->co, cx, &c->io.read.base, c->rc); /* parks until bytes arrive */
        if (c->rc == 0)
            break; /* the client closed its end */
        if (c->rc < 0) {
            ax_warn("read from %s: %s", c->peer, ax_strerror((int)c->rc));
            break;
        }
        ax_write_future_init(&c->io.write, c->source, c->buf, (size_t)c->rc);
        AX_AWAIT(&c->co, cx, &c->io.write.base, c->rc); /* parks while it is full */
        if (c->rc < 0) {
            ax_warn("write to %s: %s", c->peer, ax_strerror((int)c->rc));
            break;
        }
    }
    AX_ASYNC_END(&c->co, 0);
}

/* Runs once, whether the task finished or was abandoned: the connection's destructor. */
static void conn_drop(struct ax_future *self)
{
    struct conn *c = (struct conn *)self;
    AX_ASYNC_DROP(&c->co); /* a pending read or write stops waiting first */
    ax_source_close(c->source);
    ax_info("done with %s", c->peer);
    c->server->clients--;
    ax_event_set(&c->server->client_left);
}
// end snippet

// snippet echo-conn-by-hand
/* The same task without the macros: the resume point is an explicit state, and each
 * state knows which I/O future in the union is the live one. */
enum conn_state { CONN_START, CONN_READING, CONN_WRITING, CONN_DONE };

static ax_result conn_poll_by_hand(struct ax_future *self, struct ax_context *cx)
{
    struct conn *c = (struct conn *)self;
    for (;;) {
        switch ((enum conn_state)c->state) {
        case CONN_START:
            ax_read_future_init(&c->io.read, c->source, c->buf, sizeof c->buf);
            c->state = CONN_READING;
            break;
        case CONN_READING:
            c->rc = ax_poll(&c->io.read.base, cx);
            if (c->rc == AX_PENDING)
                return AX_PENDING; /* the read parked the task; we resume here */
            ax_future_drop(&c->io.read.base);
            if (c->rc <= 0) {
                if (c->rc < 0)
                    ax_warn("read from %s: %s", c->peer, ax_strerror((int)c->rc));
                c->state = CONN_DONE;
                return 0;
            }
            ax_write_future_init(&c->io.write, c->source, c->buf, (size_t)c->rc);
            c->state = CONN_WRITING;
            break;
        case CONN_WRITING:
            c->rc = ax_poll(&c->io.write.base, cx);
            if (c->rc == AX_PENDING)
                return AX_PENDING;
            ax_future_drop(&c->io.write.base);
            if (c->rc < 0) {
                ax_warn("write to %s: %s", c->peer, ax_strerror((int)c->rc));
                c->state = CONN_DONE;
                return 0;
            }
            c->state = CONN_START;
            break;
        case CONN_DONE:
            return -EINVAL; /* polled after it finished */
        }
    }
}

static void conn_drop_by_hand(struct ax_future *self)
{
    struct conn *c = (struct conn *)self;
    if (c->state == CONN_READING)
        ax_future_drop(&c->io.read.base);
    else if (c->state == CONN_WRITING)
        ax_future_drop(&c->io.write.base);
    c->state = CONN_DONE;
    conn_drop(self); /* the rest is the same: close, count, tell the acceptor */
}
// end snippet

static const struct ax_future_ops conn_ops = {.poll = conn_poll, .drop = conn_drop};
static const struct ax_future_ops conn_by_hand_ops = {.poll = conn_poll_by_hand,
                                                      .drop = conn_drop_by_hand};

// snippet echo-start-client
/* Starts a task for a new client. The task is built where it will live: ax_task_alloc
 * hands out zeroed storage inside the task, and the fields are set there. */
static void start_client(struct ax_executor *executor, struct server *server, int fd,
                         const char *peer)
{
    struct ax_source *source;
    int err = ax_source_open(executor, fd, &source); /* registered once, for good */
    if (err < 0) {
        ax_warn("cannot watch %s: %s; closing it", peer, ax_strerror(err));
        ax_close(fd);
        return;
    }
    struct conn *c = ax_task_alloc(executor, sizeof *c);
    if (c == NULL) {
        ax_warn("no memory for a task for %s; closing it", peer);
        ax_source_close(source);
        return;
    }
    c->base.ops = server->by_hand ? &conn_by_hand_ops : &conn_ops;
    c->server = server;
    c->source = source;
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    server->clients++;
    ax_info("serving %s", peer);
    ax_task_detach(ax_task_spawn(&c->base)); /* nobody joins it: it frees itself */
}
// end snippet

/* Running out of descriptors or memory passes; anything else means the listening
 * socket itself is broken. */
static bool accept_error_is_transient(ax_result err)
{
    return err == -EMFILE || err == -ENFILE || err == -ENOBUFS || err == -ENOMEM;
}

// snippet echo-acceptor
struct acceptor {
    struct ax_future base;
    struct ax_coroutine co;
    struct server *server;
    ax_result rc;
    union {
        struct ax_accept_future accept;
        struct ax_event_wait client_left;
    } io;
};

static ax_result acceptor_poll(struct ax_future *self, struct ax_context *cx)
{
    struct acceptor *a = (struct acceptor *)self;
    struct server *server = a->server; /* fine as a local: set again on every poll */
    AX_ASYNC_BEGIN(&a->co);
    for (;;) {
        ax_accept_future_init(&a->io.accept, server->listener);
        AX_AWAIT(&a->co, cx, &a->io.accept.base, a->rc);
        if (a->rc >= 0) {
            start_client(cx->executor, server, (int)a->rc, a->io.accept.peer);
            continue;
        }
        if (!accept_error_is_transient(a->rc))
            AX_ASYNC_RETURN(&a->co, a->rc);
        if (server->clients == 0) {
            /* Nobody to serve and nobody to wake us: blocking stalls no one. */
            ax_warn("accept: %s; trying again in 100 ms", ax_strerror((int)a->rc));
            ax_sleep_ns(100 * AX_NS_PER_MS);
            continue;
        }
        ax_warn("accept: %s; waiting for a client to leave", ax_strerror((int)a->rc));
        ax_event_reset(&server->client_left);
        ax_event_wait_init(&a->io.client_left, &server->client_left);
        AX_AWAIT(&a->co, cx, &a->io.client_left.base, a->rc);
    }
    AX_ASYNC_END(&a->co, 0);
}
// end snippet

static void acceptor_drop(struct ax_future *self)
{
    AX_ASYNC_DROP(&((struct acceptor *)self)->co);
}

static const struct ax_future_ops acceptor_ops = {.poll = acceptor_poll, .drop = acceptor_drop};

static void usage(FILE *to, int status)
{
    fprintf(to,
            "usage: echo-tasks [--port N] [--by-hand] [--coop-budget OPS]\n"
            "  N in 0..65535; 0 picks a free port (default 7000)\n"
            "  --by-hand          run the connection task written without the macros\n"
            "  --coop-budget OPS  I/O operations a task may do per poll (default %d;\n"
            "                     0 turns the budget off, to see what it prevents)\n",
            AX_COOP_BUDGET);
    exit(status);
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"port", required_argument, NULL, 'p'},
        {"by-hand", no_argument, NULL, 'h'},
        {"coop-budget", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'H'},
        {0},
    };
    uint16_t port = DEFAULT_PORT;
    struct server server = {0};
    long budget = AX_COOP_BUDGET;
    char *end;
    int opt;
    while ((opt = getopt_long(argc, argv, "p:hb:", options, NULL)) != -1) {
        switch (opt) {
        case 'p':
            if (ax_parse_port(optarg, &port) < 0)
                usage(stderr, 2);
            break;
        case 'h':
            server.by_hand = true;
            break;
        case 'b':
            budget = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || budget < 0 || budget > 1000000)
                usage(stderr, 2);
            break;
        case 'H':
            usage(stdout, 0);
            break;
        default:
            usage(stderr, 2);
        }
    }
    if (optind != argc)
        usage(stderr, 2);

    int listen_fd = ax_listen("127.0.0.1", port, &port);
    if (listen_fd < 0) {
        fprintf(stderr, "echo-tasks: listen on 127.0.0.1:%u: %s\n", (unsigned)port,
                ax_strerror(listen_fd));
        return 1;
    }
    struct ax_executor *executor = NULL;
    int err = ax_executor_new(&executor, NULL);
    if (err == 0)
        err = ax_source_open(executor, listen_fd, &server.listener);
    if (err < 0) {
        fprintf(stderr, "echo-tasks: cannot start: %s\n", ax_strerror(err));
        return 1;
    }
    ax_executor_set_coop_budget(executor, (int)budget);
    ax_event_init(&server.client_left);
    ax_announce_listening("127.0.0.1", port);

    // snippet echo-tasks-main
    struct acceptor *acceptor = ax_task_alloc(executor, sizeof *acceptor);
    if (acceptor == NULL) {
        fprintf(stderr, "echo-tasks: out of memory\n");
        return 1;
    }
    acceptor->base.ops = &acceptor_ops;
    acceptor->server = &server;
    ax_result rc = ax_block_on(executor, ax_task_spawn(&acceptor->base)); /* forever */
    // end snippet
    ax_error("accept: %s", ax_strerror((int)rc));
    ax_source_close(server.listener);
    ax_executor_free(executor); /* drops every connection task: each closes its socket */
    return 1;
}
