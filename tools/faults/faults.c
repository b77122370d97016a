/*
 * libaxfault: a fault-injecting shim for socket I/O, loaded with LD_PRELOAD.
 *
 * Why it exists: over loopback, a read or a write on a socket nearly always moves
 * every byte asked for, never fails with EINTR or a spurious EAGAIN, and connections
 * do not reset. Code that forgets a short write or an EINTR passes every test and then
 * fails on a real network. This library sits in front of libc's socket I/O calls and
 * makes some of them short or failing, as AX_FAULTS says, so the tests walk the paths
 * a real network takes. `make test-faults` runs the suites under it. It is a course
 * tool, not part of axle, and belongs to no chapter.
 *
 *   AX_FAULTS="rule[,rule...]"      rule = CALLS:FAULT[/N]       e.g. "io:short/2,in:eintr/5"
 *   CALLS  read write recv send readv writev recvfrom sendto, or
 *          in (the four read-side calls), out (the four write-side calls), io (all eight)
 *   FAULT  short   the call moves about half the bytes asked, at least 1; a 1-byte request
 *                  and datagram sockets (whose messages are atomic) are left alone, and
 *                  so are reads of an fd in an edge-triggered epoll set: the kernel hands
 *                  a stream reader all that is queued, and code that waits there for the
 *                  next edge after a short read is right to; readv/writev cut the total
 *                  and end mid-iovec where they can
 *          eintr   the call fails with EINTR before doing anything
 *          eagain  the call fails with EAGAIN, only when it is non-blocking (O_NONBLOCK
 *                  or MSG_DONTWAIT) and the fd is not in an edge-triggered epoll set:
 *                  there a spurious EAGAIN would wait for an edge that never comes
 *          reset   the call fails with ECONNRESET (read side) or EPIPE (write side, with
 *                  SIGPIPE unless MSG_NOSIGNAL, as the kernel does), and so does every
 *                  later call on that socket until it is closed
 *   /N     the fault hits every Nth eligible call of its rule (default 3). Each rule counts
 *          its own calls; when two rules hit the same call, the first one listed wins.
 *
 * Rules it keeps: only sockets are touched (fstat, S_ISSOCK): files, pipes and ttys pass
 * through, so Check's reports and stdout never see a fault. Unset or empty AX_FAULTS is
 * pure pass-through. A malformed AX_FAULTS is named on stderr and the process exits with
 * status 2 before main. errno is untouched unless a fault is injected. Counters are
 * atomics, so threaded tests count exactly. Per-fd state (reset, edge-triggered) lives in
 * fixed tables for fds below AXF_MAX_FD, tagged with the socket's inode, so a reused fd
 * number never inherits it even when the old fd was closed behind our back. The
 * fortified entry points (__read_chk, ...) are covered too, for -D_FORTIFY_SOURCE builds.
 */
#undef _FORTIFY_SOURCE /* its inline read() and recv() would clash with ours */

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

enum op { OP_READ, OP_RECV, OP_RECVFROM, OP_READV, OP_WRITE, OP_SEND, OP_SENDTO, OP_WRITEV };
#define BIT(op) (1u << (op))
#define IN_OPS  (BIT(OP_READ) | BIT(OP_RECV) | BIT(OP_RECVFROM) | BIT(OP_READV))
#define OUT_OPS (BIT(OP_WRITE) | BIT(OP_SEND) | BIT(OP_SENDTO) | BIT(OP_WRITEV))

static const struct {
    const char *name;
    unsigned ops;
} calls[] = {
    {"read", BIT(OP_READ)},     {"recv", BIT(OP_RECV)},     {"recvfrom", BIT(OP_RECVFROM)},
    {"readv", BIT(OP_READV)},   {"write", BIT(OP_WRITE)},   {"send", BIT(OP_SEND)},
    {"sendto", BIT(OP_SENDTO)}, {"writev", BIT(OP_WRITEV)}, {"in", IN_OPS},
    {"out", OUT_OPS},           {"io", IN_OPS | OUT_OPS},
};

