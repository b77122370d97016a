/* Challenge 03-challenge-edge-echo: a reference solution.
 *
 * Each socket is watched once, edge-triggered, for every direction it will ever want.
 * What the kernel reported is kept per connection in two flags, can_read and
 * can_write, each cleared only by an -EAGAIN in its direction: with edges, the flags
 * are the only record that bytes or room are still there. A connection whose output
 * is full stops reading with can_read still set; when a writable edge lets the output
 * drain, the same step reads on, since no readable edge will come for bytes that were
 * already waiting.
 *
 * One step of a connection does a bounded amount of work (SERVICE_ROUNDS reads and
 * flushes). If work is left when the budget is spent, the connection goes on the
 * server's own ready list, served after the next look at the kernel: the kernel will
 * not report it again, and finishing it in one go would let one fast client keep the
 * loop to itself. The listener is drained to EAGAIN on every edge; at the descriptor
 * limit the spare descriptor sheds what is waiting, and if even the spare is gone, the
 * next client to leave frees a descriptor and accepting resumes there. */
#include "edge_echo.h"

#include "ax/buf.h"
#include "ax/error.h"
#include "ax/list.h"
#include "ax/nonblock.h"
#include "ax/reactor.h"
#include "ax/reserve.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

enum { SERVICE_ROUNDS = 16 };

struct server {
    struct ax_reactor *reactor;
    int listen_fd;
    struct ax_fd_reserve reserve;
    struct ax_list conns; /* every connection, by link */
    struct ax_list ready; /* connections with work left over, by ready_link */
    bool accept_owed; /* connections may wait that no edge will announce again */
    bool stopping;
    int result;
};

struct conn {
    struct server *server;
    struct ax_list link;
    struct ax_list ready_link;
    int fd;
    bool can_read; /* reported readable, and no read has said EAGAIN since */
    bool can_write; /* reported writable, and no send has said EAGAIN since */
    bool eof;
    struct ax_buf out; /* read and not yet sent back */
};

static void accept_all(struct server *server);

static void conn_close(struct conn *c)
{
    struct server *server = c->server;
    ax_reactor_close(server->reactor, c->fd);
    ax_list_remove(&c->link);
    ax_list_remove(&c->ready_link);
    ax_buf_free(&c->out);
    free(c);
    if (server->accept_owed && !server->stopping)
        accept_all(server); /* a descriptor is free now */
}

static bool can_send(const struct conn *c)
{
    return c->can_write && ax_buf_len(&c->out) > 0;
}

static bool can_receive(const struct conn *c)
{
    return c->can_read && !c->eof && ax_buf_len(&c->out) < EDGE_ECHO_MAX_PENDING;
}

/* One read into the output, at most up to the bound. 0 or -errno. */
static int receive(struct conn *c)
{
    size_t room = EDGE_ECHO_MAX_PENDING - ax_buf_len(&c->out);
    int err = ax_buf_reserve(&c->out, room);
    if (err < 0)
        return err;
    ssize_t got = ax_recv(c->fd, ax_buf_space(&c->out), room);
    if (got == -EAGAIN) {
        c->can_read = false; /* drained: the next arrival is a new edge */
        return 0;
    }
    if (got < 0)
        return (int)got;
    if (got == 0)
        c->eof = true;
    ax_buf_commit(&c->out, (size_t)got);
    return 0;
}

/* Does what the connection's flags allow, up to the budget. */
static void service(struct conn *c)
{
    for (int round = 0; round < SERVICE_ROUNDS; round++) {
        int err = 0;
        if (can_send(c)) {
            err = ax_flush(c->fd, &c->out);
            if (err == -EAGAIN) {
                c->can_write = false; /* full: room will be a new edge */
                err = 0;
            }
        }
        if (err == 0 && can_receive(c))
            err = receive(c);
        if (err < 0 || (c->eof && ax_buf_len(&c->out) == 0)) {
            conn_close(c);
            return;
        }
        if (!can_send(c) && !can_receive(c))
            return; /* nothing to do until the kernel reports something */
    }
    if (!ax_list_linked(&c->ready_link))
        ax_list_push_back(&c->server->ready, &c->ready_link);
}

