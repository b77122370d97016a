/*
 * loadgen: many concurrent echo clients on one thread, and what the server's answers
 * cost them.
 *
 *     build/bin/loadgen HOST:PORT --conns N --requests M --size BYTES
 *                       [--timeout SECONDS] [--tsv PREFIX]
 *
 * Opens N connections (at most CONNECTING_MAX handshakes in flight, so a burst never
 * overflows the server's listen backlog), then, with every connection open, starts the
 * clock: each connection sends a BYTES-byte message, waits for all of it to come back,
 * checks it, and sends the next, M times. All of it runs on one thread, on the
 * library's reactor (AX_BACKEND picks the backend). A request's latency runs from its
 * first byte sent to its last byte back. The summary gives requests per second and the
 * p50, p99 and maximum latency in microseconds; with --tsv PREFIX, standard output
 * carries bench lines instead (PREFIX.rps.N, PREFIX.p50_us.N, PREFIX.p99_us.N,
 * PREFIX.max_us.N, N being the connection count) and the summary goes to standard
 * error.
 *
 * Chapter 03 introduces it; chapter 10 loads the finished runtime with it. Its rules:
 * every run is bounded (N x M at most MAX_SAMPLES, and the whole run at most --timeout
 * seconds, default 60); a bad flag prints the usage on standard error and exits 2, and
 * --help prints it on standard output and exits 0; a refused connection, a connection
 * the server closes early, or an echo that differs from what was sent is reported,
 * naming the connection, and exits 1. Nothing is ever retried.
 */
#include "ax/clock.h"
#include "ax/error.h"
#include "ax/net.h"
#include "ax/nonblock.h"
#include "ax/reactor.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

enum {
    MAX_CONNS = 100000,
    MAX_SIZE = 1 << 20,
    MAX_SAMPLES = 10 * 1000 * 1000, /* N x M: one latency (4 bytes) kept per request */
    CONNECTING_MAX = 256, /* handshakes in flight: well under any listen backlog */
    SPARE_FDS = 32, /* stdio, the reactor's own fd, and some slack */
    DEFAULT_TIMEOUT_S = 60,
};

struct options {
    const char *host;
    uint16_t port;
    long conns, requests, size, timeout_s;
    const char *tsv_prefix; /* NULL: a summary for people on standard output */
};

enum phase { CONNECTING, CONNECTED, RUNNING, DONE };

struct client {
    struct load *load;
    int fd;
    int index;
    enum phase phase;
    long requests_done;
    size_t sent, received; /* of the current request */
    uint64_t started_ns; /* when the current request's first byte went out */
};

struct load {
    const struct options *opt;
    struct ax_reactor *reactor;
    struct client *clients;
    char *message; /* what every request sends; its echo must match it */
    char *scratch; /* where replies are read, to be checked */
    uint32_t *latency_us; /* one per request finished */
    long samples;
    long connecting, connected, next_to_connect, finished;
};

static void usage(FILE *to, int status)
{
    fprintf(to,
            "usage: loadgen HOST:PORT --conns N --requests M --size BYTES [--timeout SECONDS] "
            "[--tsv PREFIX]\n"
            "  N connections (1..%d), each sending M requests (>= 1) of BYTES bytes (1..%d)\n"
            "  one at a time and waiting for each echo; N x M at most %d\n"
            "  --timeout: give up after SECONDS (default %d)\n"
            "  --tsv: print PREFIX.rps.N, PREFIX.p50_us.N, PREFIX.p99_us.N, PREFIX.max_us.N\n"
            "         as name<TAB>value<TAB>unit lines; the summary goes to stderr\n",
            MAX_CONNS, MAX_SIZE, MAX_SAMPLES, DEFAULT_TIMEOUT_S);
    exit(status);
}

__attribute__((format(printf, 1, 2), noreturn)) static void fail(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    fputs("loadgen: ", stderr);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
    exit(1);
}

/* A whole decimal number in [min, max], or the usage. */
static long parse_count(const char *text, long min, long max)
{
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < min || value > max)
        usage(stderr, 2);
    return value;
}

static void parse_target(char *text, struct options *opt)
{
    char *colon = strrchr(text, ':');
    if (colon == NULL || colon == text || ax_parse_port(colon + 1, &opt->port) < 0 ||
        opt->port == 0)
        usage(stderr, 2);
    *colon = '\0';
    opt->host = text;
}

