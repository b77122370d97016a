//@ 07
/*
 * queue_memory: the memory a fast producer piles up in front of a slow consumer, with
 * an unbounded queue and with a bounded channel.
 *
 * It runs chapter 07's demo, queue-growth (next to this binary in build/bin/), once per
 * queue, each in its own process so that each peak RSS is its own: a producer makes one
 * 4096-byte message every 100 µs, a consumer takes one a millisecond, for one second of
 * virtual time; the bounded run uses an ax_chan of 64 slots. From the demo's table:
 *
 *     queue.bytes_held.QUEUE.MS   bytes held by messages not yet freed, every 50 ms
 *                                 (the series the chapter plots over time)
 *     queue.peak_bytes.QUEUE      the most bytes held at once
 *     queue.peak_items.QUEUE      the longest the queue got
 *     queue.peak_rss_kib.QUEUE    the process's peak resident set size
 *     queue.produced.QUEUE        messages made in the second
 *     queue.consumed.QUEUE        messages taken in the second
 *
 * QUEUE is `unbounded` or `bounded`. It fails if the bounded channel held more than its
 * capacity, or if the unbounded queue did not outgrow it.
 */
#include "bench.h"

enum { OUTPUT_MAX = 1 << 16, CAPACITY = 64 };

/* Runs build/bin/queue-growth with args and returns its whole standard output. */
static void run_demo(const char *const args[], char *out, size_t cap)
{
    char path[4096 + 64];
    bench_sibling(path, sizeof path, "queue-growth");
    char *argv[16] = {path};
    for (int i = 0; args[i] != NULL && i + 2 < 16; i++)
        argv[1 + i] = (char *)args[i];

    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) < 0)
        bench_fail("pipe: %s", ax_strerror(ax__errno()));
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        bench_fail("fork: %s", ax_strerror(ax__errno()));
    if (pid == 0) {
        dup2(pipe_fds[1], STDOUT_FILENO);
        execv(path, argv);
        fprintf(stderr, "cannot run %s: %s (run `make` first)\n", path, strerror(errno));
        _exit(127);
    }
    close(pipe_fds[1]);
    size_t got = 0;
    uint64_t deadline = ax_now_ns() + 12 * BENCH_STEP_TIMEOUT_NS;
    for (;;) {
        if (got == cap - 1)
            bench_fail("queue-growth printed more than %zu bytes", cap);
        int err = bench_read_exact(pipe_fds[0], out + got, 1, deadline);
        if (err == AX_EOF)
            break;
        if (err < 0)
            bench_fail("reading queue-growth's output: %s", ax_strerror(err));
        got++;
    }
    close(pipe_fds[0]);
    out[got] = '\0';
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        bench_fail("queue-growth %s failed (status %#x)", args[1], status);
}

/* The number after `label` at the start of a line of out. */
static double value_of(const char *out, const char *label)
{
    for (const char *line = out; line != NULL && *line != '\0';) {
        double v;
        if (strncmp(line, label, strlen(label)) == 0 &&
            sscanf(line + strlen(label), " %lf", &v) == 1)
            return v;
        line = strchr(line, '\n');
        line = line != NULL ? line + 1 : NULL;
    }
    bench_fail("queue-growth printed no \"%s\" line", label);
}

/* One queue: its series over time and its totals. Returns the peak items. */
static double measure(const char *queue)
{
    char capacity[16];
    snprintf(capacity, sizeof capacity, "%d", CAPACITY);
    const char *const args[] = {"--queue", queue,        "--capacity", capacity, "--duration-ms",
                                "1000",    "--every-ms", "50",         NULL};
    static char out[OUTPUT_MAX];
    run_demo(args, out, sizeof out);

    char name[128];
    const char *row = strstr(out, "bytes held\n");
    if (row == NULL)
        bench_fail("queue-growth printed no backlog table");
    row += strlen("bytes held\n");
    unsigned long long at, queued, bytes;
    int used;
    while (sscanf(row, " %llu %llu %llu%n", &at, &queued, &bytes, &used) == 3) {
        snprintf(name, sizeof name, "queue.bytes_held.%s.%llu", queue, at);
        bench_report(name, (double)bytes, "bytes");
        row += used;
    }
    static const struct {
        const char *label, *metric, *unit;
    } totals[] = {
        {"peak bytes held", "peak_bytes", "bytes"},
        {"peak queued items", "peak_items", "items"},
        {"peak RSS (KiB)", "peak_rss_kib", "KiB"},
        {"messages produced", "produced", "messages"},
        {"messages consumed", "consumed", "messages"},
    };
    for (size_t i = 0; i < sizeof totals / sizeof totals[0]; i++) {
        snprintf(name, sizeof name, "queue.%s.%s", totals[i].metric, queue);
        bench_report(name, value_of(out, totals[i].label), totals[i].unit);
    }
    return value_of(out, "peak queued items");
}

int main(int argc, char **argv)
{
    bench_args(argc, argv,
               "the memory a producer 10x faster than its consumer piles up in one second, "
               "through an unbounded queue and an ax_chan of 64");
    double unbounded = measure("unbounded");
    double bounded = measure("bounded");
    if (bounded > CAPACITY)
        bench_fail("the bounded channel held %.0f items, more than its %d slots", bounded,
                   CAPACITY);
    if (unbounded <= CAPACITY)
        bench_fail("the unbounded queue held only %.0f items: the producer was not faster",
                   unbounded);
    return 0;
}
