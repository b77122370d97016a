//@ 06
/*
 * shutdown: how long a server holding a thousand connections takes to stop on SIGTERM,
 * and whether it loses a byte doing so.
 *
 * It starts echo-graceful (next to this binary in build/bin/) with a grace period of
 * GRACE_MS, opens CONNECTIONS loopback connections and checks each one echoes. Then
 * MID_TRANSFER of them each send 64 KiB and read none of it back yet, with a receive
 * buffer small enough that most of the echo is still on its way; the others sit idle.
 * Once every byte sent is in the server's kernel (the clients' send queues are empty),
 * SIGTERM goes, and the benchmark behaves as clients do: it reads what comes back and
 * closes each connection when it sees the end of the stream.
 *
 *     shutdown.connections       open at the signal
 *     shutdown.mid_transfer      of them, in the middle of an echo
 *     shutdown.exit_ms           signal to the server's exit
 *     shutdown.last_eof_ms       signal to the last client's end of stream
 *     shutdown.grace_ms          the grace period the server was given
 *     shutdown.cut               connections the server reports it cut at the deadline
 *
 * It fails if the server takes longer than the grace period, exits with a status other
 * than 0, cuts a connection, or any client mid-transfer misses a byte of its echo.
 */
#include "bench.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

enum { CONNECTIONS = 1000, MID_TRANSFER = 50, TRANSFER = 64 * 1024, GRACE_MS = 5000 };

struct client {
    int fd; /* -1 once it has seen the end of stream and closed */
    bool mid_transfer;
    size_t got; /* echoed bytes read back, for a client mid-transfer */
};

static struct client clients[CONNECTIONS];
static unsigned char payload[TRANSFER];
static unsigned char echoed[MID_TRANSFER][TRANSFER];

static void raise_fd_limit(void)
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
        getrlimit(RLIMIT_NOFILE, &limit);
    }
    if (limit.rlim_cur < CONNECTIONS + 64)
        bench_fail("the descriptor limit is %llu; %d connections need more",
                   (unsigned long long)limit.rlim_cur, CONNECTIONS);
}

/* echo-graceful with its standard error on a pipe: the counts are read from it at the
 * end, and its end of file tells the moment the server exited. */
static pid_t start_server(uint16_t *port, int *err_fd)
{
    char path[4096 + 64], grace[16];
    bench_sibling(path, sizeof path, "echo-graceful");
    snprintf(grace, sizeof grace, "%d", GRACE_MS);
    char *argv[] = {path, "--port", "0", "--grace-ms", grace, NULL};
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
        bench_fail("pipe: %s", ax_strerror(ax__errno()));
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        bench_fail("fork: %s", ax_strerror(ax__errno()));
    if (pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        dup2(err[1], STDERR_FILENO);
        setenv("AX_LOG", "warn", 1);
        execv(path, argv);
        fprintf(stderr, "cannot run %s: %s (run `make` first)\n", path, strerror(errno));
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    char line[128];
    size_t got = 0;
    int rc = 0;
    while (rc == 0 && memchr(line, '\n', got) == NULL && got < sizeof line - 1) {
        rc = bench_read_exact(out[0], line + got, 1, ax_now_ns() + BENCH_STEP_TIMEOUT_NS);
        got += rc == 0;
    }
    close(out[0]);
    line[got] = '\0';
    if (rc < 0 || sscanf(line, "listening on 127.0.0.1:%hu", port) != 1) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        bench_fail("echo-graceful did not announce its port");
    }
    *err_fd = err[0];
    return pid;
}

static int connect_client(uint16_t port, bool small_rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        bench_fail("socket: %s", ax_strerror(ax__errno()));
    int size = 4096; /* before connect: the window is agreed then */
    if (small_rcvbuf)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
        bench_fail("connect: %s", ax_strerror(ax__errno()));
    int err = bench_echo(fd, "hello\n"); /* accepted and served: it counts */
    if (err < 0)
        bench_fail("echo before the signal: %s", ax_strerror(err));
    return fd;
}

/* Waits until the kernel has taken every byte the client sent. */
static void wait_sent(int fd)
{
    uint64_t deadline = ax_now_ns() + BENCH_STEP_TIMEOUT_NS;
    for (int unsent = 1; unsent > 0;) {
        if (ioctl(fd, TIOCOUTQ, &unsent) < 0)
            bench_fail("TIOCOUTQ: %s", ax_strerror(ax__errno()));
        if (unsent > 0 && ax_now_ns() > deadline)
            bench_fail("%d bytes never left a client", unsent);
        if (unsent > 0)
            poll(NULL, 0, 1);
    }
}

/* Reads what a readable client has; true when it saw the end of stream and closed. */
static bool serve_client(struct client *c, int index)
{
    unsigned char scratch[4096];
    unsigned char *into = c->mid_transfer ? echoed[index] + c->got : scratch;
    size_t room = c->mid_transfer ? TRANSFER - c->got : sizeof scratch;
    ssize_t n = recv(c->fd, into, room > 0 ? room : sizeof scratch, MSG_DONTWAIT);
    if (room == 0 && n > 0)
        bench_fail("a client mid-transfer got more than it sent");
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return false;
    if (n < 0)
        bench_fail("reading after the signal: %s", ax_strerror(ax__errno()));
    if (n > 0) {
        c->got += c->mid_transfer ? (size_t)n : 0;
        return false;
    }
    close(c->fd);
    c->fd = -1;
    return true;
}

