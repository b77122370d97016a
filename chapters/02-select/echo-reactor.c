/*
 * echo-reactor: the echo server again, now serving every client from one thread.
 *
 *     build/bin/echo-reactor [--backend NAME] [--port N]
 *
 * The listening socket and every client socket are non-blocking and watched by one
 * reactor. No call ever waits: a read takes what has arrived and stops at -EAGAIN, and
 * a send takes what the kernel accepts. What a client's socket will not take yet waits
 * in that client's output buffer, and the client is watched for writability only while
 * something waits there. A client with more than OUTPUT_BOUND bytes pending is not read
 * from until they drain, so a client that sends without reading costs the server a
 * bounded amount of memory, and its own unread bytes stay in the kernel's buffers.
 *
 * Running out of descriptors (EMFILE) pauses accepting until a client leaves or
 * ACCEPT_RETRY_NS passes, instead of retrying accept in a loop that never sleeps.
 *
 * --backend picks the reactor's backend by name (default: AX_BACKEND, or the library's
 * default); --port 0 picks a free port. Standard output carries one line, `listening
 * on 127.0.0.1:PORT`; the log goes to standard error (AX_LOG=warn quiets it).
 */
#include "ax/clock.h"
#include "ax/error.h"
#include "ax/log.h"
#include "ax/net.h"
#include "ax/nonblock.h"
#include "ax/reactor.h"
//> 03
#include "ax/reserve.h"
//< 03

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    DEFAULT_PORT = 7000,
    READ_CHUNK = 16 * 1024, /* room made in the buffer before each recv */
    OUTPUT_BOUND = 256 * 1024, /* stop reading a client with this much unsent */
    ACCEPT_BATCH = 128, /* accepts per wake-up, so a flood cannot starve clients */
};
#define ACCEPT_RETRY_NS (100 * AX_NS_PER_MS)

struct server {
    struct ax_reactor *reactor;
    int listen_fd;
    int clients;
    uint64_t accept_paused_until; /* 0 while accepting */
    bool warned_paused; /* say it once per episode, not every retry */
    int fatal; /* an error that ends the server, or 0 */
    //> 03
    struct ax_fd_reserve reserve; /* the spare descriptor that sheds at the fd limit */
    //< 03
};

// snippet echo-conn
/* One client. A callback returns to the loop after every event, so whatever must
 * survive between events lives here rather than in local variables. */
struct conn {
    struct server *server;
    int fd;
    bool closing; /* the client sent EOF: finish sending, then close */
    char peer[AX_ADDR_STRLEN];
    struct ax_buf out; /* echoed bytes the socket has not taken yet */
};
// end snippet

static void usage(FILE *to, int status)
{
    fprintf(to,
            "usage: echo-reactor [--backend NAME] [--port N]\n"
            "  NAME: one of: %s (default: $AX_BACKEND, or the first)\n"
            "  N in 0..65535; 0 picks a free port (default %d)\n",
            ax_reactor_backend_names(), DEFAULT_PORT);
    exit(status);
}

static void parse_args(int argc, char **argv, const char **backend, uint16_t *port)
{
    static const struct option options[] = {
        {"backend", required_argument, NULL, 'b'},
        {"port", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'H'},
        {0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "b:p:", options, NULL)) != -1) {
        if (opt == 'H')
            usage(stdout, 0);
        else if (opt == 'b')
            *backend = optarg;
        else if (opt != 'p' || ax_parse_port(optarg, port) < 0)
            usage(stderr, 2);
    }
    if (optind != argc)
        usage(stderr, 2);
}

static void on_listener(struct ax_reactor *reactor, int fd, int events, void *data);
static void on_client(struct ax_reactor *reactor, int fd, int events, void *data);

static void resume_accepting(struct server *server)
{
    int err =
        ax_reactor_watch(server->reactor, server->listen_fd, AX_READABLE, on_listener, server);
    if (err < 0) {
        ax_error("cannot watch the listening socket: %s", ax_strerror(err));
        server->fatal = err;
        return;
    }
    server->accept_paused_until = 0;
}

/* With no descriptor to spare, the pending connection stays readable and select would
 * report it again at once: stop watching the listener for a while instead. */
static void pause_accepting(struct server *server, int err)
{
    if (!server->warned_paused)
        ax_warn("accept: %s; not accepting until a client leaves", ax_strerror(err));
    server->warned_paused = true;
    ax_reactor_unwatch(server->reactor, server->listen_fd);
    server->accept_paused_until = ax_now_ns() + ACCEPT_RETRY_NS;
}

