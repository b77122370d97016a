/* Challenge 02-challenge-proxy: a reference solution.
 *
 * A session is two sockets and two bounded buffers, one per direction. Every event on
 * either socket runs the same step (pump): read each side into its direction's buffer
 * while there is room, write each buffer to the other side as far as that socket
 * takes it, pass an end of stream on once its buffer is empty, and then recompute what
 * each socket is watched for (settle). Reading a side stops, and its readable interest
 * goes, while its direction's buffer is full: the socket's unread bytes stay in the
 * kernel, TCP's window closes, and the sender slows down. The backend socket is
 * watched for writable alone until its non-blocking connect has finished. */
#include "proxy.h"

#include "ax/buf.h"
#include "ax/error.h"
#include "ax/list.h"
#include "ax/nonblock.h"
#include "ax/reactor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

enum { ACCEPT_BATCH = 64 };

struct proxy {
    struct ax_reactor *reactor;
    const char *host;
    uint16_t port;
    struct ax_list sessions;
    int result;
};

/* One direction: bytes read from `from`, waiting to be written to `to`. */
struct flow {
    struct ax_buf pending;
    bool ended; /* `from` ended its stream */
    bool passed_on; /* and `to` has been shut down for writing */
};

struct session {
    struct proxy *proxy;
    struct ax_list link; /* in proxy->sessions */
    int client, backend;
    bool connected; /* the backend's handshake has finished, well */
    struct flow up; /* client -> backend */
    struct flow down; /* backend -> client */
};

static void on_client(struct ax_reactor *reactor, int fd, int events, void *data);
static void on_backend(struct ax_reactor *reactor, int fd, int events, void *data);

static void session_close(struct session *s)
{
    ax_reactor_close(s->proxy->reactor, s->client);
    if (s->backend >= 0)
        ax_reactor_close(s->proxy->reactor, s->backend);
    ax_list_remove(&s->link);
    ax_buf_free(&s->up.pending);
    ax_buf_free(&s->down.pending);
    free(s);
}

/* Reads `from` into the flow while it has room. 0 (including -EAGAIN and the end of
 * the stream, which sets ended) or -errno; *moved says whether anything changed. */
static int fill(int from, struct flow *flow, bool *moved)
{
    while (!flow->ended && ax_buf_len(&flow->pending) < PROXY_MAX_PENDING) {
        size_t room = PROXY_MAX_PENDING - ax_buf_len(&flow->pending);
        int err = ax_buf_reserve(&flow->pending, room);
        if (err < 0)
            return err;
        ssize_t got = ax_recv(from, ax_buf_space(&flow->pending), room);
        if (got == -EAGAIN)
            return 0;
        if (got < 0)
            return (int)got;
        if (got == 0)
            flow->ended = true;
        ax_buf_commit(&flow->pending, (size_t)got);
        *moved = true;
    }
    return 0;
}

/* Writes the flow to `to` as far as it goes, then passes an end of stream on. */
static int drain(int to, struct flow *flow)
{
    int err = ax_flush(to, &flow->pending);
    if (err == -EAGAIN)
        return 0;
    if (err < 0)
        return err;
    if (flow->ended && !flow->passed_on) {
        if (shutdown(to, SHUT_WR) < 0)
            return ax__errno();
        flow->passed_on = true;
    }
    return 0;
}

static int interest(const struct flow *in, const struct flow *out)
{
    int events = 0;
    if (!in->ended && ax_buf_len(&in->pending) < PROXY_MAX_PENDING)
        events |= AX_READABLE;
    if (ax_buf_len(&out->pending) > 0)
        events |= AX_WRITABLE;
    return events;
}

/* Watches both sockets for what the session's state needs. False on failure. */
static bool settle(struct session *s)
{
    struct ax_reactor *reactor = s->proxy->reactor;
    int backend_events = s->connected ? interest(&s->down, &s->up) : AX_WRITABLE;
    return ax_reactor_watch(reactor, s->client, interest(&s->up, &s->down), on_client, s) == 0 &&
           ax_reactor_watch(reactor, s->backend, backend_events, on_backend, s) == 0;
}

