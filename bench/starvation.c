//@ 04
/*
 * starvation: what the cooperative budget buys. echo-tasks serves two clients that
 * flood it (each has one thread writing 64 KiB blocks without pause and one reading
 * the echo back, so the server finds its socket ready every time it looks) and a third
 * client that sends one byte, waits for it to come back, and does it again, for
 * RUN_MS. The third client's round trips say how long a ready task waits for its turn:
 *
 *     starve.worst_rtt_ms.<budget>    its slowest round trip (one still unanswered when
 *                                     the run ends counts as lasting until then)
 *     starve.round_trips.<budget>     how many it made in RUN_MS
 *
 * once with the budget off (--coop-budget 0: an operation that would succeed always
 * goes ahead) and once with the default budget (AX_COOP_BUDGET operations a poll).
 */
#include "bench.h"
#include "ax/task.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

enum { FLOODERS = 2, BLOCK = 64 * 1024, RUN_MS = 1500 };

struct flooder {
    int fd;
    atomic_bool *stop;
    pthread_t writer, reader;
};

static void *flood_writes(void *arg)
{
    struct flooder *f = arg;
    static char block[BLOCK];
    while (!atomic_load(f->stop))
        if (ax_write_all(f->fd, block, sizeof block) < 0)
            break;
    shutdown(f->fd, SHUT_WR);
    return NULL;
}

static void *flood_reads(void *arg)
{
    struct flooder *f = arg;
    static char sink[BLOCK]; /* shared by the readers: nobody looks at it */
    while (ax_read_some(f->fd, sink, sizeof sink) > 0)
        ;
    return NULL;
}

/* Runs the three clients against echo-tasks with the given budget argument. */
static void measure(const char *budget, const char *label)
{
    struct bench_server server;
    const char *const args[] = {"--coop-budget", budget, NULL};
    bench_server_start(&server, "echo-tasks", args);

    atomic_bool stop = false;
    struct flooder flooders[FLOODERS];
    for (int i = 0; i < FLOODERS; i++) {
        flooders[i] = (struct flooder){.fd = ax_connect("127.0.0.1", server.port), .stop = &stop};
        if (flooders[i].fd < 0)
            bench_fail("connect: %s", ax_strerror(flooders[i].fd));
        if (pthread_create(&flooders[i].writer, NULL, flood_writes, &flooders[i]) != 0 ||
            pthread_create(&flooders[i].reader, NULL, flood_reads, &flooders[i]) != 0)
            bench_fail("cannot start a flooding thread");
    }
    int probe = ax_connect("127.0.0.1", server.port);
    if (probe < 0)
        bench_fail("connect: %s", ax_strerror(probe));
    ax_sleep_ns(100 * AX_NS_PER_MS); /* let the flood get going */

    /* A round trip still unanswered when the run ends counts as lasting until then. */
    uint64_t worst = 0, trips = 0, end = ax_now_ns() + RUN_MS * AX_NS_PER_MS;
    while (ax_now_ns() < end) {
        uint64_t start = ax_now_ns();
        char byte = '!';
        int err = ax_write_all(probe, &byte, 1);
        if (err == 0)
            err = bench_read_exact(probe, &byte, 1, end);
        uint64_t rtt = ax_now_ns() - start;
        worst = rtt > worst ? rtt : worst;
        if (err == -ETIMEDOUT)
            break;
        if (err < 0)
            bench_fail("the probe's echo: %s", ax_strerror(err));
        trips++;
    }
    atomic_store(&stop, true);
    for (int i = 0; i < FLOODERS; i++) {
        pthread_join(flooders[i].writer, NULL);
        pthread_join(flooders[i].reader, NULL);
        close(flooders[i].fd);
    }
    close(probe);
    bench_server_stop(&server);

    char name[64];
    snprintf(name, sizeof name, "starve.worst_rtt_ms.%s", label);
    bench_report(name, (double)worst / AX_NS_PER_MS, "ms");
    snprintf(name, sizeof name, "starve.round_trips.%s", label);
    bench_report(name, (double)trips, "trips");
}

int main(int argc, char **argv)
{
    bench_args(argc, argv,
               "a client's round trips beside two flooding clients, with the cooperative budget "
               "off and on");
    char budget[16];
    snprintf(budget, sizeof budget, "%d", AX_COOP_BUDGET);
    bench_report("starve.run_ms", RUN_MS, "ms");
    measure("0", "off");
    measure(budget, "on");
    return 0;
}