//> 03
// snippet echo-shed
/* Out of descriptors: rather than leave the connection queued (select or epoll would
 * report the listener again at once), accept it with the spare slot and close it. The
 * client sees its connection end; the server keeps serving the ones it has. 1 if a
 * connection was shed, 0 if none was waiting, -errno if even the spare is gone. */
static int shed_connection(struct server *server, int err)
{
    int shed = ax_fd_reserve_shed(&server->reserve, server->listen_fd);
    if (shed > 0 && !server->warned_paused)
        ax_warn("accept: %s; closing new connections until a client leaves", ax_strerror(err));
    if (shed > 0)
        server->warned_paused = true; /* say it once per episode */
    return shed;
}
// end snippet
//< 03

static void conn_close(struct conn *c)
{
    struct server *server = c->server;
    ax_reactor_close(server->reactor, c->fd); /* unwatch first, then close */
    ax_info("done with %s", c->peer);
    ax_buf_free(&c->out);
    free(c);
    server->clients--;
    if (server->accept_paused_until != 0)
        resume_accepting(server); /* a descriptor was freed: there is room again */
}

// snippet echo-read
/* Reads what has arrived, into the output buffer (an echo's input is its output),
 * until the socket has nothing more for now or enough output waits. 0, AX_EOF or
 * -errno. */
static int read_input(struct conn *c)
{
    while (ax_buf_len(&c->out) < OUTPUT_BOUND) {
        int err = ax_buf_reserve(&c->out, READ_CHUNK);
        if (err < 0)
            return err;
        ssize_t got = ax_recv(c->fd, ax_buf_space(&c->out), ax_buf_space_len(&c->out));
        if (got == -EAGAIN)
            return 0; /* all there is for now: back to the loop, never spin */
        if (got <= 0)
            return got == 0 ? AX_EOF : (int)got;
        ax_buf_commit(&c->out, (size_t)got);
    }
    return 0; /* backpressure: the rest stays in the kernel until output drains */
}
// end snippet

// snippet echo-interest
/* Chooses what to wait for next from the connection's state, or closes it when it is
 * finished. Readable while there is room to buffer the echo; writable only while
 * output waits, because an idle socket is always writable and select would report it
 * on every pass. */
static void conn_settle(struct conn *c)
{
    size_t pending = ax_buf_len(&c->out);
    if (c->closing && pending == 0) {
        conn_close(c);
        return;
    }
    //> 03
    if (pending == 0)
        ax_buf_free(&c->out); /* an idle client holds no buffer: most of C10K is idle */
    //< 03
    int events = 0;
    if (!c->closing && pending < OUTPUT_BOUND)
        events |= AX_READABLE;
    if (pending > 0)
        events |= AX_WRITABLE;
    int err = ax_reactor_watch(c->server->reactor, c->fd, events, on_client, c);
    if (err < 0) {
        ax_warn("cannot watch %s: %s", c->peer, ax_strerror(err));
        conn_close(c);
    }
}
// end snippet

// snippet echo-on-client
/* Everything that happens to a client: input to read, room to send, or both. */
static void on_client(struct ax_reactor *reactor, int fd, int events, void *data)
{
    (void)reactor;
    struct conn *c = data;
    if ((events & AX_READABLE) && !c->closing) {
        int err = read_input(c);
        if (err == AX_EOF) {
            c->closing = true; /* no more input; what is buffered still goes out */
        } else if (err < 0) {
            ax_warn("read from %s: %s", c->peer, ax_strerror(err));
            conn_close(c);
            return;
        }
    }
    /* Send now rather than after another wait: usually the socket takes it all. */
    int err = ax_flush(fd, &c->out);
    if (err < 0 && err != -EAGAIN) {
        ax_warn("send to %s: %s", c->peer, ax_strerror(err));
        conn_close(c);
        return;
    }
    conn_settle(c);
}
// end snippet

static void add_client(struct server *server, int fd, const char *peer)
{
    struct conn *c = calloc(1, sizeof *c);
    if (c == NULL) {
        ax_error("no memory for %s; closing it", peer);
        ax_close(fd);
        return;
    }
    *c = (struct conn){.server = server, .fd = fd};
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    ax_buf_init(&c->out);
    int err = ax_reactor_watch(server->reactor, fd, AX_READABLE, on_client, c);
    if (err < 0) {
        /* select cannot watch fd >= FD_SETSIZE: refuse this client, keep the others */
        ax_error("cannot watch %s (fd %d): %s; closing it", peer, fd, ax_strerror(err));
        ax_close(fd);
        free(c);
        return;
    }
    server->clients++;
    ax_info("serving %s (%d clients)", peer, server->clients);
}

