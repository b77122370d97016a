/*
 * sleep: what a blocking call does to everything else the thread had to do.
 *
 *     build/bin/sleep [--ms N] [--thread]
 *
 * The program has two jobs. One is a ticker that should print a line every 100 ms.
 * The other is a slow job, here simply a blocking sleep of N ms (default 1000), which
 * starts at the third tick. Run on the ticker's own thread, the slow job freezes it:
 * the next ticks come out late, then all at once. With --thread the slow job runs on
 * a second thread and the ticks stay on time, which is the thread-per-task answer
 * that the rest of chapter 01 measures.
 */
#include "ax/clock.h"

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

enum { TICKS = 8, TICK_MS = 100, SLOW_JOB_AT_TICK = 3 };

static uint64_t slow_job_ms = 1000;

static void *slow_job(void *arg)
{
    (void)arg;
    ax_sleep_ns(slow_job_ms * AX_NS_PER_MS); /* the whole thread sleeps in the kernel */
    printf("            slow job done\n");
    return NULL;
}

static void usage(FILE *to, int status)
{
    fprintf(to, "usage: sleep [--ms N] [--thread]\n"
                "  a ticker that runs a slow job of N ms (0..60000, default 1000) at its\n"
                "  third tick; --thread runs the job on a second thread\n");
    exit(status);
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"ms", required_argument, NULL, 'm'},
        {"thread", no_argument, NULL, 't'},
        {"help", no_argument, NULL, 'H'},
        {0},
    };
    int use_thread = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "m:t", options, NULL)) != -1) {
        char *end;
        switch (opt) {
        case 'm':
            slow_job_ms = strtoull(optarg, &end, 10);
            if (optarg[0] < '0' || optarg[0] > '9' || *end != '\0' || slow_job_ms > 60000)
                usage(stderr, 2);
            break;
        case 't':
            use_thread = 1;
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
    setvbuf(stdout, NULL, _IOLBF, 0); /* show each line as it happens, even in a pipe */

    pthread_t worker;
    int worker_started = 0;
    uint64_t start = ax_now_ns();
    for (int tick = 1; tick <= TICKS; tick++) {
        uint64_t due = start + (uint64_t)tick * TICK_MS * AX_NS_PER_MS;
        uint64_t now = ax_now_ns();
        if (now < due)
            ax_sleep_ns(due - now);
        now = ax_now_ns();
        printf("tick %d at %5.0f ms (late by %4.0f ms)\n", tick,
               (double)(now - start) / AX_NS_PER_MS, (double)(now - due) / AX_NS_PER_MS);

        if (tick == SLOW_JOB_AT_TICK) {
            printf("            slow job starts: %llu ms%s\n", (unsigned long long)slow_job_ms,
                   use_thread ? " on another thread" : " on this thread");
            if (!use_thread) {
                slow_job(NULL);
            } else if (pthread_create(&worker, NULL, slow_job, NULL) == 0) {
                worker_started = 1;
            } else {
                fprintf(stderr, "sleep: cannot start a thread; running the slow job here\n");
                slow_job(NULL);
            }
        }
    }
    if (worker_started)
        pthread_join(worker, NULL);
    return 0;
}
