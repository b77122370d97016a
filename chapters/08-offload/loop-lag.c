/*
 * loop-lag: what CPU-heavy work on the loop costs everybody else, and what moving it to
 * the thread pool gives back.
 *
 *     build/bin/loop-lag [--mode inline|offload|both] [--run-ms N] [--mib N] [--tsv]
 *
 * For N ms (default 300) three tasks share one loop:
 *
 *   the hasher   hashes a buffer of MIB MiB (default 4) with FNV-1a, again and again:
 *                a few milliseconds of pure computation each time, with no system call
 *                in which it could wait
 *   the ticker   wakes on a 1 ms interval and notes how late each tick came
 *   an echo      answers a client thread, which sends 8 bytes every millisecond over a
 *                socket pair and times the round trip
 *
 * It runs twice. Inline, the hasher hashes in its own poll (and yields between two
 * buffers, as a well-behaved task does): while it hashes, no other task runs, so the
 * tick and the echo wait for the whole hash. Offloaded, the hasher awaits
 * ax_spawn_blocking instead: the hash runs on a pool worker, the loop stays free, and
 * the tick and the echo are served within microseconds. Yielding more often would not
 * help the inline run: one hash is the unit of work, and C cannot pause it halfway.
 *
 * The results are the median, 99th percentile and worst lateness of the ticks and round
 * trips of the echo, in µs; --tsv prints them as name<TAB>value<TAB>unit lines for
 * bench/offload.c (lag.inline_p99_us, lag.offload_p99_us, ...).
 */
#include "ax/async.h"
#include "ax/clock.h"
#include "ax/error.h"
#include "ax/io.h"
#include "ax/net.h"
#include "ax/pool.h"
#include "ax/task.h"
#include "ax/timer.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { TICK_MS = 1, PING_BYTES = 8 };

/* Latencies in ns, as many as the run can produce. */
struct samples {
    uint64_t *ns;
    size_t count, cap;
};

static void note(struct samples *s, uint64_t ns)
{
    if (s->count < s->cap)
        s->ns[s->count++] = ns;
}

/* ---- the work --------------------------------------------------------------------- */

/* What a hash reads and writes. It outlives every task: a hash still running on the
 * pool when its future goes could never touch freed memory. */
struct hash_job {
    const unsigned char *buf;
    size_t len;
    uint64_t digest;
};

// FNV-1a: one multiply per byte, so a few MiB take milliseconds.
static ax_result hash_buffer(void *arg)
{
    struct hash_job *job = arg;
    uint64_t h = 1469598103934665603u;
    for (size_t i = 0; i < job->len; i++)
        h = (h ^ job->buf[i]) * 1099511628211u;
    job->digest ^= h;
    return 0;
}

struct hasher {
    struct ax_future base;
    struct hash_job *job;
    bool offload, busy;
    uint64_t end;
    int hashes;
    union {
        struct ax_blocking work; /* offloaded: the hash on the pool */
        struct ax_sleep pause; /* inline: the yield between two hashes */
    };
};

// snippet loop-lag-hasher
static ax_result hasher_poll(struct ax_future *self, struct ax_context *cx)
{
    struct hasher *h = (struct hasher *)self;
    for (;;) {
        if (!h->busy && ax_now_ns() >= h->end)
            return h->hashes;
        if (!h->busy) {
            if (h->offload) {
                ax_spawn_blocking_init(&h->work, NULL, hash_buffer, h->job, NULL);
            } else { /* on the loop: nothing else runs until it returns */
                hash_buffer(h->job);
                h->hashes++;
                /* Then a yield that lets timers and I/O in, not only the tasks already
                 * queued: a sleep due at once, which the next turn of the loop fires. */
                ax_sleep_init(&h->pause, 1);
            }
            h->busy = true;
        }
        struct ax_future *awaited = h->offload ? &h->work.base : &h->pause.base;
        ax_result rc = ax_poll(awaited, cx);
        if (rc == AX_PENDING)
            return rc;
        ax_future_drop(awaited);
        h->busy = false;
        if (rc < 0)
            return rc;
        h->hashes += h->offload;
    }
}
// end snippet

static void hasher_drop(struct ax_future *self)
{
    struct hasher *h = (struct hasher *)self;
    if (h->busy)
        ax_future_drop(h->offload ? &h->work.base : &h->pause.base);
}

static const struct ax_future_ops hasher_ops = {.poll = hasher_poll, .drop = hasher_drop};

/* ---- the ticker ------------------------------------------------------------------- */

struct ticker {
    struct ax_future base;
    struct ax_interval interval;
    struct ax_tick tick;
    bool armed;
    uint64_t end;
    struct samples *late;
};

static ax_result ticker_poll(struct ax_future *self, struct ax_context *cx)
{
    struct ticker *t = (struct ticker *)self;
    for (;;) {
        if (!t->armed) {
            ax_tick_init(&t->tick, &t->interval);
            t->armed = true;
        }
        ax_result scheduled = ax_poll(&t->tick.base, cx);
        if (scheduled == AX_PENDING)
            return scheduled;
        ax_future_drop(&t->tick.base);
        t->armed = false;
        if (scheduled < 0)
            return scheduled;
        uint64_t now = ax_now_ns();
        note(t->late, now - (uint64_t)scheduled);
        if (now >= t->end)
            return 0;
    }
}