enum fault { F_SHORT, F_EINTR, F_EAGAIN, F_RESET, F_COUNT };
static const char *const fault_names[F_COUNT] = {"short", "eintr", "eagain", "reset"};

enum { AXF_MAX_RULES = 16, AXF_MAX_FD = 65536, AXF_MAX_IOV = 1024, AXF_DEFAULT_EVERY = 3 };

struct rule {
    unsigned ops;
    enum fault fault;
    unsigned long every;
    atomic_ulong seen; /* eligible calls so far */
};
static struct rule rules[AXF_MAX_RULES];
static int nrules;

/* The inode of the socket an fd had when it was reset / registered with EPOLLET; 0: none. */
static atomic_ullong reset_ino[AXF_MAX_FD];
static atomic_ullong edge_ino[AXF_MAX_FD];

static struct {
    ssize_t (*read)(int, void *, size_t);
    ssize_t (*write)(int, const void *, size_t);
    ssize_t (*recv)(int, void *, size_t, int);
    ssize_t (*send)(int, const void *, size_t, int);
    ssize_t (*recvfrom)(int, void *, size_t, int, __SOCKADDR_ARG, socklen_t *);
    ssize_t (*sendto)(int, const void *, size_t, int, __CONST_SOCKADDR_ARG, socklen_t);
    ssize_t (*readv)(int, const struct iovec *, int);
    ssize_t (*writev)(int, const struct iovec *, int);
    int (*close)(int);
    int (*epoll_ctl)(int, int, int, struct epoll_event *);
    ssize_t (*read_chk)(int, void *, size_t, size_t);
    ssize_t (*recv_chk)(int, void *, size_t, size_t, int);
    ssize_t (*recvfrom_chk)(int, void *, size_t, size_t, int, __SOCKADDR_ARG, socklen_t *);
} real;