/* What the reactor reported for one of the session's sockets. */
enum side { CLIENT, BACKEND };

/*
 * One step of the session after an event on one of its sockets: reads that socket if
 * it is readable, writes a direction to its destination if new bytes were just added
 * to it or the destination is writable, and closes the session when both directions
 * are over or either has failed. A socket is neither read nor written without a
 * reason: that keeps each event to the calls it needs.
 */
static void pump(struct session *s, enum side side, int events)
{
    bool readable = (events & (AX_READABLE | AX_HANGUP | AX_ERROR)) != 0;
    bool writable = (events & (AX_WRITABLE | AX_HANGUP | AX_ERROR)) != 0;
    bool up_moved = false, down_moved = false;
    int err = 0;
    if (readable && side == CLIENT)
        err = fill(s->client, &s->up, &up_moved);
    else if (readable && side == BACKEND)
        err = fill(s->backend, &s->down, &down_moved);
    if (err == 0 && s->connected && (up_moved || (side == BACKEND && writable)))
        err = drain(s->backend, &s->up);
    if (err == 0 && s->connected && (down_moved || (side == CLIENT && writable)))
        err = drain(s->client, &s->down);
    if (err < 0 || (s->up.passed_on && s->down.passed_on) || !settle(s))
        session_close(s);
}

static void on_client(struct ax_reactor *reactor, int fd, int events, void *data)
{
    (void)reactor, (void)fd;
    pump(data, CLIENT, events);
}

static void on_backend(struct ax_reactor *reactor, int fd, int events, void *data)
{
    (void)reactor;
    struct session *s = data;
    if (!s->connected) { /* the handshake has ended: how? */
        if (ax_connect_finish(fd) < 0) {
            session_close(s);
            return;
        }
        s->connected = true;
        events = AX_WRITABLE; /* what the client sent meanwhile can go now */
    }
    pump(s, BACKEND, events);
}

static void session_start(struct proxy *proxy, int client)
{
    struct session *s = calloc(1, sizeof *s);
    if (s == NULL) {
        close(client);
        return;
    }
    *s = (struct session){.proxy = proxy, .client = client, .backend = -1};
    ax_list_push_back(&proxy->sessions, &s->link);
    int err = ax_connect_start(proxy->host, proxy->port, &s->backend);
    if (err == 0 || err == -EINPROGRESS) {
        s->connected = err == 0;
        pump(s, BACKEND, 0); /* nothing to move yet: only watch */
    } else {
        session_close(s); /* no backend: the client goes alone, told nothing */
    }
}

static void on_listener(struct ax_reactor *reactor, int fd, int events, void *data)
{
    (void)events;
    struct proxy *proxy = data;
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        int client = ax_accept_nonblocking(fd, NULL);
        if (client == -EAGAIN)
            return;
        if (client < 0) {
            proxy->result = client == -EINVAL ? 0 : client; /* EINVAL: shut down */
            ax_reactor_stop(reactor);
            return;
        }
        session_start(proxy, client);
    }
}

static bool numeric_address(const char *host)
{
    unsigned char addr[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

int proxy_serve(int listen_fd, const char *host, uint16_t port)
{
    if (host == NULL || !numeric_address(host) || port == 0)
        return -EINVAL;
    struct proxy proxy = {.host = host, .port = port};
    ax_list_init(&proxy.sessions);
    int err = ax_reactor_new(&proxy.reactor, NULL);
    if (err < 0)
        return err;
    err = ax_set_nonblocking(listen_fd, true);
    if (err == 0)
        err = ax_reactor_watch(proxy.reactor, listen_fd, AX_READABLE, on_listener, &proxy);
    if (err == 0)
        err = ax_reactor_run(proxy.reactor);
    if (err == 0)
        err = proxy.result;

    struct ax_list *node;
    while ((node = ax_list_pop_front(&proxy.sessions)) != NULL)
        session_close(ax_container_of(node, struct session, link));
    ax_reactor_unwatch(proxy.reactor, listen_fd); /* the caller owns and closes it */
    ax_reactor_free(proxy.reactor);
    return err;
}
