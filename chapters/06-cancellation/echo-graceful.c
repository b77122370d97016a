/*
 * echo-graceful: the echo server, stopped by a signal without losing a byte.
 *
 *     build/bin/echo-graceful [--port N] [--grace-ms N]     (default port 7000; 0 picks one)
 *
 * SIGINT or SIGTERM cancels the server's root token, `stop` (ax/signal.h's shutdown
 * rule), and from then on:
 *
 *   - the acceptor takes no new connection: its accept is raced against `stop`, and
 *     the select is biased, so once `stop` is cancelled it wins every time;
 *   - a connection idle in a read ends at once: its read is raced against `stop` too;
 *   - a write in progress finishes, and bytes the client had already sent are still
 *     echoed: the read is polled before `stop`, so only a read with nothing to take
 *     loses to it;
 *   - each connection then ends with a lingering close: shutdown(SHUT_WR) tells the
 *     client that all its bytes have been sent, and the server reads (and drops) what
 *     the client still sends until its end of stream. Closing at once instead, with
 *     unread bytes in the receive buffer, would make the kernel send a reset, and a
 *     reset can destroy echoed bytes still on their way to the client;
 *   - the connections live in a scope with a root token of its own, which gets the
 *     grace deadline (--grace-ms, default 5000) at the signal: a connection not done by
 *     then is aborted, and its socket closed, wherever it was waiting.
 *
 * At the end, one line on standard error:
 *
 *     shutdown: N connections, F finished, C cut at the deadline
 *
 * (N were open at the signal; F of them ended within the grace period, C did not), and
 * the exit status is 0. A second SIGINT or SIGTERM exits at once with 128 + its number.
 *
 * Standard output carries one line, `listening on 127.0.0.1:PORT`; the log goes to
 * standard error (AX_LOG=warn quiets it).
 */
#include "ax/async.h"
#include "ax/cancel.h"
#include "ax/clock.h"
#include "ax/combine.h"
#include "ax/error.h"
#include "ax/io.h"
#include "ax/log.h"
#include "ax/net.h"
#include "ax/scope.h"
#include "ax/signal.h"
#include "ax/task.h"
#include "ax/timer.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

enum { DEFAULT_PORT = 7000, DEFAULT_GRACE_MS = 5000, BUF_SIZE = 4096 };

struct server {
    struct ax_source *listener;
    struct ax_shutdown shutdown; /* shutdown.stop: cancelled at the first signal */
    struct ax_scope *connections; /* its own root token: cancelled at the grace deadline */
    int finished, cut; /* connections open at the signal, and how each ended */
};

// snippet graceful-conn
struct conn {
    struct ax_future base;
    struct ax_coroutine co;
    struct server *server;
    struct ax_source *source;
    ax_result rc;
    bool done; /* returned on its own, not aborted at the deadline */
    char peer[AX_ADDR_STRLEN];
    struct ax_read_future read;
    struct ax_write_future write;
    struct ax_cancel_wait stop;
    struct ax_future *read_or_stop[2];
    struct ax_select select;
    char buf[BUF_SIZE];
};

static ax_result conn_poll(struct ax_future *self, struct ax_context *cx)
{
    struct conn *c = (struct conn *)self;
    AX_ASYNC_BEGIN(&c->co);
    for (;;) {
        /* The read first: bytes the client has sent are served, and only a read with
         * nothing to take loses to the stop. */
        ax_read_future_init(&c->read, c->source, c->buf, sizeof c->buf);
        ax_cancel_wait_init(&c->stop, c->server->shutdown.stop);
        c->read_or_stop[0] = &c->read.base;
        c->read_or_stop[1] = &c->stop.base;
        ax_select_init_biased(&c->select, c->read_or_stop, 2);
        AX_AWAIT(&c->co, cx, &c->select.base, c->rc);
        if (c->select.winner == 1 || c->rc <= 0)
            break; /* stopped while idle, end of stream, or an error */
        /* Not raced: a write in progress finishes; only the deadline cuts it. */
        ax_write_future_init(&c->write, c->source, c->buf, (size_t)c->rc);
        AX_AWAIT(&c->co, cx, &c->write.base, c->rc);
        if (c->rc < 0)
            break;
    }
    if (c->rc < 0)
        ax_info("%s: %s", c->peer, ax_strerror((int)c->rc));
    /* The lingering close: say "no more bytes", then read until the client says so too. */
    shutdown(ax_source_fd(c->source), SHUT_WR);
    do {
        ax_read_future_init(&c->read, c->source, c->buf, sizeof c->buf);
        AX_AWAIT(&c->co, cx, &c->read.base, c->rc);
    } while (c->rc > 0);
    c->done = true;
    AX_ASYNC_END(&c->co, 0); /* never an error: one would close the scope on the others */
}

