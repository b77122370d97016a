//@ 03
/*
 * echo_load: the epoll echo server under load from many concurrent clients.
 *
 * Starts echo-reactor on the epoll backend, then runs the course's load generator
 * (build/bin/loadgen, chapter 03) against it twice: 50 connections and 1,000
 * connections, each connection sending SIZE-byte requests one after another and
 * waiting for each echo. Both programs run on one thread each, on one machine, so the
 * numbers describe the pair over loopback, not a network:
 *
 *     echo.rps.<N>       requests per second with N connections
 *     echo.p99_us.<N>    99th percentile latency of one request, in microseconds
 *
 * With N requests always in flight, latency is about N / throughput (Little's law):
 * twenty times the connections at the same throughput means twenty times the wait.
 * loadgen's own deadline bounds each run; this program also kills it if it overruns.
 */
#include "bench.h"

#include <stdint.h>

struct load_run {
    int conns;
    int requests; /* per connection: a run makes conns x requests requests */
};

static const struct load_run runs[] = {{50, 2000}, {1000, 100}};
enum { SIZE = 64, RUN_TIMEOUT_S = 20 };

/* Runs loadgen with --tsv and returns what it printed on standard output. */
static void run_loadgen(uint16_t port, const struct load_run *run, char *out, size_t size)
{
    char path[4200], target[32], conns[16], requests[16], bytes[16], timeout[16];
    bench_sibling(path, sizeof path, "loadgen"); /* build/bin/loadgen */
    snprintf(target, sizeof target, "127.0.0.1:%u", (unsigned)port);
    snprintf(conns, sizeof conns, "%d", run->conns);
    snprintf(requests, sizeof requests, "%d", run->requests);
    snprintf(bytes, sizeof bytes, "%d", SIZE);
    snprintf(timeout, sizeof timeout, "%d", RUN_TIMEOUT_S);
    char *argv[] = {path,  target,      "--conns", conns,   "--requests", requests, "--size",
                    bytes, "--timeout", timeout,   "--tsv", "echo",       NULL};

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
    uint64_t deadline = ax_now_ns() + (RUN_TIMEOUT_S + 5) * AX_NS_PER_S;
    for (;;) {
        uint64_t now = ax_now_ns();
        if (now >= deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            bench_fail("loadgen with %d connections did not finish in %d s", run->conns,
                       RUN_TIMEOUT_S + 5);
        }
        struct pollfd pfd = {.fd = pipe_fds[0], .events = POLLIN};
        if (poll(&pfd, 1, (int)((deadline - now) / AX_NS_PER_MS) + 1) <= 0)
            continue;
        ssize_t n = read(pipe_fds[0], out + got, size - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || (got += (size_t)n) == size - 1)
            break;
    }
    out[got] = '\0';
    close(pipe_fds[0]);
    int status;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        bench_fail("loadgen with %d connections failed (see its message above)", run->conns);
}

/* Finds `name<TAB>value` in loadgen's output and reports it under the same name. */
static void pass_on(const char *output, const char *metric, int conns, const char *unit)
{
    char name[64];
    snprintf(name, sizeof name, "echo.%s.%d\t", metric, conns);
    const char *line = strstr(output, name);
    double value;
    if (line == NULL || sscanf(line + strlen(name), "%lf", &value) != 1)
        bench_fail("loadgen printed no %.*s line", (int)strlen(name) - 1, name);
    name[strlen(name) - 1] = '\0';
    bench_report(name, value, unit);
}

int main(int argc, char **argv)
{
    bench_args(argc, argv,
               "echo-reactor under loadgen: requests per second and p99 latency at 50 and 1,000 "
               "connections");
    struct bench_server server;
    const char *const args[] = {"--backend", "epoll", NULL};
    bench_server_start(&server, "echo-reactor", args);
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        char output[1024];
        run_loadgen(server.port, &runs[i], output, sizeof output);
        pass_on(output, "rps", runs[i].conns, "req/s");
        pass_on(output, "p99_us", runs[i].conns, "us");
    }
    bench_server_stop(&server);
    return 0;
}
