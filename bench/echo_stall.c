//@ 01
/*
 * echo_stall: how long one idle client makes the next client wait.
 *
 * For each echo server in the table below: client 1 connects, has one message echoed
 * (so the server is now busy with it) and then sits idle, holding its connection for
 * HOLD_MS before it leaves. Meanwhile client 2 connects and times one echo round trip.
 * An iterative server cannot even accept client 2 until client 1 is gone, so client
 * 2's round trip is about HOLD_MS; a server that serves clients concurrently answers
 * at once. The result is the median over TRIALS runs:
 *
 *     echo.stall_hold_ms          how long client 1 holds on (the parameter)
 *     echo.stall_ms.<variant>     client 2's round trip against that server
 *
 * Later chapters add their servers to the table; nothing else changes.
 */
#include "bench.h"

#include <pthread.h>
#include <stdint.h>

struct server_kind {
    const char *variant; /* the result name's last part */
    const char *binary; /* in build/bin/ */
};

static const struct server_kind servers[] = {
    {"blocking", "echo-blocking"},
    {"threads", "echo-threads"},
    //> 02
    {"reactor", "echo-reactor"},
    //< 02
};

enum { TRIALS = 5, HOLD_MS = 200 };

static void *hold_then_leave(void *arg)
{
    int fd = (int)(intptr_t)arg; /* the descriptor travels by value */
    ax_sleep_ns(HOLD_MS * AX_NS_PER_MS); /* idle: connected, sending nothing */
    ax_close(fd);
    return NULL;
}

static int connect_and_echo(const struct bench_server *server, const char *msg)
{
    int fd = ax_connect("127.0.0.1", server->port);
    if (fd < 0)
        bench_fail("connect to %s: %s", server->name, ax_strerror(fd));
    int err = bench_echo(fd, msg);
    if (err < 0)
        bench_fail("echo from %s: %s", server->name, ax_strerror(err));
    return fd;
}

// snippet stall-trial
/* One trial: client 2's round trip, in ms, while client 1 holds the server. */
static double stall_trial(const struct bench_server *server)
{
    int first = connect_and_echo(server, "first\n"); /* the server is now busy with it */
    pthread_t holder;
    if (pthread_create(&holder, NULL, hold_then_leave, (void *)(intptr_t)first) != 0)
        bench_fail("cannot start a thread");

    int second = ax_connect("127.0.0.1", server->port); /* the kernel queues it */
    if (second < 0)
        bench_fail("client 2 cannot connect to %s: %s", server->name, ax_strerror(second));
    uint64_t start = ax_now_ns();
    int err = bench_echo(second, "second\n"); /* waits for the server to get to us */
    uint64_t end = ax_now_ns();
    if (err < 0)
        bench_fail("client 2 got no echo from %s: %s", server->name, ax_strerror(err));

    pthread_join(holder, NULL);
    ax_close(second);
    return (double)(end - start) / (double)AX_NS_PER_MS;
}
// end snippet

int main(int argc, char **argv)
{
    bench_args(argc, argv,
               "how long one stalled client holds up the others, for the blocking, threaded and "
               "reactor echo servers");
    bench_report("echo.stall_hold_ms", HOLD_MS, "ms");
    for (size_t i = 0; i < sizeof servers / sizeof servers[0]; i++) {
        struct bench_server server;
        bench_server_start(&server, servers[i].binary, NULL);
        ax_close(connect_and_echo(&server, "warm-up\n")); /* first-touch costs stay out */

        double ms[TRIALS];
        for (int trial = 0; trial < TRIALS; trial++)
            ms[trial] = stall_trial(&server);

        char name[64];
        snprintf(name, sizeof name, "echo.stall_ms.%s", servers[i].variant);
        bench_report(name, bench_median(ms, TRIALS), "ms");
        bench_server_stop(&server);
    }
    return 0;
}