static void ticker_drop(struct ax_future *self)
{
    struct ticker *t = (struct ticker *)self;
    if (t->armed)
        ax_future_drop(&t->tick.base);
}

static const struct ax_future_ops ticker_ops = {.poll = ticker_poll, .drop = ticker_drop};

/* ---- the echo and its client ------------------------------------------------------ */

struct echo {
    struct ax_future base;
    struct ax_coroutine co;
    struct ax_source *source;
    union {
        struct ax_read_future read;
        struct ax_write_future write;
    } io;
    char buf[PING_BYTES];
    ax_result got;
};

static ax_result echo_poll(struct ax_future *self, struct ax_context *cx)
{
    struct echo *e = (struct echo *)self;
    AX_ASYNC_BEGIN(&e->co);
    for (;;) {
        ax_read_future_init(&e->io.read, e->source, e->buf, sizeof e->buf);
        AX_AWAIT(&e->co, cx, &e->io.read.base, e->got);
        if (e->got <= 0)
            break; /* the client is done */
        ax_write_future_init(&e->io.write, e->source, e->buf, (size_t)e->got);
        AX_AWAIT(&e->co, cx, &e->io.write.base, e->got);
        if (e->got < 0)
            break;
    }
    AX_ASYNC_END(&e->co, e->got < 0 ? e->got : 0);
}

static void echo_drop(struct ax_future *self)
{
    AX_ASYNC_DROP(&((struct echo *)self)->co);
}

static const struct ax_future_ops echo_ops = {.poll = echo_poll, .drop = echo_drop};

/* A blocking client on its own thread, as a user across the network would be. */
struct client {
    int fd;
    uint64_t end;
    struct samples *rtt;
    int err;
};

static void *client_main(void *arg)
{
    struct client *c = arg;
    char ping[PING_BYTES] = "ping...", pong[PING_BYTES];
    for (uint64_t next = ax_now_ns(); next < c->end;) {
        uint64_t sent = ax_now_ns();
        int err = ax_write_all(c->fd, ping, sizeof ping);
        if (err == 0)
            err = ax_read_exact(c->fd, pong, sizeof pong, NULL);
        if (err < 0) {
            c->err = err;
            break;
        }
        uint64_t now = ax_now_ns();
        note(c->rtt, now - sent);
        next += TICK_MS * AX_NS_PER_MS;
        if (next < now) {
            next = now; /* a late answer: the next ping goes now, not a burst of them */
        } else {
            struct timespec pause = {.tv_nsec = (long)(next - now)};
            nanosleep(&pause, NULL);
        }
    }
    shutdown(c->fd, SHUT_WR); /* the echo reads its end of stream and finishes */
    return NULL;
}

/* ---- one run ---------------------------------------------------------------------- */

struct result {
    int hashes;
    struct samples late, rtt;
};

static void fail(const char *what, int err)
{
    fprintf(stderr, "loop-lag: %s: %s\n", what, ax_strerror(err));
    exit(1);
}

static void *alloc_task(struct ax_executor *executor, size_t size)
{
    void *storage = ax_task_alloc(executor, size);
    if (storage == NULL)
        fail("a task", -ENOMEM);
    return storage;
}

static void run(bool offload, uint64_t run_ns, struct hash_job *job, struct result *r)
{
    struct ax_executor *executor;
    int err = ax_executor_new(&executor, NULL);
    if (err < 0)
        fail("executor", err);
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
        fail("socketpair", -errno);
    struct ax_source *server_end;
    if ((err = ax_source_open(executor, pair[0], &server_end)) < 0)
        fail("source", err);
    uint64_t end = ax_now_ns() + run_ns;

    struct hasher *h = alloc_task(executor, sizeof *h);
    *h = (struct hasher){.base = {&hasher_ops}, .job = job, .offload = offload, .end = end};
    struct ax_task *hasher = ax_task_spawn(&h->base);
    struct ticker *t = alloc_task(executor, sizeof *t);
    *t = (struct ticker){.base = {&ticker_ops}, .end = end, .late = &r->late};
    ax_interval_init(&t->interval, ax_now_ns() + TICK_MS * AX_NS_PER_MS, TICK_MS * AX_NS_PER_MS);
    ax_task_detach(ax_task_spawn(&t->base));
    struct echo *e = alloc_task(executor, sizeof *e);
    *e = (struct echo){.base = {&echo_ops}, .source = server_end};
    ax_task_detach(ax_task_spawn(&e->base));

    struct client client = {.fd = pair[1], .end = end, .rtt = &r->rtt};
    pthread_t thread;
    if ((err = -pthread_create(&thread, NULL, client_main, &client)) < 0)
        fail("client thread", err);
    ax_result hashes = ax_block_on(executor, hasher);
    if (hashes < 0)
        fail("hashing", (int)hashes);
    r->hashes = (int)hashes;
    if ((err = ax_executor_run(executor)) < 0) /* the ticker and the echo finish too */
        fail("the loop", err);
    pthread_join(thread, NULL);
    if (client.err < 0)
        fail("the echo client", client.err);
    ax_source_close(server_end);
    close(pair[1]);
    ax_executor_free(executor);
}

