/*
 * fault-probe: performs the socket calls its arguments name, one step per argument, and
 * prints what each one returned. tests/tools/test_faults runs it under libaxfault
 * (LD_PRELOAD) with various AX_FAULTS and checks the output; it is also handy by hand:
 *
 *   LD_PRELOAD=build/lib/libaxfault.so AX_FAULTS=write:short/1 build/bin/fault-probe 'write 1000'
 *   write 1000 -> 500
 *
 * The probe holds a connected pair of AF_UNIX sockets: "a", on which every I/O step
 * acts, and its peer "b", which the probe drives only with sendmsg/recvmsg/ioctl, calls
 * the shim leaves alone, so setting up data never disturbs a rule's count.
 *
 * Steps (N is a byte count, at most 65536; a result is a byte count or an errno name):
 *   read N | write N | recv N | send N | recvfrom N | sendto N | recv-dontwait N
 *   readv N,N... | writev N,N...     one call on a; prints "STEP -> RESULT"
 *   read-chk N | recv-chk N          the same through glibc's fortified entry points
 *   fill N        b sends N bytes to a            drain    b discards what a sent
 *   avail         prints "avail N": bytes waiting for a to read
 *   pending       prints "pending N": bytes a sent that b has not read
 *   nonblock      sets O_NONBLOCK on a            edge     adds a to an EPOLLET epoll set
 *   dgram         replaces the pair with a SOCK_DGRAM pair
 *   reopen        closes both ends with close() and opens a fresh stream pair
 *   pipe-write N | pipe-read N | file-write N | file-read N   the same on a pipe / a
 *                 temporary regular file; prints "STEP -> RESULT"
 *   sigpipes      prints "sigpipes N": SIGPIPE signals caught so far
 *   threads T,K   T threads, each with its own pair, each making K 2-byte writes;
 *                 prints "threads T,K -> S short": how many of them came back short
 * Exit status: 0, or 64 for a step it does not understand.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* What read() and recv() become in a -D_FORTIFY_SOURCE build; the shim covers them too. */
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags);

enum { PROBE_MAX = 65536, PROBE_MAX_IOV = 16, PROBE_MAX_THREADS = 16 };

static char buf[PROBE_MAX];
static int a = -1, b = -1;
static volatile sig_atomic_t sigpipes;

static void on_sigpipe(int sig)
{
    (void)sig;
    sigpipes++;
}

static _Noreturn void die(const char *what, const char *step)
{
    fprintf(stderr, "fault-probe: %s '%s'\n", what, step);
    exit(64);
}

static void open_pair(int type)
{
    int fds[2];
    if (socketpair(AF_UNIX, type, 0, fds) != 0) {
        perror("fault-probe: socketpair");
        exit(1);
    }
    a = fds[0];
    b = fds[1];
}

static void print_result(const char *step, ssize_t n)
{
    static const struct {
        int err;
        const char *name;
    } names[] = {{EINTR, "EINTR"}, {EAGAIN, "EAGAIN"}, {ECONNRESET, "ECONNRESET"}, {EPIPE, "EPIPE"},
                 {EBADF, "EBADF"}, {EINVAL, "EINVAL"}, {EMSGSIZE, "EMSGSIZE"}};
    int err = errno;
    if (n >= 0) {
        printf("%s -> %zd\n", step, n);
        return;
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].err == err) {
            printf("%s -> %s\n", step, names[i].name);
            return;
        }
    printf("%s -> errno %d\n", step, err);
}

/* b's side: plain message calls that the shim does not intercept. */
static void peer_send(size_t n)
{
    struct iovec iov = {buf, n};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (sendmsg(b, &msg, 0) != (ssize_t)n) {
        perror("fault-probe: fill");
        exit(1);
    }
}

static void peer_drain(int fd)
{
    struct iovec iov = {buf, sizeof buf};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    while (recvmsg(fd, &msg, MSG_DONTWAIT) > 0)
        msg.msg_flags = 0;
}

static int queued(int fd)
{
    int n = -1;
    ioctl(fd, FIONREAD, &n);
    return n;
}

/* Parses "N" or "N,N,..." into at most max sizes; returns how many. */
static int parse_sizes(const char *step, const char *arg, size_t *sizes, int max)
{
    int count = 0;
    for (const char *p = arg; p && *p && count < max; count++) {
        char *end;
        unsigned long v = strtoul(p, &end, 10);
        if (end == p || v > PROBE_MAX || (*end && *end != ','))
            die("bad size in step", step);
        sizes[count] = v;
        p = *end ? end + 1 : NULL;
    }
    if (count == 0)
        die("missing size in step", step);
    return count;
}

static int thread_writes;

static void *writer(void *arg)
{
    int fds[2];
    long shorts = 0;
    (void)arg;
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        return (void *)-1L;
    for (int i = 0; i < thread_writes; i++) {
        shorts += write(fds[0], "ab", 2) == 1;
        peer_drain(fds[1]); /* keeps the buffer from filling */
    }
    close(fds[0]);
    close(fds[1]);
    return (void *)shorts;
}

