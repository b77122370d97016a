/* Exercise 02-chat-room: a reference solution.
 *
 * Each client has an input buffer, holding at most one partial line, and an output
 * buffer for the lines its socket has not taken yet. A line read from one client is
 * appended to every other client's output and sent at once as far as each socket
 * allows; the rest goes out when that socket reports writable. A client's interest is
 * recomputed after everything that changes its buffers (settle), so it is watched for
 * writable only while output waits. */
#include "chat_room.h"

#include "ax/buf.h"
#include "ax/error.h"
#include "ax/list.h"
#include "ax/nonblock.h"
#include "ax/reactor.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { READ_CHUNK = 4096, READS_PER_WAKEUP = 16 };

struct room {
    struct ax_reactor *reactor;
    int listen_fd;
    struct ax_list clients;
    int result;
};

struct client {
    struct room *room;
    struct ax_list link; /* in room->clients */
    int fd;
    bool skipping; /* discarding the rest of an over-long line */
    bool cut_off; /* too slow: only its last lines and the notice still go out */
    struct ax_buf in;
    struct ax_buf out;
};

static void on_client(struct ax_reactor *reactor, int fd, int events, void *data);

static void client_close(struct client *c)
{
    ax_reactor_close(c->room->reactor, c->fd);
    ax_list_remove(&c->link);
    ax_buf_free(&c->in);
    ax_buf_free(&c->out);
    free(c);
}

/* Watches c for what its state needs, or closes it if it is finished. */
static void settle(struct client *c)
{
    if (c->cut_off && ax_buf_len(&c->out) == 0) {
        client_close(c); /* the notice has gone out */
        return;
    }
    int events = AX_READABLE | (ax_buf_len(&c->out) > 0 ? AX_WRITABLE : 0);
    if (ax_reactor_watch(c->room->reactor, c->fd, events, on_client, c) < 0)
        client_close(c);
}

/* Keeps what c's output holds up to the end of its first line, then the notice. */
static void cut_off(struct client *c)
{
    const char *data = ax_buf_data(&c->out);
    const char *newline = memchr(data, '\n', ax_buf_len(&c->out));
    size_t keep = newline != NULL ? (size_t)(newline - data) + 1 : ax_buf_len(&c->out);
    c->out.end = c->out.start + keep; /* drop the rest */
    ax_buf_append(&c->out, CHAT_CUT_OFF, strlen(CHAT_CUT_OFF));
    c->cut_off = true;
}

/* Appends bytes to c's output and sends what the socket takes now. False if c has
 * failed and must be closed. */
static bool send_to(struct client *c, const char *bytes, size_t n)
{
    if (c->cut_off)
        return true;
    if (ax_buf_append(&c->out, bytes, n) < 0)
        return false;
    int err = ax_flush(c->fd, &c->out);
    if (err < 0 && err != -EAGAIN)
        return false;
    if (ax_buf_len(&c->out) > CHAT_MAX_PENDING)
        cut_off(c);
    return true;
}

static void broadcast(struct room *room, struct client *from, const char *line, size_t n)
{
    struct ax_list *node, *next;
    ax_list_for_each_safe(node, next, &room->clients)
    {
        struct client *c = ax_container_of(node, struct client, link);
        if (c == from)
            continue;
        if (send_to(c, line, n))
            settle(c);
        else
            client_close(c);
    }
}

/* Hands out every complete line in c->in; returns false if c failed. */
static bool take_lines(struct client *c)
{
    char *newline;
    while ((newline = memchr(ax_buf_data(&c->in), '\n', ax_buf_len(&c->in))) != NULL) {
        size_t n = (size_t)(newline - ax_buf_data(&c->in)) + 1;
        if (c->skipping) {
            c->skipping = false; /* the end of a line already reported */
        } else if (n - 1 > CHAT_MAX_LINE) {
            if (!send_to(c, CHAT_TOO_LONG, strlen(CHAT_TOO_LONG)))
                return false;
        } else if (!c->cut_off) {
            broadcast(c->room, c, ax_buf_data(&c->in), n);
        }
        ax_buf_consume(&c->in, n);
    }
    /* No "\n" in what is left: past the bound, report it once and stop keeping it. */
    if (ax_buf_len(&c->in) > CHAT_MAX_LINE) {
        if (!c->skipping && !send_to(c, CHAT_TOO_LONG, strlen(CHAT_TOO_LONG)))
            return false;
        c->skipping = true;
        ax_buf_clear(&c->in);
    }
    return true;
}

/* Reads what has arrived, a bounded number of chunks per wake-up so one fast client
 * cannot keep the loop to itself. 0, AX_EOF or -errno. */
static int read_lines(struct client *c)
{
    for (int i = 0; i < READS_PER_WAKEUP; i++) {
        int err = ax_buf_reserve(&c->in, READ_CHUNK);
        if (err < 0)
            return err;
        ssize_t got = ax_recv(c->fd, ax_buf_space(&c->in), READ_CHUNK);
        if (got == -EAGAIN)
            return 0;
        if (got <= 0)
            return got == 0 ? AX_EOF : (int)got;
        ax_buf_commit(&c->in, (size_t)got);
        if (!take_lines(c))
            return -EPIPE;
    }
    return 0;
}

static void on_client(struct ax_reactor *reactor, int fd, int events, void *data)
{
    (void)reactor;
    struct client *c = data;
    if (events & AX_READABLE) {
        if (read_lines(c) < 0) { /* AX_EOF too: an unfinished last line is dropped */
            client_close(c);
            return;
        }
    }
    int err = ax_flush(fd, &c->out);
    if (err < 0 && err != -EAGAIN) {
        client_close(c);
        return;
    }
    settle(c);
}

static void add_client(struct room *room, int fd)
{
    struct client *c = calloc(1, sizeof *c);
    if (c == NULL) {
        close(fd);
        return;
    }
    *c = (struct client){.room = room, .fd = fd};
    ax_list_push_back(&room->clients, &c->link);
    settle(c);
}

static void on_listener(struct ax_reactor *reactor, int fd, int events, void *data)
{
    (void)events;
    struct room *room = data;
    for (;;) {
        int client = ax_accept_nonblocking(fd, NULL);
        if (client == -EAGAIN)
            return;
        if (client < 0) {
            room->result = client == -EINVAL ? 0 : client; /* EINVAL: shut down */
            ax_reactor_stop(reactor);
            return;
        }
        add_client(room, client);
    }
}

int chat_serve(int listen_fd)
{
    struct room room = {.listen_fd = listen_fd};
    ax_list_init(&room.clients);
    int err = ax_reactor_new(&room.reactor, NULL);
    if (err < 0)
        return err;
    err = ax_set_nonblocking(listen_fd, true);
    if (err == 0)
        err = ax_reactor_watch(room.reactor, listen_fd, AX_READABLE, on_listener, &room);
    if (err == 0)
        err = ax_reactor_run(room.reactor);
    if (err == 0)
        err = room.result;

    struct ax_list *node;
    while ((node = ax_list_pop_front(&room.clients)) != NULL)
        client_close(ax_container_of(node, struct client, link));
    ax_reactor_unwatch(room.reactor, listen_fd); /* the caller owns and closes it */
    ax_reactor_free(room.reactor);
    return err;
}
