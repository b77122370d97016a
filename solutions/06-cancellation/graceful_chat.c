/* Exercise 06-graceful-chat: a reference solution.
 *
 * One task per client, each a child of the room's scope, so the server can wait for
 * all of them (ax_scope_wait) and cut the stragglers at once with a deadline on the
 * scope (ax_scope_cancel_at): the scope aborts whatever still runs, and each client's
 * drop closes its connection. A client's task reads lines and hands them to the others'
 * queues, and sends its own queue as its socket takes it; the room wakes it when its
 * queue grows or the room starts closing.
 *
 * Lifetime. The room is counted: the server holds one reference and each client one,
 * because a client aborted by the scope may be dropped turns after the server's own
 * drop, and must still find the room to leave it.
 */
#include "graceful_chat.h"

#include "ax/buf.h"
#include "ax/error.h"
#include "ax/list.h"
#include "ax/nonblock.h"
#include "ax/reactor.h"
#include "ax/task.h"
#include "ax/timer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { READ_CHUNK = 4096 };

struct gchat_room {
    struct ax_executor *executor;
    struct ax_scope *scope; /* the clients' tasks */
    struct ax_list clients; /* struct gchat_client, by link */
    bool closing; /* stopped: no more reading, goodbyes out, then close */
    unsigned refs; /* the server's, and one per client */
};

/* A client's outgoing queue is an ax_buf: lines are appended by whichever client's task
 * read them, and the owner's task sends from the front as its socket takes them. The
 * queue belongs to the connection, not to a write future, so a line is never half in a
 * future that could be dropped. */
struct gchat_client {
    struct ax_future base;
    struct gchat_room *room;
    struct ax_list link; /* in room->clients */
    struct ax_source *conn;
    struct ax_waker waker; /* its own task, for the room to wake */
    struct ax_buf in; /* at most one partial line */
    struct ax_buf out; /* the outgoing queue */
    struct ax_source_waiter sending;
    bool reading; /* `read` is initialised and not yet dropped */
    struct ax_read_future read;
    char chunk[READ_CHUNK];
    bool leaving; /* its goodbye is queued (graceful shutdown) */
    bool failed; /* its queue could not grow: it is disconnected */
};

/* Queues bytes for c and wakes its task to send them. */
static void enqueue(struct gchat_client *c, const char *bytes, size_t n)
{
    if (ax_buf_append(&c->out, bytes, n) < 0)
        c->failed = true;
    ax_waker_wake(&c->waker);
}

/* Sends from c's queue until it is empty (0), the socket is full (AX_PENDING: the task
 * waits for writable), or the socket fails. Sent bytes leave the queue at once. */
static ax_result send_queue(struct gchat_client *c, struct ax_context *cx)
{
    while (ax_buf_len(&c->out) > 0) {
        ax_result ready = ax_source_poll_ready(&c->sending, AX_WRITABLE, cx);
        if (ready != 0)
            return ready;
        int rc = ax_flush(ax_source_fd(c->conn), &c->out);
        if (rc == -EAGAIN)
            ax_source_clear_ready(c->conn, AX_WRITABLE);
        else if (rc < 0)
            return rc;
    }
    return 0;
}

static void room_release(struct gchat_room *room)
{
    if (--room->refs == 0)
        free(room);
}

/* ---- one client ------------------------------------------------------------------------- */

/* Gives a line (its "\n" included) to every other client. */
static void broadcast(struct gchat_client *from, const char *line, size_t n)
{
    struct ax_list *node;
    ax_list_for_each(node, &from->room->clients)
    {
        struct gchat_client *to = ax_container_of(node, struct gchat_client, link);
        if (to != from)
            enqueue(to, line, n);
    }
}

/* Hands out every complete line in c->in. False if c sent a line over the limit. */
static bool hand_out_lines(struct gchat_client *c)
{
    for (;;) {
        const char *data = ax_buf_data(&c->in);
        const char *newline = memchr(data, '\n', ax_buf_len(&c->in));
        if (newline == NULL)
            return ax_buf_len(&c->in) <= GCHAT_MAX_LINE;
        size_t n = (size_t)(newline - data) + 1;
        if (n - 1 > GCHAT_MAX_LINE)
            return false;
        broadcast(c, data, n);
        ax_buf_consume(&c->in, n);
    }
}

