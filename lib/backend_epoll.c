//@ 03
/*
 * The epoll backend: the kernel keeps the interest list, and a wait returns only
 * the fds that are ready.
 *
 * With select, the program hands the kernel its whole interest set on every wait
 * and scans every bit of the answer: O(watched fds) twice per iteration. epoll splits
 * the two jobs. epoll_ctl tells the kernel about a change of interest once, when it
 * happens; epoll_wait then returns a batch of only the ready fds, so one iteration
 * costs O(ready), however many idle connections are watched. That is what lets one
 * thread hold ten thousand connections (chapter 03).
 *
 * Level-triggered by default, like select: a fd that stays readable is reported on
 * every wait. AX_EDGE asks for EPOLLET, where it is reported once per arrival, and for
 * EPOLLRDHUP, reported as AX_READ_CLOSED, so that the peer's shutdown is told apart from
 * data even when both arrive in one report.
 * EPOLLHUP and EPOLLERR are always reported by the kernel; they become AX_HANGUP and
 * AX_ERROR, so a hung-up socket reaches its callback instead of spinning unseen.
 *
 * epoll_wait counts its timeout in milliseconds, which a timer 200 µs away cannot use.
 * A timeout that is not whole milliseconds goes to epoll_pwait2 (Linux 5.11), which
 * takes a timespec; where the kernel lacks it (or AX_EPOLL_TIMERFD=1 asks, so the
 * tests can take this path), a timerfd watched beside the fds ends the wait instead.
 */
#include "ax/backend.h"
#include "ax/error.h"
#include "ax/reactor.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <stdlib.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

struct epoll_state {
    int epfd;
    struct epoll_event *events; /* what epoll_wait fills in */
    int capacity;
    bool use_timerfd; /* no epoll_pwait2 here: end short waits with timer_fd */
    int timer_fd; /* -1 until a short wait needs it */
};

static int epoll_create_state(void **state)
{
    struct epoll_state *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    s->timer_fd = -1;
    const char *force = getenv("AX_EPOLL_TIMERFD");
    s->use_timerfd = force != NULL && strcmp(force, "1") == 0;
#ifndef SYS_epoll_pwait2
    s->use_timerfd = true; /* headers older than the call */
#endif
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (s->epfd < 0) {
        int err = ax__errno();
        free(s);
        return err;
    }
    *state = s;
    return 0;
}

static void epoll_free_state(void *state)
{
    struct epoll_state *s = state;
    close(s->epfd);
    if (s->timer_fd >= 0)
        close(s->timer_fd);
    free(s->events);
    free(s);
}

static int control(struct epoll_state *s, int op, int fd, int events)
{
    struct epoll_event ev = {.data.fd = fd};
    if (events & AX_READABLE)
        ev.events |= EPOLLIN;
    if (events & AX_WRITABLE)
        ev.events |= EPOLLOUT;
    if (events & AX_EDGE) /* and the peer's shutdown, which the edge reports only once */
        ev.events |= EPOLLET | EPOLLRDHUP;
    return epoll_ctl(s->epfd, op, fd, &ev) < 0 ? ax__errno() : 0;
}

static int epoll_add(void *state, int fd, int events)
{
    return control(state, EPOLL_CTL_ADD, fd, events);
}

static int epoll_modify(void *state, int fd, int old_events, int new_events)
{
    (void)old_events;
    return control(state, EPOLL_CTL_MOD, fd, new_events);
}

static int epoll_del(void *state, int fd, int old_events)
{
    (void)old_events;
    return control(state, EPOLL_CTL_DEL, fd, 0);
}

/* A wait that ends when timer_fd fires, for kernels without epoll_pwait2. The timer's
 * own event is taken out of the batch; the reactor never sees it. */
static int wait_with_timerfd(struct epoll_state *s, int room, int64_t timeout_ns)
{
    if (s->timer_fd < 0) {
        int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        if (fd < 0 || epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            int err = errno;
            if (fd >= 0)
                close(fd);
            errno = err;
            return -1;
        }
        s->timer_fd = fd;
    }
    struct itimerspec when = {
        .it_value = {.tv_sec = timeout_ns / 1000000000, .tv_nsec = timeout_ns % 1000000000}};
    if (timerfd_settime(s->timer_fd, 0, &when, NULL) < 0)
        return -1;
    int n = epoll_wait(s->epfd, s->events, room, -1);
    int kept = 0;
    bool fired = false;
    for (int i = 0; i < n; i++) {
        if (s->events[i].data.fd == s->timer_fd)
            fired = true;
        else
            s->events[kept++] = s->events[i];
    }
    uint64_t expirations;
    if (fired && read(s->timer_fd, &expirations, sizeof expirations) < 0 && errno != EAGAIN)
        return -1;
    if (!fired) /* woken by an fd first: a stale expiry must not end a later wait */
        timerfd_settime(s->timer_fd, 0, &(struct itimerspec){0}, NULL);
    return n < 0 ? n : kept;
}

// snippet epoll-wait
/* epoll_wait, with the timeout kept to the nanosecond. -1 and errno on failure. */
static int wait_kernel(struct epoll_state *s, int room, int64_t timeout_ns)
{
    if (timeout_ns < 0)
        return epoll_wait(s->epfd, s->events, room, -1);
    if (timeout_ns % 1000000 == 0) /* whole milliseconds: the classic call will do */
        return epoll_wait(s->epfd, s->events, room,
                          timeout_ns / 1000000 >= INT_MAX ? INT_MAX : (int)(timeout_ns / 1000000));
#ifdef SYS_epoll_pwait2
    if (!s->use_timerfd) {
        struct timespec ts = {.tv_sec = timeout_ns / 1000000000,
                              .tv_nsec = timeout_ns % 1000000000};
        int n = (int)syscall(SYS_epoll_pwait2, s->epfd, s->events, room, &ts, NULL, 0);
        if (n >= 0 || errno != ENOSYS)
            return n;
        s->use_timerfd = true; /* an older kernel: from now on, the timerfd */
    }
#endif
    return wait_with_timerfd(s, room, timeout_ns);
}

static int epoll_wait_ready(void *state, int64_t timeout_ns, struct ax_fired *fired, int max)
{
    struct epoll_state *s = state;
    int room = max > 0 ? max : 1; /* epoll_wait wants room for at least one */
    if (room + 1 > s->capacity) { /* one event per watched fd (and the timer's): no truncation */
        struct epoll_event *events = realloc(s->events, (size_t)(room + 1) * sizeof *events);
        if (events == NULL)
            return -ENOMEM;
        s->events = events;
        s->capacity = room + 1;
    }
    int n = wait_kernel(s, room + (s->timer_fd >= 0), timeout_ns);
    if (n < 0)
        return ax__errno();
    for (int i = 0; i < n && i < max; i++) { /* only the ready fds: no scan of idle ones */
        uint32_t e = s->events[i].events;
        fired[i] = (struct ax_fired){
            .fd = s->events[i].data.fd,
            .events = (e & EPOLLIN ? AX_READABLE : 0) | (e & EPOLLOUT ? AX_WRITABLE : 0) |
                      (e & EPOLLHUP ? AX_HANGUP : 0) | (e & EPOLLERR ? AX_ERROR : 0) |
                      (e & EPOLLRDHUP ? AX_READ_CLOSED : 0),
        };
    }
    return n;
}
// end snippet

const struct ax_backend ax_backend_epoll = {
    .name = "epoll",
    .create = epoll_create_state,
    .free = epoll_free_state,
    .add = epoll_add,
    .modify = epoll_modify,
    .del = epoll_del,
    .wait = epoll_wait_ready,
};