static void parse_args(int argc, char **argv, struct options *opt)
{
    static const struct option options[] = {
        {"conns", required_argument, NULL, 'c'},
        {"requests", required_argument, NULL, 'r'},
        {"size", required_argument, NULL, 's'},
        {"timeout", required_argument, NULL, 't'},
        {"tsv", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'H'},
        {0},
    };
    *opt = (struct options){.timeout_s = DEFAULT_TIMEOUT_S};
    int c;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case 'c':
            opt->conns = parse_count(optarg, 1, MAX_CONNS);
            break;
        case 'r':
            opt->requests = parse_count(optarg, 1, MAX_SAMPLES);
            break;
        case 's':
            opt->size = parse_count(optarg, 1, MAX_SIZE);
            break;
        case 't':
            opt->timeout_s = parse_count(optarg, 1, 24 * 3600);
            break;
        case 'T':
            if (optarg[0] == '\0')
                usage(stderr, 2);
            opt->tsv_prefix = optarg;
            break;
        case 'H':
            usage(stdout, 0);
            break;
        default:
            usage(stderr, 2);
        }
    }
    if (optind != argc - 1 || opt->conns == 0 || opt->requests == 0 || opt->size == 0)
        usage(stderr, 2);
    if (opt->conns * opt->requests > MAX_SAMPLES)
        usage(stderr, 2);
    parse_target(argv[optind], opt);
}

/* One descriptor per connection: raise the soft limit as far as that needs. */
static void ensure_fds(long conns)
{
    rlim_t need = (rlim_t)conns + SPARE_FDS;
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) < 0)
        fail("getrlimit: %s", strerror(errno));
    if (limit.rlim_cur >= need)
        return;
    if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < need)
        fail("%ld connections need %lu open files; the hard limit is %lu (raise it with "
             "ulimit -Hn)",
             conns, (unsigned long)need, (unsigned long)limit.rlim_max);
    limit.rlim_cur = need;
    if (setrlimit(RLIMIT_NOFILE, &limit) < 0)
        fail("cannot raise the open-file limit to %lu: %s", (unsigned long)need, strerror(errno));
}

static void on_client(struct ax_reactor *reactor, int fd, int events, void *data);

static void watch(struct client *c, int events)
{
    int err = ax_reactor_watch(c->load->reactor, c->fd, events, on_client, c);
    if (err < 0)
        fail("connection %d: cannot watch it: %s", c->index, ax_strerror(err));
}

static void start_connecting(struct load *load)
{
    const struct options *opt = load->opt;
    while (load->connecting < CONNECTING_MAX && load->next_to_connect < opt->conns) {
        struct client *c = &load->clients[load->next_to_connect];
        *c = (struct client){.load = load, .index = (int)load->next_to_connect, .fd = -1};
        load->next_to_connect++;
        int err = ax_connect_start(opt->host, opt->port, &c->fd);
        if (err == 0) {
            c->phase = CONNECTED;
            load->connected++;
        } else if (err == -EINPROGRESS) {
            c->phase = CONNECTING;
            load->connecting++;
            watch(c, AX_WRITABLE);
        } else {
            fail("connection %d: connect %s:%u: %s", c->index, opt->host, (unsigned)opt->port,
                 ax_strerror(err));
        }
    }
}

/* Sends what the socket takes of the current request, then waits for the rest of the
 * echo (and for room, if some is still unsent). */
static void send_some(struct client *c)
{
    size_t size = (size_t)c->load->opt->size;
    while (c->sent < size) {
        ssize_t n = ax_send(c->fd, c->load->message + c->sent, size - c->sent);
        if (n == -EAGAIN)
            break;
        if (n < 0)
            fail("connection %d: send: %s", c->index, ax_strerror((int)n));
        c->sent += (size_t)n;
    }
    watch(c, AX_READABLE | (c->sent < size ? AX_WRITABLE : 0));
}

static void start_request(struct client *c)
{
    c->sent = c->received = 0;
    c->started_ns = ax_now_ns();
    send_some(c);
}