static bool accept_error_is_transient(int err)
{
    return err == -EMFILE || err == -ENFILE || err == -ENOBUFS || err == -ENOMEM;
}

// snippet echo-accept
/* The listener is readable: connections are waiting. Takes them until there are no
 * more (-EAGAIN), or a batch has been taken and the clients deserve a turn. */
static void on_listener(struct ax_reactor *reactor, int fd, int events, void *data)
{
    (void)reactor, (void)events;
    struct server *server = data;
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        char peer[AX_ADDR_STRLEN];
        int client = ax_accept_nonblocking(fd, peer);
        if (client == -EAGAIN)
            return;
        //> 03
        if (client == -EMFILE || client == -ENFILE) {
            int shed = shed_connection(server, client);
            if (shed > 0)
                continue; /* the next accept shows whether more are waiting */
            if (shed == 0)
                return; /* none waiting: the listener is quiet again */
        } /* the spare is gone too: pause, as chapter 02 does */
        //< 03
        if (accept_error_is_transient(client)) {
            pause_accepting(server, client);
            return;
        }
        if (client < 0) {
            ax_error("accept: %s", ax_strerror(client));
            server->fatal = client;
            return;
        }
        server->warned_paused = false;
        add_client(server, client, peer);
    }
}
// end snippet

int main(int argc, char **argv)
{
    const char *backend = NULL;
    uint16_t port = DEFAULT_PORT;
    parse_args(argc, argv, &backend, &port);

    struct server server = {.listen_fd = -1};
    int err = ax_reactor_new(&server.reactor, backend);
    if (err == -EINVAL) {
        const char *name = backend ? backend : getenv("AX_BACKEND");
        fprintf(stderr, "echo-reactor: unknown backend '%s'%s; known backends: %s\n", name,
                backend ? "" : " (from AX_BACKEND)", ax_reactor_backend_names());
        return 2;
    }
    if (err < 0) {
        fprintf(stderr, "echo-reactor: cannot create the reactor: %s\n", ax_strerror(err));
        return 1;
    }

    server.listen_fd = ax_listen("127.0.0.1", port, &port);
    if (server.listen_fd < 0) {
        fprintf(stderr, "echo-reactor: listen on 127.0.0.1:%u: %s\n", (unsigned)port,
                ax_strerror(server.listen_fd));
        ax_reactor_free(server.reactor);
        return 1;
    }
    err = ax_set_nonblocking(server.listen_fd, true); /* a client may leave before accept */
    if (err == 0)
        err = ax_reactor_watch(server.reactor, server.listen_fd, AX_READABLE, on_listener, &server);
    if (err < 0) {
        fprintf(stderr, "echo-reactor: cannot watch the listening socket: %s\n", ax_strerror(err));
        ax_close(server.listen_fd);
        ax_reactor_free(server.reactor);
        return 1;
    }
    //> 03
    err = ax_fd_reserve_init(&server.reserve); /* taken now, while there are fds to spare */
    if (err < 0)
        ax_warn("no spare descriptor (%s); at the fd limit, accepting pauses instead",
                ax_strerror(err));
    //< 03
    ax_announce_listening("127.0.0.1", port);
    ax_info("backend %s", ax_reactor_backend_name(server.reactor));

    // snippet echo-loop
    while (server.fatal == 0) {
        int64_t timeout_ns = -1; /* nothing to do until some fd is ready */
        if (server.accept_paused_until != 0) {
            uint64_t now = ax_now_ns();
            timeout_ns =
                now < server.accept_paused_until ? (int64_t)(server.accept_paused_until - now) : 0;
        }
        int rc = ax_reactor_run_once(server.reactor, timeout_ns);
        if (rc < 0) {
            ax_error("wait: %s", ax_strerror(rc));
            server.fatal = rc;
        } else if (server.accept_paused_until != 0 && ax_now_ns() >= server.accept_paused_until) {
            resume_accepting(&server); /* nobody left, but try again anyway */
        }
    }
    // end snippet
    //> 03
    ax_fd_reserve_free(&server.reserve);
    //< 03
    ax_close(server.listen_fd);
    ax_reactor_free(server.reactor); /* the process ends: clients close with it */
    return 1;
}