static void run_threads(const char *step, const char *arg)
{
    size_t tk[2];
    if (parse_sizes(step, arg, tk, 2) != 2 || tk[0] < 1 || tk[0] > PROBE_MAX_THREADS)
        die("want threads T,K (T <= 16) in step", step);
    pthread_t threads[PROBE_MAX_THREADS];
    long total = 0;
    thread_writes = (int)tk[1];
    for (size_t i = 0; i < tk[0]; i++)
        if (pthread_create(&threads[i], NULL, writer, NULL) != 0)
            die("cannot start threads for step", step);
    for (size_t i = 0; i < tk[0]; i++) {
        void *shorts;
        pthread_join(threads[i], &shorts);
        total += (long)shorts;
    }
    printf("%s -> %ld short\n", step, total);
}

static void run_step(const char *step, int pipefd[2], int filefd)
{
    char op[32] = "";
    const char *arg = strchr(step, ' ');
    size_t oplen = arg ? (size_t)(arg - step) : strlen(step);
    if (oplen >= sizeof op)
        die("unknown step", step);
    memcpy(op, step, oplen);
    arg = arg ? arg + 1 : "";

    size_t sizes[PROBE_MAX_IOV] = {0}, n = 0;
    struct iovec iov[PROBE_MAX_IOV];
    int niov = 0;
    if (*arg && strcmp(op, "threads") != 0) {
        niov = parse_sizes(step, arg, sizes, PROBE_MAX_IOV);
        for (int i = 0; i < niov; i++) {
            iov[i] = (struct iovec){buf + n, sizes[i]};
            n += sizes[i];
        }
        if (n > PROBE_MAX)
            die("more than 65536 bytes in step", step);
    }

    if (strcmp(op, "read") == 0)
        print_result(step, read(a, buf, n));
    else if (strcmp(op, "read-chk") == 0)
        print_result(step, __read_chk(a, buf, n, sizeof buf));
    else if (strcmp(op, "recv-chk") == 0)
        print_result(step, __recv_chk(a, buf, n, sizeof buf, 0));
    else if (strcmp(op, "write") == 0)
        print_result(step, write(a, buf, n));
    else if (strcmp(op, "recv") == 0)
        print_result(step, recv(a, buf, n, 0));
    else if (strcmp(op, "recv-dontwait") == 0)
        print_result(step, recv(a, buf, n, MSG_DONTWAIT));
    else if (strcmp(op, "send") == 0)
        print_result(step, send(a, buf, n, 0));
    else if (strcmp(op, "recvfrom") == 0)
        print_result(step, recvfrom(a, buf, n, 0, NULL, NULL));
    else if (strcmp(op, "sendto") == 0)
        print_result(step, sendto(a, buf, n, 0, NULL, 0));
    else if (strcmp(op, "readv") == 0)
        print_result(step, readv(a, iov, niov));
    else if (strcmp(op, "writev") == 0)
        print_result(step, writev(a, iov, niov));
    else if (strcmp(op, "fill") == 0)
        peer_send(n);
    else if (strcmp(op, "drain") == 0)
        peer_drain(b);
    else if (strcmp(op, "avail") == 0)
        printf("avail %d\n", queued(a));
    else if (strcmp(op, "pending") == 0)
        printf("pending %d\n", queued(b));
    else if (strcmp(op, "nonblock") == 0)
        fcntl(a, F_SETFL, fcntl(a, F_GETFL) | O_NONBLOCK);
    else if (strcmp(op, "edge") == 0) {
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET};
        int ep = epoll_create1(0);
        if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, a, &ev) != 0)
            die("epoll failed in step", step);
    } else if (strcmp(op, "dgram") == 0 || strcmp(op, "reopen") == 0) {
        close(a);
        close(b);
        open_pair(op[0] == 'd' ? SOCK_DGRAM : SOCK_STREAM);
    } else if (strcmp(op, "pipe-write") == 0)
        print_result(step, write(pipefd[1], buf, n));
    else if (strcmp(op, "pipe-read") == 0)
        print_result(step, read(pipefd[0], buf, n));
    else if (strcmp(op, "file-write") == 0)
        print_result(step, write(filefd, buf, n));
    else if (strcmp(op, "file-read") == 0) {
        lseek(filefd, 0, SEEK_SET);
        print_result(step, read(filefd, buf, n));
    } else if (strcmp(op, "sigpipes") == 0)
        printf("sigpipes %d\n", (int)sigpipes);
    else if (strcmp(op, "threads") == 0)
        run_threads(step, arg);
    else
        die("unknown step", step);
}

int main(int argc, char **argv)
{
    struct sigaction sa = {.sa_handler = on_sigpipe};
    sigaction(SIGPIPE, &sa, NULL);
    setvbuf(stdout, NULL, _IOLBF, 0); /* results and errors interleave in order */
    memset(buf, 'x', sizeof buf);

    int pipefd[2];
    FILE *file = tmpfile();
    if (pipe(pipefd) != 0 || !file) {
        perror("fault-probe: pipe or tmpfile");
        return 1;
    }
    open_pair(SOCK_STREAM);
    for (int i = 1; i < argc; i++)
        run_step(argv[i], pipefd, fileno(file));
    return fflush(stdout) == 0 ? 0 : 1;
}