int main(int argc, char **argv)
{
    bench_args(argc, argv, "SIGTERM to echo-graceful holding 1,000 connections, 50 mid-echo");
    raise_fd_limit();
    for (size_t i = 0; i < TRANSFER; i++)
        payload[i] = (unsigned char)(i * 31 + i / 253);
    uint16_t port;
    int err_fd;
    pid_t pid = start_server(&port, &err_fd);

    /* The mid-transfer clients are spread among the idle ones. */
    for (int i = 0; i < CONNECTIONS; i++) {
        clients[i].mid_transfer = i % (CONNECTIONS / MID_TRANSFER) == 0;
        clients[i].fd = connect_client(port, clients[i].mid_transfer);
    }
    int mid = 0;
    for (int i = 0; i < CONNECTIONS; i++) {
        if (!clients[i].mid_transfer)
            continue;
        struct timeval bound = {.tv_sec = 5};
        setsockopt(clients[i].fd, SOL_SOCKET, SO_SNDTIMEO, &bound, sizeof bound);
        int err = ax_write_all(clients[i].fd, payload, TRANSFER);
        if (err < 0)
            bench_fail("sending %d bytes: %s", TRANSFER, ax_strerror(err));
        mid++;
    }
    for (int i = 0; i < CONNECTIONS; i++)
        if (clients[i].mid_transfer)
            wait_sent(clients[i].fd);

    uint64_t signalled = ax_now_ns(), exited = 0, last_eof = 0;
    kill(pid, SIGTERM);
    static struct pollfd fds[CONNECTIONS + 1];
    static int index_of[CONNECTIONS + 1];
    char log[4096];
    size_t log_len = 0;
    int open = CONNECTIONS;
    uint64_t deadline = signalled + (GRACE_MS + 5000) * AX_NS_PER_MS;
    while ((open > 0 || exited == 0) && ax_now_ns() < deadline) {
        nfds_t n = 0;
        for (int i = 0; i < CONNECTIONS; i++)
            if (clients[i].fd >= 0) {
                fds[n] = (struct pollfd){.fd = clients[i].fd, .events = POLLIN};
                index_of[n++] = i;
            }
        if (exited == 0)
            fds[n++] = (struct pollfd){.fd = err_fd, .events = POLLIN};
        if (poll(fds, n, 100) <= 0)
            continue;
        for (nfds_t k = 0; k < n; k++) {
            if (fds[k].revents == 0)
                continue;
            if (fds[k].fd == err_fd) {
                ssize_t got = read(err_fd, log + log_len, sizeof log - 1 - log_len);
                if (got > 0)
                    log_len += (size_t)got;
                else if (got == 0 || errno != EINTR)
                    exited = ax_now_ns(); /* its stderr closed: the process is gone */
                continue;
            }
            int i = index_of[k];
            int m = (int)(i / (CONNECTIONS / MID_TRANSFER));
            if (serve_client(&clients[i], m)) {
                open--;
                last_eof = ax_now_ns();
            }
        }
    }
    log[log_len] = '\0';
    close(err_fd);
    if (exited == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        bench_fail("echo-graceful was still running %d ms after SIGTERM", GRACE_MS + 5000);
    }
    int status;
    waitpid(pid, &status, 0);
    fputs(log, stderr);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        bench_fail("echo-graceful's wait status was %#x, not exit 0", status);
    if (open > 0)
        bench_fail("%d clients never saw the end of their stream", open);
    for (int i = 0, m = 0; i < CONNECTIONS; i++) {
        if (!clients[i].mid_transfer)
            continue;
        if (clients[i].got != TRANSFER || memcmp(echoed[m], payload, TRANSFER) != 0)
            bench_fail("client %d got %zu of %d bytes back, or wrong ones", i, clients[i].got,
                       TRANSFER);
        m++;
    }
    int connections, finished, cut;
    const char *line = strstr(log, "shutdown: ");
    if (line == NULL || sscanf(line, "shutdown: %d connections, %d finished, %d cut", &connections,
                               &finished, &cut) != 3)
        bench_fail("echo-graceful did not report its counts");
    if (connections != CONNECTIONS || cut != 0)
        bench_fail("the server reports %d connections and %d cut; expected %d and 0", connections,
                   cut, CONNECTIONS);
    double exit_ms = (double)(exited - signalled) / AX_NS_PER_MS;
    if (exit_ms > GRACE_MS)
        bench_fail("the server took %.1f ms to exit, beyond its grace of %d ms", exit_ms, GRACE_MS);

    bench_report("shutdown.connections", connections, "connections");
    bench_report("shutdown.mid_transfer", mid, "connections");
    bench_report("shutdown.exit_ms", exit_ms, "ms");
    bench_report("shutdown.last_eof_ms", (double)(last_eof - signalled) / AX_NS_PER_MS, "ms");
    bench_report("shutdown.grace_ms", GRACE_MS, "ms");
    bench_report("shutdown.cut", cut, "connections");
    return 0;
}
