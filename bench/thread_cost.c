//@ 01
/*
 * thread_cost: what one thread per connection costs echo-threads.
 *
 * For N = 100 and N = 1000, a fresh echo-threads server is started; N clients connect
 * one after another and each has one byte echoed, so its thread exists and has run.
 * The server's memory is read from /proc/<pid>/status before and after:
 *
 *     threads.rss_kb_per_conn.N   resident memory (VmRSS) added per connection
 *     threads.virt_kb_per_conn.N  address space (VmSize) reserved per connection
 *     threads.startup_ms.N        time to connect the N clients and get each echo
 *     threads.default_stack_kb    the stack a new thread reserves by default
 *
 * Resident memory is what the thread has touched; the address space is mostly its
 * stack, reserved whole but filled in page by page. The kernel's own memory per thread
 * and per socket is not in either number. Everything runs on 127.0.0.1, and each
 * process needs N + a few descriptors, so the soft RLIMIT_NOFILE is raised if needed.
 */
#include "bench.h"

#include <pthread.h>
#include <sys/resource.h>

static const int connection_counts[] = {100, 1000};
enum { MAX_CONNECTIONS = 1000, SPARE_FDS = 64 };

struct memory {
    long rss_kb; /* VmRSS */
    long virt_kb; /* VmSize */
    long threads; /* Threads */
};

static long status_field(const char *status, const char *field)
{
    const char *at = strstr(status, field);
    return at != NULL ? strtol(at + strlen(field), NULL, 10) : -1;
}

static struct memory memory_of(pid_t pid)
{
    char path[64], status[4096];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *file = fopen(path, "r");
    if (file == NULL)
        bench_fail("open %s: %s", path, strerror(errno));
    size_t len = fread(status, 1, sizeof status - 1, file);
    fclose(file);
    status[len] = '\0';
    struct memory m = {status_field(status, "\nVmRSS:"), status_field(status, "\nVmSize:"),
                       status_field(status, "\nThreads:")};
    if (m.rss_kb < 0 || m.virt_kb < 0 || m.threads < 0)
        bench_fail("%s lacks VmRSS, VmSize or Threads", path);
    return m;
}

/* Both this process and the server (which inherits the limit) hold one descriptor
 * per connection. */
static void raise_fd_limit(rlim_t need)
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) < 0)
        bench_fail("getrlimit: %s", strerror(errno));
    if (limit.rlim_cur >= need)
        return;
    if (limit.rlim_max < need)
        bench_fail("needs %lu open files but the hard limit is %lu; raise it (ulimit -Hn)",
                   (unsigned long)need, (unsigned long)limit.rlim_max);
    limit.rlim_cur = need;
    if (setrlimit(RLIMIT_NOFILE, &limit) < 0)
        bench_fail("setrlimit(RLIMIT_NOFILE, %lu): %s", (unsigned long)need, strerror(errno));
}

static void measure(int count)
{
    static int fds[MAX_CONNECTIONS];
    struct bench_server server;
    bench_server_start(&server, "echo-threads", NULL);
    struct memory before = memory_of(server.pid);

    uint64_t start = ax_now_ns();
    for (int i = 0; i < count; i++) {
        fds[i] = ax_connect("127.0.0.1", server.port);
        if (fds[i] < 0)
            bench_fail("connection %d of %d: %s", i + 1, count, ax_strerror(fds[i]));
        int err = bench_echo(fds[i], "x");
        if (err < 0)
            bench_fail("connection %d of %d got no echo: %s (did the server fail to start "
                       "a thread? see its log above)",
                       i + 1, count, ax_strerror(err));
    }
    double startup_ms = (double)(ax_now_ns() - start) / (double)AX_NS_PER_MS;

    struct memory after = memory_of(server.pid);
    if (after.threads != before.threads + count)
        bench_fail("expected %ld server threads, found %ld", before.threads + count, after.threads);

    char name[64];
    snprintf(name, sizeof name, "threads.rss_kb_per_conn.%d", count);
    bench_report(name, (double)(after.rss_kb - before.rss_kb) / count, "KiB");
    snprintf(name, sizeof name, "threads.virt_kb_per_conn.%d", count);
    bench_report(name, (double)(after.virt_kb - before.virt_kb) / count, "KiB");
    snprintf(name, sizeof name, "threads.startup_ms.%d", count);
    bench_report(name, startup_ms, "ms");

    for (int i = 0; i < count; i++)
        ax_close(fds[i]);
    bench_server_stop(&server);
}

int main(int argc, char **argv)
{
    bench_args(argc, argv, "memory and start-up time of a thread per connection");
    raise_fd_limit(MAX_CONNECTIONS + SPARE_FDS);

    pthread_attr_t attr;
    size_t stack_size = 0;
    pthread_attr_init(&attr);
    pthread_attr_getstacksize(&attr, &stack_size);
    pthread_attr_destroy(&attr);
    bench_report("threads.default_stack_kb", (double)stack_size / 1024, "KiB");

    for (size_t i = 0; i < sizeof connection_counts / sizeof connection_counts[0]; i++)
        measure(connection_counts[i]);
    return 0;
}