static void on_client(struct ax_reactor *reactor, int fd, int events, void *data)
{
    (void)reactor, (void)fd;
    struct conn *c = data;
    if (events & (AX_READABLE | AX_HANGUP | AX_ERROR))
        c->can_read = true; /* a hang-up or an error: the next read says which */
    if (events & (AX_WRITABLE | AX_HANGUP | AX_ERROR))
        c->can_write = true;
    service(c);
}

static void conn_open(struct server *server, int fd)
{
    struct conn *c = calloc(1, sizeof *c);
    if (c == NULL) {
        close(fd);
        return;
    }
    *c = (struct conn){.server = server, .fd = fd};
    ax_list_init(&c->ready_link);
    ax_list_push_back(&server->conns, &c->link);
    /* Both directions, for good: nothing about this socket is told to the kernel again. */
    if (ax_reactor_watch(server->reactor, fd, AX_READABLE | AX_WRITABLE | AX_EDGE, on_client, c) <
        0) {
        ax_list_remove(&c->link);
        close(fd);
        free(c);
    }
}

static void stop(struct server *server, int result)
{
    if (server->result == 0)
        server->result = result;
    server->stopping = true;
}

/* Accepts until the queue is empty: an edge-triggered listener is not reported again
 * for connections that were already waiting. */
static void accept_all(struct server *server)
{
    server->accept_owed = false;
    for (;;) {
        int fd = ax_accept_nonblocking(server->listen_fd, NULL);
        if (fd >= 0) {
            conn_open(server, fd);
            continue;
        }
        if (fd == -EAGAIN)
            return;
        if (fd == -EMFILE || fd == -ENFILE) {
            int shed = ax_fd_reserve_shed(&server->reserve, server->listen_fd);
            if (shed == 1)
                continue; /* one turned away; there may be more */
            if (shed < 0)
                server->accept_owed = true; /* no spare: retry when a client leaves */
            return;
        }
        stop(server, fd == -EINVAL ? 0 : fd); /* EINVAL: the listener was shut down */
        return;
    }
}

static void on_listener(struct ax_reactor *reactor, int fd, int events, void *data)
{
    (void)reactor, (void)fd, (void)events;
    struct server *server = data;
    if (!server->stopping)
        accept_all(server);
}

/* Waits for the kernel (not at all while connections have work left), then gives each
 * connection left over from earlier steps one more step. */
static int run(struct server *server)
{
    while (!server->stopping) {
        int rc = ax_reactor_run_once(server->reactor, ax_list_empty(&server->ready) ? -1 : 0);
        if (rc < 0)
            return rc;
        struct ax_list batch;
        ax_list_init(&batch);
        ax_list_splice_back(&batch, &server->ready);
        struct ax_list *node;
        while (!server->stopping && (node = ax_list_pop_front(&batch)) != NULL)
            service(ax_container_of(node, struct conn, ready_link));
        ax_list_splice_back(&server->ready, &batch); /* if it stopped midway */
    }
    return 0;
}

int edge_echo_serve(int listen_fd, const struct ax_backend *backend)
{
    struct server server = {.listen_fd = listen_fd};
    ax_list_init(&server.conns);
    ax_list_init(&server.ready);
    int err = ax_reactor_new_with(&server.reactor, backend);
    if (err < 0)
        return err;
    err = ax_fd_reserve_init(&server.reserve);
    if (err < 0) {
        ax_reactor_free(server.reactor);
        return err;
    }
    err = ax_set_nonblocking(listen_fd, true);
    if (err == 0)
        err = ax_reactor_watch(server.reactor, listen_fd, AX_READABLE | AX_EDGE, on_listener,
                               &server);
    if (err == 0)
        err = run(&server);
    if (err == 0)
        err = server.result;

    server.stopping = true;
    struct ax_list *node;
    while ((node = ax_list_pop_front(&server.conns)) != NULL)
        conn_close(ax_container_of(node, struct conn, link));
    ax_reactor_unwatch(server.reactor, listen_fd); /* the caller owns and closes it */
    ax_fd_reserve_free(&server.reserve);
    ax_reactor_free(server.reactor);
    return err;
}