/* Runs once, finished or aborted at the deadline: closes the socket and counts. */
static void conn_drop(struct ax_future *self)
{
    struct conn *c = (struct conn *)self;
    AX_ASYNC_DROP(&c->co);
    ax_source_close(c->source);
    struct server *server = c->server;
    if (!ax_cancelled(server->shutdown.stop))
        return; /* closed before the signal: not the shutdown's to count */
    if (c->done)
        server->finished++;
    else
        server->cut++;
}
// end snippet

static const struct ax_future_ops conn_ops = {.poll = conn_poll, .drop = conn_drop};

static void start_conn(struct ax_executor *executor, struct server *server, int fd,
                       const char *peer)
{
    struct ax_source *source;
    int err = ax_source_open(executor, fd, &source);
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
    *c = (struct conn){.base = {&conn_ops}, .server = server, .source = source};
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    /* Refused only when the scope is closed; the executor drops the task then. */
    if (ax_scope_spawn(server->connections, &c->base) < 0)
        ax_warn("cannot serve %s: the server is stopping", peer);
}

static bool accept_error_is_transient(ax_result err)
{
    return err == -EMFILE || err == -ENFILE || err == -ENOBUFS || err == -ENOMEM;
}

/* The server's main task: accepts until the stop, then waits for the connections. */
struct serve {
    struct ax_future base;
    struct ax_coroutine co;
    struct server *server;
    ax_result rc;
    struct ax_cancel_wait stop;
    union {
        struct ax_accept_future accept;
        struct ax_sleep pause; /* after a transient accept error */
    } io;
    struct ax_future *either[2];
    struct ax_select select;
    struct ax_scope_wait connections;
};

static ax_result serve_poll(struct ax_future *self, struct ax_context *cx)
{
    struct serve *s = (struct serve *)self;
    struct server *server = s->server;
    AX_ASYNC_BEGIN(&s->co);
    // snippet graceful-acceptor
    for (;;) {
        /* Biased, the stop first: once it is cancelled, no connection is accepted,
         * even one that is ready in the same turn. */
        ax_cancel_wait_init(&s->stop, server->shutdown.stop);
        ax_accept_future_init(&s->io.accept, server->listener);
        s->either[0] = &s->stop.base;
        s->either[1] = &s->io.accept.base;
        ax_select_init_biased(&s->select, s->either, 2);
        AX_AWAIT(&s->co, cx, &s->select.base, s->rc);
        if (s->select.winner == 0)
            break;
        if (s->rc >= 0) {
            start_conn(cx->executor, server, (int)s->rc, s->io.accept.peer);
            continue;
        }
        if (!accept_error_is_transient(s->rc))
            AX_ASYNC_RETURN(&s->co, s->rc);
        /* Out of descriptors: the pending connection stays readable, so accepting at
         * once would fail at once. Pause, but not past the stop. */
        ax_warn("accept: %s; trying again in 100 ms", ax_strerror((int)s->rc));
        ax_cancel_wait_init(&s->stop, server->shutdown.stop);
        ax_sleep_init(&s->io.pause, 100 * AX_NS_PER_MS);
        s->either[0] = &s->stop.base;
        s->either[1] = &s->io.pause.base;
        ax_select_init_biased(&s->select, s->either, 2);
        AX_AWAIT(&s->co, cx, &s->select.base, s->rc);
        if (s->select.winner == 0)
            break;
    }
    // end snippet
    // snippet graceful-main
    /* The first signal has come. No new connections; the ones open get until the
     * deadline, after which the scope aborts whatever is left. */
    ax_source_close(server->listener);
    server->listener = NULL;
    ax_scope_cancel_at(server->connections, ax_shutdown_deadline(&server->shutdown));
    ax_scope_wait_init(&s->connections, server->connections);
    AX_AWAIT(&s->co, cx, &s->connections.base, s->rc); /* -ECANCELED if some were cut */
    fprintf(stderr, "shutdown: %d connections, %d finished, %d cut at the deadline\n",
            server->finished + server->cut, server->finished, server->cut);
    // end snippet
    AX_ASYNC_END(&s->co, 0);
}