static void stop_reading(struct gchat_client *c)
{
    if (c->reading)
        ax_future_drop(&c->read.base);
    c->reading = false;
}

/* Reads and hands out lines until the socket has nothing more: AX_PENDING, or 1 when
 * the client has left (end of stream, an error, a line over the limit). */
static ax_result read_lines(struct gchat_client *c, struct ax_context *cx)
{
    for (;;) {
        if (!c->reading) {
            ax_read_future_init(&c->read, c->conn, c->chunk, sizeof c->chunk);
            c->reading = true;
        }
        ax_result rc = ax_poll(&c->read.base, cx);
        if (rc == AX_PENDING)
            return AX_PENDING;
        stop_reading(c);
        if (rc <= 0 || ax_buf_append(&c->in, c->chunk, (size_t)rc) < 0 || !hand_out_lines(c))
            return 1;
    }
}

static ax_result client_poll(struct ax_future *self, struct ax_context *cx)
{
    struct gchat_client *c = (struct gchat_client *)self;
    if (!ax_waker_wakes(&c->waker, cx)) {
        ax_waker_drop(&c->waker);
        c->waker = ax_waker_clone(cx);
    }
    if (c->failed)
        return 0;
    /* Graceful shutdown: no more input; the goodbye goes after what is queued, and the
     * client is done when its queue is empty. The scope's deadline cuts it otherwise. */
    if (c->room->closing && !c->leaving) {
        stop_reading(c);
        enqueue(c, GCHAT_GOODBYE, strlen(GCHAT_GOODBYE));
        c->leaving = true;
    }
    if (!c->leaving && read_lines(c, cx) != AX_PENDING)
        return 0; /* it left: the drop closes its connection */
    ax_result rc = send_queue(c, cx);
    if (rc == AX_PENDING)
        return AX_PENDING;
    if (rc < 0 || c->leaving)
        return 0; /* failed, or everything including the goodbye has gone */
    return AX_PENDING; /* queue empty: reading waits, and the room wakes it for more */
}

/* Reads and discards what has arrived, so that closing sends an orderly end of stream
 * and not a reset (which a socket closed with unread input sends, and which can destroy
 * the goodbye before the peer reads it). */
static void discard_input(struct ax_source *conn)
{
    char sink[READ_CHUNK];
    for (int i = 0; i < 16 && ax_recv(ax_source_fd(conn), sink, sizeof sink) > 0; i++)
        continue;
}

static void client_drop(struct ax_future *self)
{
    struct gchat_client *c = (struct gchat_client *)self;
    stop_reading(c);
    ax_source_waiter_drop(&c->sending);
    ax_list_remove(&c->link);
    discard_input(c->conn);
    ax_source_close(c->conn);
    ax_buf_free(&c->in);
    ax_buf_free(&c->out);
    ax_waker_drop(&c->waker);
    room_release(c->room);
}

static const struct ax_future_ops client_ops = {.poll = client_poll, .drop = client_drop};

/* Starts a task for the connection fd as a child of the room's scope. */
static int add_client(struct gchat_room *room, int fd)
{
    struct ax_source *conn;
    int rc = ax_source_open(room->executor, fd, &conn);
    if (rc < 0) {
        ax_close(fd);
        return rc;
    }
    struct gchat_client *c = ax_task_alloc(room->executor, sizeof *c);
    if (c == NULL) {
        ax_source_close(conn);
        return -ENOMEM;
    }
    *c = (struct gchat_client){.base = {&client_ops}, .room = room, .conn = conn};
    ax_source_waiter_init(&c->sending, conn);
    ax_list_push_back(&room->clients, &c->link);
    room->refs++;
    return ax_scope_spawn(room->scope, &c->base); /* refused: the executor drops it */
}

/* ---- the server ------------------------------------------------------------------------- */

static bool about_one_connection(ax_result rc)
{
    return rc == -ECONNABORTED || rc == -EPERM || rc == -EPROTO;
}

