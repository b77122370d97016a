//@ 06
/* The by-hand helpers declared in by_hand.h. */
#include "by_hand.h"
#include "axtest.h"
#include "ax/error.h"
#include "ax/net.h"
#include "ax/reactor.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>

struct poll_once {
    struct ax_future base;
    struct ax_future *inner;
    ax_result *result;
};

static ax_result poll_once_poll(struct ax_future *self, struct ax_context *cx)
{
    struct poll_once *p = (struct poll_once *)self;
    *p->result = ax_poll(p->inner, cx);
    return 0;
}

static const struct ax_future_ops poll_once_ops = {.poll = poll_once_poll};

ax_result axt_poll_once(struct ax_executor *executor, struct ax_future *future)
{
    int err = ax_reactor_run_once(ax_executor_reactor(executor), 0);
    ck_assert_msg(err >= 0, "reactor: errno %d", -err);
    ax_result result = AX_PENDING;
    struct poll_once *p = ax_task_alloc(executor, sizeof *p);
    ck_assert_ptr_nonnull(p);
    *p = (struct poll_once){.base = {&poll_once_ops}, .inner = future, .result = &result};
    ck_assert_int_eq(ax_block_on(executor, ax_task_spawn(&p->base)), 0);
    return result;
}

void axt_send_all(int fd, const void *buf, size_t len)
{
    int err = ax_write_all(fd, buf, len);
    ck_assert_msg(err == 0, "send: %s", ax_strerror(err));
}

size_t axt_drain_now(int fd, void *buf, size_t len)
{
    char *p = buf;
    size_t got = 0;
    /* poll, then a blocking read: a MSG_DONTWAIT read could be failed with a spurious
     * EAGAIN by the fault shim, and would end the drain early. */
    while (got < len) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int ready = poll(&pfd, 1, 0);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0)
            break;
        ssize_t n = recv(fd, p + got, len - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return got;
}
