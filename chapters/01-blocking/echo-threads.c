/*
 * echo-threads: the echo server with one thread per connection.
 *
 *     build/bin/echo-threads [--port N]      (default port 7000; 0 picks a free one)
 *
 * The per-client code is echo-blocking's, unchanged: it still blocks on every read and
 * write. What changes is who blocks. The main thread only accepts; each client gets a
 * thread of its own, so a client that sits idle puts only its own thread to sleep.
 * The price is a thread, with its stack, per connection; bench/thread_cost.c measures
 * it.
 *
 * Threads are detached: nobody joins them, and each frees its own state on the way
 * out. When a thread cannot be created (the process hit its thread or memory limit),
 * that one client is told nothing and closed, the failure is logged, and the server
 * keeps serving the clients it has.
 */
#include "ax/clock.h"
#include "ax/error.h"
#include "ax/log.h"
#include "ax/net.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { DEFAULT_PORT = 7000 };

/* What a client thread owns: its connection, and the peer's name for the log. */
struct client {
    int fd;
    char peer[AX_ADDR_STRLEN];
};

static void usage(FILE *to, int status)
{
    fprintf(to,
            "usage: echo-threads [--port N]\n"
            "  N in 0..65535; 0 picks a free port (default %d)\n",
            DEFAULT_PORT);
    exit(status);
}

static uint16_t parse_args(int argc, char **argv)
{
    static const struct option options[] = {
        {"port", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'H'},
        {0},
    };
    uint16_t port = DEFAULT_PORT;
    int opt;
    while ((opt = getopt_long(argc, argv, "p:", options, NULL)) != -1) {
        if (opt == 'H')
            usage(stdout, 0);
        if (opt != 'p' || ax_parse_port(optarg, &port) < 0)
            usage(stderr, 2);
    }
    if (optind != argc)
        usage(stderr, 2);
    return port;
}

/* The same loop as echo-blocking's serve_client. */
static void serve_client(int fd, const char *peer)
{
    char buf[4096];
    for (;;) {
        ssize_t got = ax_read_some(fd, buf, sizeof buf);
        if (got == 0)
            return;
        if (got < 0) {
            ax_warn("read from %s: %s", peer, ax_strerror((int)got));
            return;
        }
        int err = ax_write_all(fd, buf, (size_t)got);
        if (err < 0) {
            ax_warn("write to %s: %s", peer, ax_strerror(err));
            return;
        }
    }
}

// snippet threads-spawn
static void *client_thread(void *arg)
{
    struct client *client = arg;
    serve_client(client->fd, client->peer); /* blocks only this thread */
    ax_close(client->fd);
    ax_info("done with %s", client->peer);
    free(client);
    return NULL;
}

/* Hands the connection to a new detached thread; on failure the caller still owns fd. */
static int spawn_client_thread(int fd, const char *peer)
{
    struct client *client = malloc(sizeof *client);
    if (client == NULL)
        return -ENOMEM;
    client->fd = fd;
    snprintf(client->peer, sizeof client->peer, "%s", peer);

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED); /* nobody will join it */
    pthread_t thread;
    int rc = pthread_create(&thread, &attr, client_thread, client);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        free(client);
        return -rc; /* pthread_create returns its error instead of setting errno */
    }
    return 0;
}
// end snippet

static int accept_error_is_transient(int err)
{
    return err == -EMFILE || err == -ENFILE || err == -ENOBUFS || err == -ENOMEM;
}

int main(int argc, char **argv)
{
    uint16_t port = parse_args(argc, argv);
    int listen_fd = ax_listen("127.0.0.1", port, &port);
    if (listen_fd < 0) {
        fprintf(stderr, "echo-threads: listen on 127.0.0.1:%u: %s\n", (unsigned)port,
                ax_strerror(listen_fd));
        return 1;
    }
    ax_announce_listening("127.0.0.1", port);

    // snippet threads-accept-loop
    for (;;) {
        char peer[AX_ADDR_STRLEN];
        int fd = ax_accept(listen_fd, peer);
        if (fd < 0) {
            ax_error("accept: %s", ax_strerror(fd));
            if (!accept_error_is_transient(fd))
                return 1;
            ax_sleep_ns(100 * AX_NS_PER_MS);
            continue;
        }
        ax_info("serving %s", peer);
        int err = spawn_client_thread(fd, peer);
        if (err < 0) {
            ax_error("cannot start a thread for %s: %s; closing that connection", peer,
                     ax_strerror(err));
            ax_close(fd);
        }
    }
    // end snippet
}