/* Stops accepting and starts the graceful end: every client queues its goodbye, and
 * whoever has not sent it all by the grace deadline is cut off by the scope. */
static void begin_shutdown(struct gchat_server *s, struct ax_context *cx)
{
    struct gchat_room *room = s->room;
    ax_future_drop(&s->accept.base);
    ax_future_drop(&s->stopped.base);
    ax_source_close(s->listener);
    s->listener = NULL;
    room->closing = true;
    struct ax_list *node;
    ax_list_for_each(node, &room->clients)
    {
        ax_waker_wake(&ax_container_of(node, struct gchat_client, link)->waker);
    }
    uint64_t now = ax_executor_now(cx->executor);
    ax_scope_cancel_at(room->scope, s->grace < UINT64_MAX - now ? now + s->grace : UINT64_MAX);
    ax_scope_wait_init(&s->clients_gone, room->scope);
    s->phase = GCHAT_CLOSING;
}

static ax_result start(struct gchat_server *s, struct ax_context *cx)
{
    struct gchat_room *room = calloc(1, sizeof *room);
    if (room == NULL)
        return -ENOMEM;
    int rc = ax_scope_new(&room->scope, cx->executor, NULL);
    if (rc < 0) {
        free(room);
        return rc;
    }
    room->executor = cx->executor;
    ax_list_init(&room->clients);
    room->refs = 1;
    s->room = room;
    ax_cancel_wait_init(&s->stopped, s->stop);
    ax_accept_future_init(&s->accept, s->listener);
    return 0;
}

static ax_result gchat_server_poll(struct ax_future *self, struct ax_context *cx)
{
    struct gchat_server *s = (struct gchat_server *)self;
    if (s->phase == GCHAT_DONE)
        return -EINVAL;
    if (s->room == NULL) {
        ax_result rc = start(s, cx);
        if (rc < 0)
            return rc;
    }
    while (s->phase == GCHAT_SERVING) {
        if (ax_poll(&s->stopped.base, cx) != AX_PENDING) {
            begin_shutdown(s, cx);
            break;
        }
        ax_result fd = ax_poll(&s->accept.base, cx);
        if (fd == AX_PENDING)
            return AX_PENDING;
        ax_future_drop(&s->accept.base);
        ax_accept_future_init(&s->accept, s->listener);
        if (fd >= 0)
            add_client(s->room, (int)fd); /* a client that cannot start is simply gone */
        else if (!about_one_connection(fd)) {
            s->error = fd;
            begin_shutdown(s, cx);
        }
    }
    ax_result rc = ax_poll(&s->clients_gone.base, cx);
    if (rc == AX_PENDING)
        return AX_PENDING;
    (void)rc; /* -ECANCELED when the deadline cut someone: still a clean stop */
    ax_future_drop(&s->clients_gone.base);
    ax_scope_release(s->room->scope);
    room_release(s->room);
    s->room = NULL;
    s->phase = GCHAT_DONE;
    return s->error;
}

static void gchat_server_drop(struct ax_future *self)
{
    struct gchat_server *s = (struct gchat_server *)self;
    if (s->room != NULL) {
        if (s->phase == GCHAT_SERVING) {
            ax_future_drop(&s->accept.base);
            ax_future_drop(&s->stopped.base);
        } else {
            ax_future_drop(&s->clients_gone.base);
        }
        ax_scope_release(s->room->scope); /* aborts every client still running */
        room_release(s->room);
        s->room = NULL;
    }
    if (s->listener != NULL)
        ax_source_close(s->listener);
    s->listener = NULL;
    if (s->stop != NULL)
        ax_cancel_release(s->stop);
    s->stop = NULL;
}

static const struct ax_future_ops gchat_server_ops = {.poll = gchat_server_poll,
                                                      .drop = gchat_server_drop};

void gchat_server_init(struct gchat_server *s, struct ax_source *listener,
                       struct ax_cancel_token *stop, uint64_t grace_ns)
{
    *s = (struct gchat_server){.base = {&gchat_server_ops},
                               .listener = listener,
                               .stop = ax_cancel_ref(stop),
                               .grace = grace_ns};
}
