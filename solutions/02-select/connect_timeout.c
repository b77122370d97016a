/* Exercise 02-connect-timeout: a reference solution. */
#include "connect_timeout.h"

#include "ax/clock.h"
#include "ax/error.h"
#include "ax/nonblock.h"
#include "ax/reactor.h"

#include <errno.h>
#include <stdbool.h>
#include <unistd.h>

static void on_writable(struct ax_reactor *reactor, int fd, int events, void *data)
{
    (void)fd, (void)events;
    *(bool *)data = true;
    ax_reactor_stop(reactor);
}

/* Waits until fd is writable or the deadline passes. 0, -ETIMEDOUT or -errno. */
static int wait_writable(int fd, uint64_t deadline)
{
    struct ax_reactor *reactor;
    int err = ax_reactor_new(&reactor, NULL);
    if (err < 0)
        return err;
    bool writable = false;
    err = ax_reactor_watch(reactor, fd, AX_WRITABLE, on_writable, &writable);
    while (err == 0 && !writable) {
        uint64_t now = ax_now_ns();
        if (now >= deadline) {
            err = -ETIMEDOUT;
            break;
        }
        /* A signal makes run_once return 0 early: the loop waits again, for what is left. */
        int rc = ax_reactor_run_once(reactor, (int64_t)(deadline - now));
        if (rc < 0)
            err = rc;
    }
    ax_reactor_free(reactor); /* fd stays open: it is the caller's */
    return err;
}

int connect_timeout(const char *host, uint16_t port, int timeout_ms)
{
    uint64_t deadline = ax_now_ns() + (uint64_t)timeout_ms * AX_NS_PER_MS;
    int fd = -1;
    int err = ax_connect_start(host, port, &fd);
    if (err == -EINPROGRESS) {
        err = wait_writable(fd, deadline);
        if (err == 0)
            err = ax_connect_finish(fd); /* the handshake ended: how? */
    }
    if (err < 0) {
        if (fd >= 0)
            close(fd);
        return err;
    }
    return fd;
}
