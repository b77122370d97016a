/*
 * echo-blocking: an iterative echo server, the simplest server there is.
 *
 *     build/bin/echo-blocking [--port N]     (default port 7000; 0 picks a free one)
 *
 * It accepts one client, echoes back everything that client sends until it hangs up,
 * and only then accepts the next. Every call blocks, so the code reads top to bottom
 * like the protocol does, and that is also its flaw: while one client is connected,
 * every other client waits in the kernel's accept queue. Chapter 01 measures how long
 * (bench/echo_stall.c) and fixes it the expensive way in echo-threads.c.
 *
 * Standard output carries one line, `listening on 127.0.0.1:PORT`; the log goes to
 * standard error (AX_LOG=warn quiets it).
 */
#include "ax/clock.h"
#include "ax/error.h"
#include "ax/log.h"
#include "ax/net.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

enum { DEFAULT_PORT = 7000 };

static void usage(FILE *to, int status)
{
    fprintf(to,
            "usage: echo-blocking [--port N]\n"
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

// snippet echo-serve-client
/* Echoes everything the client sends until it hangs up. */
static void serve_client(int fd, const char *peer)
{
    char buf[4096];
    for (;;) {
        ssize_t got = ax_read_some(fd, buf, sizeof buf); /* blocks until bytes arrive */
        if (got == 0)
            return; /* the client closed its end */
        if (got < 0) {
            ax_warn("read from %s: %s", peer, ax_strerror((int)got));
            return;
        }
        int err = ax_write_all(fd, buf, (size_t)got); /* blocks until the kernel takes all */
        if (err < 0) {
            ax_warn("write to %s: %s", peer, ax_strerror(err));
            return;
        }
    }
}
// end snippet

/* Running out of descriptors or memory passes; anything else means the listening
 * socket itself is broken. */
static int accept_error_is_transient(int err)
{
    return err == -EMFILE || err == -ENFILE || err == -ENOBUFS || err == -ENOMEM;
}

int main(int argc, char **argv)
{
    uint16_t port = parse_args(argc, argv);
    int listen_fd = ax_listen("127.0.0.1", port, &port);
    if (listen_fd < 0) {
        fprintf(stderr, "echo-blocking: listen on 127.0.0.1:%u: %s\n", (unsigned)port,
                ax_strerror(listen_fd));
        return 1;
    }
    ax_announce_listening("127.0.0.1", port);

    // snippet echo-accept-loop
    for (;;) {
        char peer[AX_ADDR_STRLEN];
        int fd = ax_accept(listen_fd, peer); /* blocks until a client connects */
        if (fd < 0) {
            ax_error("accept: %s", ax_strerror(fd));
            if (!accept_error_is_transient(fd))
                return 1;
            ax_sleep_ns(100 * AX_NS_PER_MS); /* let a client leave before trying again */
            continue;
        }
        ax_info("serving %s", peer);
        serve_client(fd, peer); /* nobody else is served until this returns */
        ax_close(fd);
        ax_info("done with %s", peer);
    }
    // end snippet
}