static void serve_drop(struct ax_future *self)
{
    AX_ASYNC_DROP(&((struct serve *)self)->co);
}

static const struct ax_future_ops serve_ops = {.poll = serve_poll, .drop = serve_drop};

static void usage(FILE *to, int status)
{
    fprintf(to,
            "usage: echo-graceful [--port N] [--grace-ms N]\n"
            "  N in 0..65535; 0 picks a free port (default %d)\n"
            "  --grace-ms N  how long connections may take to finish after the first\n"
            "                SIGINT or SIGTERM (default %d); a second one exits at once\n",
            DEFAULT_PORT, DEFAULT_GRACE_MS);
    exit(status);
}

/* One descriptor per connection: take all the system allows. */
static void raise_fd_limit(void)
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

static int fail(const char *what, int err)
{
    fprintf(stderr, "echo-graceful: %s: %s\n", what, ax_strerror(err));
    return 1;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"port", required_argument, NULL, 'p'},
        {"grace-ms", required_argument, NULL, 'g'},
        {"help", no_argument, NULL, 'H'},
        {0},
    };
    uint16_t port = DEFAULT_PORT;
    long grace_ms = DEFAULT_GRACE_MS;
    char *end;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'p':
            if (ax_parse_port(optarg, &port) < 0)
                usage(stderr, 2);
            break;
        case 'g':
            grace_ms = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || grace_ms < 0 || grace_ms > 3600 * 1000)
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
    raise_fd_limit();

    struct server server = {0};
    struct ax_executor *executor;
    int err = ax_executor_new(&executor, NULL);
    if (err < 0)
        return fail("cannot start", err);
    /* The signals first, before anything that could be interrupted by one. */
    err = ax_shutdown_start(&server.shutdown, executor, (uint64_t)grace_ms * AX_NS_PER_MS, 0);
    if (err < 0)
        return fail("taking SIGINT and SIGTERM", err);
    int listen_fd = ax_listen("127.0.0.1", port, &port);
    if (listen_fd < 0) {
        fprintf(stderr, "echo-graceful: listen on 127.0.0.1:%u: %s\n", (unsigned)port,
                ax_strerror(listen_fd));
        return 1;
    }
    err = ax_source_open(executor, listen_fd, &server.listener);
    if (err == 0)
        err = ax_scope_new(&server.connections, executor, NULL);
    struct serve *s = err < 0 ? NULL : ax_task_alloc(executor, sizeof *s);
    if (s == NULL)
        return fail("cannot start", err < 0 ? err : -ENOMEM);
    *s = (struct serve){.base = {&serve_ops}, .server = &server};
    ax_announce_listening("127.0.0.1", port);

    ax_result rc = ax_block_on(executor, ax_task_spawn(&s->base));
    if (rc < 0)
        ax_error("accept: %s", ax_strerror((int)rc));
    if (server.listener != NULL)
        ax_source_close(server.listener);
    ax_scope_release(server.connections);
    ax_shutdown_stop(&server.shutdown);
    ax_executor_free(executor);
    return rc < 0 ? 1 : 0;
}
