//@ 01
/*
 * What every benchmark shares: reporting a result, giving up clearly, waiting with a
 * bound, and starting one of the course's servers to measure.
 *
 * A benchmark prints one `name<TAB>value<TAB>unit` line per result on standard output
 * (tools/run-bench collects them into build/bench/results.tsv, where the book finds
 * them) and anything else on standard error. It never waits without a deadline: a
 * server that stops answering makes the benchmark fail with a message, not hang.
 *
 * The servers are the chapters' demo binaries, found next to the benchmark binary in
 * build/bin/. They are started with --port 0 and AX_LOG=warn, and report their port on
 * the first line of their standard output, as every course server does.
 *
 * Everything here is static: each benchmark is one .c file that includes this header.
 */
#ifndef BENCH_H
#define BENCH_H

#include "ax/clock.h"
#include "ax/error.h"
#include "ax/net.h"
//> 04
#include "ax/task.h"
//< 04

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* How long a benchmark waits for any one step before declaring the server stuck. */
#define BENCH_STEP_TIMEOUT_NS (5 * AX_NS_PER_S)

/* A benchmark takes no arguments: --help says what it measures (stdout, exit 0), and
 * anything else gets the same text on stderr and exit 2. `what` is one line. */
static inline void bench_args(int argc, char **argv, const char *what)
{
    if (argc < 2)
        return;
    bool help = argc == 2 && strcmp(argv[1], "--help") == 0;
    fprintf(help ? stdout : stderr,
            "usage: %s\n  %s\n  prints name<TAB>value<TAB>unit lines; make bench runs it\n",
            program_invocation_short_name, what);
    exit(help ? 0 : 2);
}

static inline void bench_report(const char *name, double value, const char *unit)
{
    printf("%s\t%.3f\t%s\n", name, value, unit);
    fflush(stdout);
}

static inline int bench_by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of n >= 1 measurements, which are sorted in place: what a benchmark
 * reports of repeated runs, so that one slow spell of a shared machine does not decide. */
static inline double bench_median(double *values, size_t n)
{
    qsort(values, n, sizeof values[0], bench_by_value);
    return values[n / 2];
}

__attribute__((format(printf, 1, 2), noreturn)) static inline void bench_fail(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    fprintf(stderr, "%s: ", program_invocation_short_name);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
    exit(1);
}

/* Reads exactly n bytes, giving up at the deadline (on ax_now_ns's clock).
 * 0, AX_EOF, -ETIMEDOUT or -errno. */
static inline int bench_read_exact(int fd, void *buf, size_t n, uint64_t deadline)
{
    size_t done = 0;
    while (done < n) {
        uint64_t now = ax_now_ns();
        if (now >= deadline)
            return -ETIMEDOUT;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int ready = poll(&pfd, 1, (int)((deadline - now) / AX_NS_PER_MS) + 1);
        if (ready < 0 && errno != EINTR)
            return ax__errno();
        if (ready <= 0)
            continue;
        ssize_t got = ax_read_some(fd, (char *)buf + done, n - done);
        if (got <= 0)
            return got == 0 ? AX_EOF : (int)got;
        done += (size_t)got;
    }
    return 0;
}

/* Sends msg and waits for the same bytes to come back. 0, or an error. */
static inline int bench_echo(int fd, const char *msg)
{
    size_t len = strlen(msg);
    char back[256];
    if (len > sizeof back)
        return -EMSGSIZE;
    int err = ax_write_all(fd, msg, len);
    if (err == 0)
        err = bench_read_exact(fd, back, len, ax_now_ns() + BENCH_STEP_TIMEOUT_NS);
    if (err == 0 && memcmp(back, msg, len) != 0)
        err = -EPROTO;
    return err;
}

struct bench_server {
    const char *name; /* the binary's name, for messages */
    pid_t pid;
    uint16_t port;
};

/* Writes to `path` the path of `name` (a program, maybe with arguments) in the folder
 * this benchmark's own binary is in: build/bin/, where the demos are built too. */
static inline void bench_sibling(char *path, size_t size, const char *name)
{
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len < 0)
        bench_fail("cannot find my own binary: %s", ax_strerror(ax__errno()));
    self[len] = '\0';
    if ((size_t)snprintf(path, size, "%.*s/%s", (int)(strrchr(self, '/') - self), self, name) >=
        size)
        bench_fail("the path of %s is too long", name);
}

/* Starts build/bin/<name> --port 0 [args...] and reads the port it announces. */
static inline void bench_server_start(struct bench_server *server, const char *name,
                                      const char *const args[])
{
    char path[4096 + 64];
    bench_sibling(path, sizeof path, name);

    char *argv[16] = {path, "--port", "0"};
    for (int i = 0; args != NULL && args[i] != NULL && i + 4 < 16; i++)
        argv[3 + i] = (char *)args[i];

    int out[2];
    if (pipe2(out, O_CLOEXEC) < 0)
        bench_fail("pipe: %s", ax_strerror(ax__errno()));
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        bench_fail("fork: %s", ax_strerror(ax__errno()));
    if (pid == 0) {
        dup2(out[1], STDOUT_FILENO); /* dup2 clears close-on-exec on the copy */
        setenv("AX_LOG", "warn", 1);
        execv(path, argv);
        fprintf(stderr, "cannot run %s: %s (run `make` first)\n", path, strerror(errno));
        _exit(127);
    }
    close(out[1]);

    /* The first line is "listening on 127.0.0.1:PORT". */
    char line[128];
    int err = 0;
    size_t got = 0;
    while (err == 0 && memchr(line, '\n', got) == NULL && got < sizeof line - 1) {
        err = bench_read_exact(out[0], line + got, 1, ax_now_ns() + BENCH_STEP_TIMEOUT_NS);
        got += err == 0;
    }
    close(out[0]); /* the servers print nothing else on standard output */
    line[got] = '\0';
    *server = (struct bench_server){.name = name, .pid = pid};
    if (err < 0 || sscanf(line, "listening on 127.0.0.1:%hu", &server->port) != 1) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        bench_fail("%s did not announce its port (%s)", name,
                   err < 0 ? ax_strerror(err) : "unexpected first line");
    }
}

static inline void bench_server_stop(struct bench_server *server)
{
    kill(server->pid, SIGTERM);
    waitpid(server->pid, NULL, 0);
}

/* Runs `program args` from the folder this benchmark's binary is in (build/bin/), a
 * chapter's demo that prints its own name<TAB>value<TAB>unit lines, and passes those
 * lines on as this benchmark's. */
static inline void bench_relay(const char *program_and_args)
{
    char command[4200];
    bench_sibling(command, sizeof command, program_and_args);
    fflush(stdout);
    FILE *out = popen(command, "r");
    if (out == NULL)
        bench_fail("cannot run %s", command);
    char line[256];
    while (fgets(line, sizeof line, out) != NULL)
        fputs(line, stdout);
    if (pclose(out) != 0)
        bench_fail("%s failed (run `make` first)", command);
    fflush(stdout);
}

//> 04
/* An executor and task storage, or a clear failure: a benchmark has no way on without. */
static inline struct ax_executor *bench_executor_new(void)
{
    struct ax_executor *executor;
    int err = ax_executor_new(&executor, NULL);
    if (err < 0)
        bench_fail("executor: %s", ax_strerror(err));
    return executor;
}

static inline void *bench_task_alloc(struct ax_executor *executor, size_t size)
{
    void *storage = ax_task_alloc(executor, size);
    if (storage == NULL)
        bench_fail("out of memory");
    return storage;
}
//< 04

#endif