static void finish_request(struct client *c)
{
    struct load *load = c->load;
    uint64_t us = (ax_now_ns() - c->started_ns + 500) / 1000;
    load->latency_us[load->samples++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    if (++c->requests_done < load->opt->requests) {
        start_request(c);
        return;
    }
    c->phase = DONE;
    load->finished++;
    ax_reactor_close(load->reactor, c->fd);
    c->fd = -1;
}

/* Reads what has come back, checking it against what was sent. */
static void receive_some(struct client *c)
{
    struct load *load = c->load;
    size_t size = (size_t)load->opt->size;
    while (c->received < c->sent) {
        ssize_t n = ax_recv(c->fd, load->scratch, c->sent - c->received);
        if (n == -EAGAIN)
            return;
        if (n == 0)
            fail("connection %d: the server closed it after %ld of %ld requests", c->index,
                 c->requests_done, load->opt->requests);
        if (n < 0)
            fail("connection %d: recv: %s", c->index, ax_strerror((int)n));
        if (memcmp(load->scratch, load->message + c->received, (size_t)n) != 0)
            fail("connection %d: the echo of request %ld differs from what was sent", c->index,
                 c->requests_done + 1);
        c->received += (size_t)n;
    }
    if (c->received == size)
        finish_request(c);
}

static void on_client(struct ax_reactor *reactor, int fd, int events, void *data)
{
    (void)reactor, (void)fd;
    struct client *c = data;
    struct load *load = c->load;
    if (c->phase == CONNECTING) {
        int err = ax_connect_finish(c->fd);
        if (err < 0)
            fail("connection %d: connect %s:%u: %s", c->index, load->opt->host,
                 (unsigned)load->opt->port, ax_strerror(err));
        c->phase = CONNECTED;
        load->connecting--;
        load->connected++;
        ax_reactor_unwatch(load->reactor, c->fd); /* quiet until the clock starts */
        start_connecting(load);
        return;
    }
    if (events & (AX_READABLE | AX_HANGUP | AX_ERROR))
        receive_some(c);
    if (c->phase == RUNNING && c->fd >= 0 && c->sent < (size_t)load->opt->size &&
        (events & AX_WRITABLE))
        send_some(c);
}

/* Runs the reactor until done() or the deadline; a missed deadline ends the program. */
static void run_until(struct load *load, bool (*done)(const struct load *), uint64_t deadline,
                      const char *what)
{
    while (!done(load)) {
        uint64_t now = ax_now_ns();
        if (now >= deadline)
            fail("gave up after %ld s %s (%ld connected, %ld finished of %ld)",
                 load->opt->timeout_s, what, load->connected, load->finished, load->opt->conns);
        int rc = ax_reactor_run_once(load->reactor, (int64_t)(deadline - now));
        if (rc < 0)
            fail("wait: %s", ax_strerror(rc));
    }
}

static bool all_connected(const struct load *load)
{
    return load->connected == load->opt->conns;
}

static bool all_finished(const struct load *load)
{
    return load->finished == load->opt->conns;
}

static int by_value(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The q-quantile (0..1) of sorted samples: the nearest rank. */
static uint32_t quantile(const uint32_t *sorted, long n, double q)
{
    long rank = (long)(q * (double)n + 0.999999);
    return sorted[rank < 1 ? 0 : rank > n ? n - 1 : rank - 1];
}

static void report(const struct load *load, uint64_t elapsed_ns)
{
    const struct options *opt = load->opt;
    uint32_t *sorted = load->latency_us;
    qsort(sorted, (size_t)load->samples, sizeof *sorted, by_value);
    double seconds = (double)elapsed_ns / 1e9;
    double rps = (double)load->samples / seconds;
    uint32_t p50 = quantile(sorted, load->samples, 0.50);
    uint32_t p99 = quantile(sorted, load->samples, 0.99);
    uint32_t max = sorted[load->samples - 1];

    FILE *summary = opt->tsv_prefix ? stderr : stdout;
    fprintf(summary,
            "loadgen: %ld connection%s x %ld request%s of %ld bytes to %s:%u (%s backend)\n"
            "  %ld requests in %.3f s: %.0f requests/s\n"
            "  latency: p50 %" PRIu32 " us, p99 %" PRIu32 " us, max %" PRIu32 " us\n",
            opt->conns, opt->conns == 1 ? "" : "s", opt->requests, opt->requests == 1 ? "" : "s",
            opt->size, opt->host, (unsigned)opt->port, ax_reactor_backend_name(load->reactor),
            load->samples, seconds, rps, p50, p99, max);
    if (opt->tsv_prefix) {
        const char *p = opt->tsv_prefix;
        printf("%s.rps.%ld\t%.3f\treq/s\n", p, opt->conns, rps);
        printf("%s.p50_us.%ld\t%" PRIu32 "\tus\n", p, opt->conns, p50);
        printf("%s.p99_us.%ld\t%" PRIu32 "\tus\n", p, opt->conns, p99);
        printf("%s.max_us.%ld\t%" PRIu32 "\tus\n", p, opt->conns, max);
    }
    fflush(stdout);
}

int main(int argc, char **argv)
{
    struct options opt;
    parse_args(argc, argv, &opt);
    ensure_fds(opt.conns);

    struct load load = {.opt = &opt};
    int err = ax_reactor_new(&load.reactor, NULL);
    if (err < 0)
        fail("cannot create the reactor%s: %s", err == -EINVAL ? " (check AX_BACKEND)" : "",
             ax_strerror(err));
    load.clients = calloc((size_t)opt.conns, sizeof *load.clients);
    load.message = malloc((size_t)opt.size);
    load.scratch = malloc((size_t)opt.size);
    load.latency_us = malloc((size_t)(opt.conns * opt.requests) * sizeof *load.latency_us);
    if (!load.clients || !load.message || !load.scratch || !load.latency_us)
        fail("out of memory for %ld connections", opt.conns);
    for (long i = 0; i < opt.size; i++) /* not all one byte, so a shifted echo shows */
        load.message[i] = (char)('a' + i % 26);

    uint64_t deadline = ax_now_ns() + (uint64_t)opt.timeout_s * AX_NS_PER_S;
    start_connecting(&load);
    run_until(&load, all_connected, deadline, "connecting");

    uint64_t start = ax_now_ns(); /* every connection is open: the clock starts */
    for (long i = 0; i < opt.conns; i++) {
        load.clients[i].phase = RUNNING;
        start_request(&load.clients[i]);
    }
    run_until(&load, all_finished, deadline, "running");
    report(&load, ax_now_ns() - start);

    ax_reactor_free(load.reactor);
    free(load.clients);
    free(load.message);
    free(load.scratch);
    free(load.latency_us);
    return 0;
}