/* ---- results ---------------------------------------------------------------------- */

static int by_value(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The p-th percentile (p in 0..100) in µs; 0 without samples. */
static double percentile_us(struct samples *s, double p)
{
    if (s->count == 0)
        return 0;
    qsort(s->ns, s->count, sizeof s->ns[0], by_value);
    size_t i = (size_t)(p / 100 * (double)(s->count - 1) + 0.5);
    return (double)s->ns[i] / 1000.0;
}

static void report(const char *mode, struct result *r, bool tsv)
{
    double late[3] = {percentile_us(&r->late, 50), percentile_us(&r->late, 99),
                      percentile_us(&r->late, 100)};
    double rtt[3] = {percentile_us(&r->rtt, 50), percentile_us(&r->rtt, 99),
                     percentile_us(&r->rtt, 100)};
    if (tsv) {
        printf("lag.%s_p50_us\t%.3f\tus\nlag.%s_p99_us\t%.3f\tus\nlag.%s_max_us\t%.3f\tus\n", mode,
               late[0], mode, late[1], mode, late[2]);
        printf("lag.echo_%s_p50_us\t%.3f\tus\nlag.echo_%s_p99_us\t%.3f\tus\n", mode, rtt[0], mode,
               rtt[1]);
        printf("lag.%s_hashes\t%d\thashes\n", mode, r->hashes);
        return;
    }
    printf("%-8s %6d %8zu %9.0f %9.0f %9.0f %8zu %9.0f %9.0f\n", mode, r->hashes, r->late.count,
           late[0], late[1], late[2], r->rtt.count, rtt[0], rtt[1]);
}

static void usage(FILE *to, int status)
{
    fprintf(to, "usage: loop-lag [--mode inline|offload|both] [--run-ms N] [--mib N] [--tsv]\n"
                "  for N ms (10..10000, default 300) a task hashes a buffer of MIB MiB (1..256,\n"
                "  default 4) again and again, on the loop (inline) or on the thread pool\n"
                "  (offload), while a 1 ms timer ticks and a client pings an echo task; prints\n"
                "  how late the ticks and the echoes came (µs)\n"
                "  --tsv  the results as name<TAB>value<TAB>unit lines\n");
    exit(status);
}

static unsigned parse(const char *text, unsigned lo, unsigned hi)
{
    unsigned value;
    char extra;
    if (sscanf(text, "%u%c", &value, &extra) != 1 || value < lo || value > hi)
        usage(stderr, 2);
    return value;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"mode", required_argument, NULL, 'm'}, {"run-ms", required_argument, NULL, 'r'},
        {"mib", required_argument, NULL, 'b'},  {"tsv", no_argument, NULL, 't'},
        {"help", no_argument, NULL, 'H'},       {0},
    };
    unsigned run_ms = 300, mib = 4;
    bool tsv = false, inline_run = true, offload_run = true;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (opt == 'H')
            usage(stdout, 0);
        else if (opt == 't')
            tsv = true;
        else if (opt == 'r')
            run_ms = parse(optarg, 10, 10000);
        else if (opt == 'b')
            mib = parse(optarg, 1, 256);
        else if (opt == 'm' && strcmp(optarg, "inline") == 0)
            offload_run = false;
        else if (opt == 'm' && strcmp(optarg, "offload") == 0)
            inline_run = false;
        else if (opt != 'm' || strcmp(optarg, "both") != 0)
            usage(stderr, 2);
    }
    if (optind != argc)
        usage(stderr, 2);

    struct hash_job job = {.len = (size_t)mib << 20};
    unsigned char *buf = malloc(job.len);
    size_t cap = run_ms / TICK_MS + 16;
    uint64_t *space = malloc(4 * cap * sizeof *space);
    if (buf == NULL || space == NULL)
        fail("memory", -ENOMEM);
    for (size_t i = 0; i < job.len; i++)
        buf[i] = (unsigned char)(i * 131 + 7);
    job.buf = buf;
    struct result results[2] = {
        {.late = {space, 0, cap}, .rtt = {space + cap, 0, cap}},
        {.late = {space + 2 * cap, 0, cap}, .rtt = {space + 3 * cap, 0, cap}},
    };
    if (!tsv)
        printf("%u ms each: a task hashes %u MiB buffers; a 1 ms timer ticks; a client pings "
               "an echo task\n%-8s %6s %8s %9s %9s %9s %8s %9s %9s\n",
               run_ms, mib, "mode", "hashes", "ticks", "late p50", "p99 µs", "max µs", "echoes",
               "rtt p50", "p99 µs");
    if (inline_run) {
        run(false, run_ms * AX_NS_PER_MS, &job, &results[0]);
        report("inline", &results[0], tsv);
    }
    if (offload_run) {
        run(true, run_ms * AX_NS_PER_MS, &job, &results[1]);
        report("offload", &results[1], tsv);
    }
    fflush(stdout);
    free(space);
    free(buf);
    return 0;
}