static _Noreturn void bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("AX_FAULTS: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

/* Fills rules[] from AX_FAULTS; any mistake ends the process with a message. */
static void parse(const char *spec)
{
    char *copy = strdup(spec), *next = copy, *call;
    while (copy && (call = strsep(&next, ",")) != NULL) {
        const char *text = spec + (call - copy); /* the rule as written, for messages */
        int tl = (int)strlen(call);
        char *fault = strchr(call, ':'), *count = NULL, *end;
        if (tl == 0)
            bad("empty rule in '%s' (want CALLS:FAULT[/N],...)", spec);
        if (nrules == AXF_MAX_RULES)
            bad("more than %d rules in '%s'", AXF_MAX_RULES, spec);
        if (!fault)
            bad("missing ':' in rule '%.*s' (want CALLS:FAULT[/N])", tl, text);
        *fault++ = '\0';
        if ((count = strchr(fault, '/')) != NULL)
            *count++ = '\0';
        struct rule *r = &rules[nrules++];
        for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
            r->ops |= strcmp(call, calls[i].name) == 0 ? calls[i].ops : 0;
        if (!r->ops)
            bad("unknown call '%s' in rule '%.*s'", call, tl, text);
        r->fault = F_COUNT;
        for (int i = 0; i < F_COUNT; i++)
            r->fault = strcmp(fault, fault_names[i]) == 0 ? (enum fault)i : r->fault;
        if (r->fault == F_COUNT)
            bad("unknown fault '%s' in rule '%.*s'", fault, tl, text);
        r->every = count ? strtoul(count, &end, 10) : AXF_DEFAULT_EVERY;
        if (count &&
            (*count < '0' || *count > '9' || *end || r->every == 0 || r->every > 1000000000))
            bad("bad count '%s' in rule '%.*s' (want N >= 1)", count, tl, text);
    }
    free(copy);
}

static void *must_find(const char *name)
{
    void *fn = dlsym(RTLD_NEXT, name);
    if (!fn) {
        fprintf(stderr, "libaxfault: cannot find %s: %s\n", name, dlerror());
        abort();
    }
    return fn;
}

static void init(void)
{
    real.read = must_find("read");
    real.write = must_find("write");
    real.recv = must_find("recv");
    real.send = must_find("send");
    real.recvfrom = must_find("recvfrom");
    real.sendto = must_find("sendto");
    real.readv = must_find("readv");
    real.writev = must_find("writev");
    real.close = must_find("close");
    real.epoll_ctl = must_find("epoll_ctl");
    real.read_chk = must_find("__read_chk");
    real.recv_chk = must_find("__recv_chk");
    real.recvfrom_chk = must_find("__recvfrom_chk");
    const char *spec = getenv("AX_FAULTS");
    if (spec && *spec)
        parse(spec);
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static void ensure(void)
{
    pthread_once(&once, init);
}

/* Report a bad AX_FAULTS before main, not at some later first socket call. */
__attribute__((constructor)) static void at_load(void)
{
    ensure();
}

static bool fd_has(atomic_ullong *table, int fd, unsigned long long ino)
{
    return fd >= 0 && fd < AXF_MAX_FD && atomic_load(&table[fd]) == ino;
}

/*
 * Decides the fate of one call on fd that asks for want bytes. Returns 0 to let it run
 * with *len bytes (want, or less for a short fault), or the errno value it must fail with.
 */
static int decide(enum op op, int fd, size_t want, int flags, size_t *len)
{
    ensure();
    *len = want;
    if (nrules == 0)
        return 0;
    int saved = errno, err = 0;
    bool out = BIT(op) & OUT_OPS;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
        goto done;
    unsigned long long ino = st.st_ino;
    if (fd_has(reset_ino, fd, ino)) {
        err = out ? EPIPE : ECONNRESET;
        goto done;
    }
    int type = 0, fl = fcntl(fd, F_GETFL);
    socklen_t tl = sizeof type;
    bool stream = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_STREAM;
    bool nonblocking = (flags & MSG_DONTWAIT) || (fl >= 0 && (fl & O_NONBLOCK));
    bool allowed[F_COUNT] = {
        [F_SHORT] = want > 1 && stream && (out || !fd_has(edge_ino, fd, ino)),
        [F_EINTR] = true,
        [F_EAGAIN] = nonblocking && !fd_has(edge_ino, fd, ino),
        [F_RESET] = fd < AXF_MAX_FD, /* beyond the table it could not persist */
    };
    struct rule *hit = NULL;
    for (int i = 0; i < nrules; i++) {
        struct rule *r = &rules[i];
        if (!(r->ops & BIT(op)) || !allowed[r->fault])
            continue;
        unsigned long seen = atomic_fetch_add_explicit(&r->seen, 1, memory_order_relaxed) + 1;
        if (seen % r->every == 0 && !hit)
            hit = r;
    }
    if (hit && hit->fault == F_SHORT) {
        *len = want / 2;
    } else if (hit && hit->fault == F_RESET) {
        atomic_store(&reset_ino[fd], ino);
        err = out ? EPIPE : ECONNRESET;
    } else if (hit) {
        err = hit->fault == F_EINTR ? EINTR : EAGAIN;
    }
done:
    errno = saved;
    return err;
}

static ssize_t fail(int err, int flags)
{
    if (err == EPIPE && !(flags & MSG_NOSIGNAL))
        raise(SIGPIPE);
    errno = err;
    return -1;
}

ssize_t read(int fd, void *buf, size_t n)
{
    size_t len;
    int err = decide(OP_READ, fd, n, 0, &len);
    return err ? fail(err, 0) : real.read(fd, buf, len);
}

ssize_t write(int fd, const void *buf, size_t n)
{
    size_t len;
    int err = decide(OP_WRITE, fd, n, 0, &len);
    return err ? fail(err, 0) : real.write(fd, buf, len);
}

ssize_t recv(int fd, void *buf, size_t n, int flags)
{
    size_t len;
    int err = decide(OP_RECV, fd, n, flags, &len);
    return err ? fail(err, flags) : real.recv(fd, buf, len, flags);
}

ssize_t send(int fd, const void *buf, size_t n, int flags)
{
    size_t len;
    int err = decide(OP_SEND, fd, n, flags, &len);
    return err ? fail(err, flags) : real.send(fd, buf, len, flags);
}

ssize_t recvfrom(int fd, void *buf, size_t n, int flags, __SOCKADDR_ARG from, socklen_t *fromlen)
{
    size_t len;
    int err = decide(OP_RECVFROM, fd, n, flags, &len);
    return err ? fail(err, flags) : real.recvfrom(fd, buf, len, flags, from, fromlen);
}

ssize_t sendto(int fd, const void *buf, size_t n, int flags, __CONST_SOCKADDR_ARG to,
               socklen_t tolen)
{
    size_t len;
    int err = decide(OP_SENDTO, fd, n, flags, &len);
    return err ? fail(err, flags) : real.sendto(fd, buf, len, flags, to, tolen);
}

/* readv and writev: a short fault cuts the iovec list, ending mid-iovec where it can. */
static ssize_t vector_io(enum op op, int fd, const struct iovec *iov, int cnt)
{
    ensure();
    ssize_t (*call)(int, const struct iovec *, int) = op == OP_READV ? real.readv : real.writev;
    size_t total = 0, len;
    bool sane = cnt > 0 && cnt <= AXF_MAX_IOV;
    for (int i = 0; sane && i < cnt; i++) {
        sane = iov[i].iov_len <= (size_t)SSIZE_MAX - total;
        total += sane ? iov[i].iov_len : 0;
    }
    int err = decide(op, fd, sane ? total : 0, 0, &len);
    if (err)
        return fail(err, 0);
    if (!sane || len == total)
        return call(fd, iov, cnt); /* the kernel judges an odd list */
    struct iovec cut[AXF_MAX_IOV];
    int n = 0;
    for (size_t left = len; left > 0; n++) {
        cut[n] = iov[n];
        if (cut[n].iov_len < left) {
            left -= cut[n].iov_len;
            continue;
        }
        if (cut[n].iov_len == left && left > 1)
            left--; /* the cut fell on a boundary: end inside this iovec instead */
        cut[n].iov_len = left;
        left = 0;
    }
    return call(fd, cut, n);
}

ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
    return vector_io(OP_READV, fd, iov, cnt);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    return vector_io(OP_WRITEV, fd, iov, cnt);
}

/* A closed fd forgets its state, so the next socket with that number starts clean. */
int close(int fd)
{
    ensure();
    if (fd >= 0 && fd < AXF_MAX_FD) {
        atomic_store(&reset_ino[fd], 0);
        atomic_store(&edge_ino[fd], 0);
    }
    return real.close(fd);
}

/* Remembers which fds wait edge-triggered, where a spurious EAGAIN would hang. */
int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    ensure();
    int rc = real.epoll_ctl(epfd, op, fd, ev);
    if (rc == 0 && nrules > 0 && fd >= 0 && fd < AXF_MAX_FD) {
        int saved = errno;
        struct stat st;
        bool edge = op != EPOLL_CTL_DEL && ev && (ev->events & EPOLLET);
        if (fstat(fd, &st) == 0)
            atomic_store(&edge_ino[fd], edge ? (unsigned long long)st.st_ino : 0);
        errno = saved;
    }
    return rc;
}

/* The fortified entry points that -D_FORTIFY_SOURCE builds call instead. */
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
    ensure();
    return n > buflen ? real.read_chk(fd, buf, n, buflen) : read(fd, buf, n);
}

ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
    ensure();
    return n > buflen ? real.recv_chk(fd, buf, n, buflen, flags) : recv(fd, buf, n, flags);
}

ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags, __SOCKADDR_ARG from,
                       socklen_t *fromlen)
{
    ensure();
    if (n > buflen)
        return real.recvfrom_chk(fd, buf, n, buflen, flags, from, fromlen);
    return recvfrom(fd, buf, n, flags, from, fromlen);
}
