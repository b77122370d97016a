//@ 05
/* Loopback addresses that answer, refuse or hang, and a held clock; see loopback.h. */
#include "loopback.h"

#include "ax/error.h"
#include "ax/task.h"
#include "ax/timer.h"

#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

socklen_t axt_loopback_addr(int family, uint16_t port, struct sockaddr_storage *out)
{
    memset(out, 0, sizeof *out);
    if (family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)out;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(port);
        a->sin6_addr = in6addr_loopback;
        return sizeof *a;
    }
    struct sockaddr_in *a = (struct sockaddr_in *)out;
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sizeof *a;
}

/* A stream socket bound to family's loopback on a port the kernel picks, or -errno. */
static int bound_socket(int family, uint16_t *port)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct sockaddr_storage addr;
    socklen_t len = axt_loopback_addr(family, 0, &addr);
    if (bind(fd, (struct sockaddr *)&addr, len) < 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &len) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    *port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&addr)->sin6_port
                                     : ((struct sockaddr_in *)&addr)->sin_port);
    return fd;
}

bool axt_ipv6_available(void)
{
    uint16_t port;
    int fd = bound_socket(AF_INET6, &port);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

static const char *family_name(int family)
{
    return family == AF_INET6 ? "::1" : "127.0.0.1";
}

int axt_loopback_listen(int family, int backlog, uint16_t *port)
{
    int fd = bound_socket(family, port);
    ck_assert_msg(fd >= 0, "bind %s: %s", family_name(family), ax_strerror(fd));
    ck_assert_msg(listen(fd, backlog) == 0, "listen on %s: %s", family_name(family),
                  ax_strerror(-errno));
    return fd;
}

uint16_t axt_refused_port(int family)
{
    uint16_t port;
    int fd = bound_socket(family, &port);
    ck_assert_msg(fd >= 0, "bind %s: %s", family_name(family), ax_strerror(fd));
    close(fd);
    return port;
}

bool axt_connection_waiting(int listen_fd)
{
    struct pollfd pfd = {.fd = listen_fd, .events = POLLIN};
    return poll(&pfd, 1, 0) == 1;
}

/* A listener's TCP_INFO gives the length of its accept queue (tcpi_unacked) and its
 * backlog (tcpi_sacked); SYNs are dropped once the first passes the second. */
static bool queue_full(int listen_fd)
{
    struct tcp_info info;
    socklen_t len = sizeof info;
    ck_assert_int_eq(getsockopt(listen_fd, IPPROTO_TCP, TCP_INFO, &info, &len), 0);
    return info.tcpi_unacked > info.tcpi_sacked;
}

void axt_full_listener_open(struct axt_full_listener *l, int family)
{
    *l = (struct axt_full_listener){.count = 0};
    l->fd = axt_loopback_listen(family, 0, &l->port);
    struct sockaddr_storage addr;
    socklen_t len = axt_loopback_addr(family, l->port, &addr);
    while (!queue_full(l->fd)) {
        ck_assert_msg(l->count < AXT_FILLERS_MAX,
                      "%d connections to a listener with backlog 0 on %s did not fill its queue",
                      AXT_FILLERS_MAX, family_name(family));
        int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(fd, 0);
        l->fillers[l->count++] = fd;
        int rc = connect(fd, (struct sockaddr *)&addr, len);
        ck_assert_msg(rc == 0 || errno == EINPROGRESS, "connect %s: %s", family_name(family),
                      ax_strerror(-errno));
        struct pollfd queued = {.fd = l->fd, .events = POLLIN};
        poll(&queued, 1, AXT_HOLD_LIMIT_MS); /* the filler has arrived, or will not */
    }
}

void axt_full_listener_close(struct axt_full_listener *l)
{
    for (int i = 0; i < l->count; i++)
        close(l->fillers[i]);
    close(l->fd);
}

int axt_open_fds(void)
{
    DIR *dir = opendir("/proc/self/fd");
    ck_assert_ptr_nonnull(dir);
    int count = 0;
    for (struct dirent *e; (e = readdir(dir)) != NULL;)
        if (e->d_name[0] != '.')
            count++;
    closedir(dir);
    return count - 1; /* the directory's own descriptor */
}

/* ---- the held clock ----------------------------------------------------------------- */

/* Real time, which the paused executor does not touch (ax_now_ns reads virtual time). */
static uint64_t real_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* AXT_HOLD_LIMIT_MS, scaled as Check scales test timeouts (valgrind runs are slower). */
static uint64_t hold_limit_ms(void)
{
    const char *multiplier = getenv("CK_TIMEOUT_MULTIPLIER");
    double scale = multiplier != NULL ? atof(multiplier) : 1;
    return (uint64_t)(AXT_HOLD_LIMIT_MS * (scale >= 1 ? scale : 1));
}

struct holder {
    struct ax_future base;
    struct ax_sleep until_from;
    bool holding;
    uint64_t give_up_ms; /* real time */
    bool (*until)(void *arg);
    void *arg;
};

static ax_result holder_poll(struct ax_future *self, struct ax_context *cx)
{
    struct holder *h = (struct holder *)self;
    if (!h->holding) {
        if (ax_poll(&h->until_from.base, cx) == AX_PENDING)
            return AX_PENDING;
        h->holding = true;
        h->give_up_ms = real_now_ms() + hold_limit_ms();
    }
    if (h->until(h->arg))
        return 0;
    if (real_now_ms() >= h->give_up_ms) {
        fprintf(stderr,
                "axt_hold_clock: what the test waited for had not happened after %llu ms "
                "of real time; letting the clock go\n",
                (unsigned long long)hold_limit_ms());
        return -ETIMEDOUT;
    }
    struct ax_waker me = ax_waker_clone(cx);
    ax_wake(&me); /* ready again: the executor never idles, so time does not jump */
    return AX_PENDING;
}

static void holder_drop(struct ax_future *self)
{
    ax_future_drop(&((struct holder *)self)->until_from.base);
}

static const struct ax_future_ops holder_ops = {.poll = holder_poll, .drop = holder_drop};

void axt_hold_clock(struct ax_executor *executor, uint64_t from_ns, bool (*until)(void *arg),
                    void *arg)
{
    struct holder *h = ax_task_alloc(executor, sizeof *h);
    ck_assert_ptr_nonnull(h);
    *h = (struct holder){.base = {&holder_ops}, .until = until, .arg = arg};
    ax_sleep_until_init(&h->until_from, from_ns);
    ax_task_detach(ax_task_spawn(&h->base));
}

bool axt_until_connection_waiting(void *listen_fd)
{
    return axt_connection_waiting(*(int *)listen_fd);
}

bool axt_until_true(void *flag)
{
    return *(bool *)flag;
}
