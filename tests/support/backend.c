//@ 06
/* The scripted backend of the chapter 06 suites; see backend.h. */
#include "backend.h"
#include "axtest.h"
#include "loopback.h"

#include "ax/async.h"
#include "ax/error.h"
#include "ax/io.h"
#include "ax/source.h"
#include "ax/task.h"
#include "ax/timer.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { PATIENCE_MS = 5000 };

static uint64_t real_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* How long a backend holds the clock for a client that does not hang up: loopback.h's
 * limit, scaled as Check scales test timeouts. */
static uint64_t hold_limit_ms(void)
{
    const char *multiplier = getenv("CK_TIMEOUT_MULTIPLIER");
    double scale = multiplier != NULL ? atof(multiplier) : 1;
    return (uint64_t)(AXT_HOLD_LIMIT_MS * (scale >= 1 ? scale : 1));
}

/* Whether the far end of fd has closed (or reset) its side, within wait_ms. */
static bool far_end_gone(int fd, int wait_ms)
{
    struct pollfd pfd = {.fd = fd, .events = POLLRDHUP};
    return poll(&pfd, 1, wait_ms) == 1 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* Finishes at its second poll: one turn given back to the executor. */
struct yield {
    struct ax_future base;
    bool yielded;
};

static ax_result yield_poll(struct ax_future *self, struct ax_context *cx)
{
    struct yield *y = (struct yield *)self;
    if (y->yielded)
        return 0;
    y->yielded = true;
    struct ax_waker again = ax_waker_clone(cx);
    ax_wake(&again);
    return AX_PENDING;
}

static const struct ax_future_ops yield_ops = {.poll = yield_poll};

struct server {
    struct ax_future base;
    struct ax_coroutine co;
    struct axt_backend *b;
    struct ax_source *listener, *conn;
    ax_result rc;
    uint64_t give_up_ms; /* real time: when a hold lets go of the clock */
    union {
        struct ax_accept_future accept;
        struct ax_read_future read;
        struct ax_sleep sleep;
        struct ax_write_future write;
        struct yield yield;
        struct ax_event_wait wait;
    } io;
    char buf[4096];
};

/* Keeps what fits of the request; returns whether its "\n" came. */
static bool take_request(struct axt_backend *b, const char *bytes, size_t n)
{
    size_t kept = b->request_len < AXT_BACKEND_SEEN - 1 ? b->request_len : AXT_BACKEND_SEEN - 1;
    size_t room = AXT_BACKEND_SEEN - 1 - kept;
    memcpy(b->request + kept, bytes, n < room ? n : room);
    b->request_len += n;
    return memchr(bytes, '\n', n) != NULL;
}

static ax_result server_poll(struct ax_future *self, struct ax_context *cx)
{
    struct server *s = (struct server *)self;
    struct axt_backend *b = s->b;
    AX_ASYNC_BEGIN(&s->co);
    ax_accept_future_init(&s->io.accept, s->listener);
    AX_AWAIT(&s->co, cx, &s->io.accept.base, s->rc);
    ck_assert_msg(s->rc >= 0, "the backend could not accept: %s", ax_strerror((int)s->rc));
    b->accepted = true;
    b->fd = (int)s->rc;
    ck_assert_int_eq(ax_source_open(cx->executor, b->fd, &s->conn), 0);

    while (!b->request_in) {
        ax_read_future_init(&s->io.read, s->conn, s->buf, sizeof s->buf);
        AX_AWAIT(&s->co, cx, &s->io.read.base, s->rc);
        if (s->rc <= 0)
            goto done; /* the client gave up before its request was in */
        b->request_in = take_request(b, s->buf, (size_t)s->rc);
    }
    b->request_at = ax_executor_now(cx->executor);
    b->timers_at_request = ax_executor_timers(cx->executor);
    if (b->script.reply == NULL && !b->script.hang_up)
        goto done; /* silent: it never answers */

    ax_sleep_until_init(&s->io.sleep, b->script.answer_at);
    AX_AWAIT(&s->co, cx, &s->io.sleep.base, s->rc);
    if (b->script.reply != NULL) {
        ax_write_future_init(&s->io.write, s->conn, b->script.reply, strlen(b->script.reply));
        AX_AWAIT(&s->co, cx, &s->io.write.base, s->rc); /* a client gone: nothing to do */
    }
    if (b->script.hang_up)
        shutdown(b->fd, SHUT_WR);
    b->answered = true;

    /* Time stands still until the client has read the answer and hung up. */
    s->give_up_ms = real_now_ms() + hold_limit_ms();
    while (!far_end_gone(b->fd, 0)) {
        if (real_now_ms() >= s->give_up_ms) {
            fprintf(stderr,
                    "backend on port %u: the client has not hung up %llu ms (real time) after "
                    "the answer; letting the clock go\n",
                    (unsigned)b->port, (unsigned long long)hold_limit_ms());
            break;
        }
        s->io.yield = (struct yield){.base = {&yield_ops}};
        AX_AWAIT(&s->co, cx, &s->io.yield.base, s->rc);
    }
done:
    ax_event_wait_init(&s->io.wait, &b->never);
    AX_AWAIT(&s->co, cx, &s->io.wait.base, s->rc);
    AX_ASYNC_END(&s->co, 0);
}

static void server_drop(struct ax_future *self)
{
    struct server *s = (struct server *)self;
    AX_ASYNC_DROP(&s->co);
    if (s->conn != NULL)
        ax_source_close(s->conn);
    ax_source_close(s->listener);
}

static const struct ax_future_ops server_ops = {.poll = server_poll, .drop = server_drop};

void axt_backend_open(struct axt_backend *b, struct ax_executor *executor,
                      const struct axt_backend_script *script)
{
    *b = (struct axt_backend){.executor = executor, .script = *script, .fd = -1};
    ax_event_init(&b->never);
    b->listen_fd = axt_loopback_listen(AF_INET, 16, &b->port);
    struct server *s = ax_task_alloc(executor, sizeof *s);
    ck_assert_ptr_nonnull(s);
    *s = (struct server){.base = {&server_ops}, .b = b};
    int fd = dup(b->listen_fd); /* the source owns its copy; the test keeps its own */
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ax_source_open(executor, fd, &s->listener), 0);
    ax_task_detach(ax_task_spawn(&s->base));
}

void axt_backend_close(struct axt_backend *b)
{
    close(b->listen_fd);
    b->listen_fd = -1;
}

void axt_backend_expect(struct axt_backend *b, uint64_t from_ns)
{
    axt_hold_clock(b->executor, from_ns, axt_until_true, &b->request_in);
}

bool axt_backend_hung_up(const struct axt_backend *b)
{
    return b->fd >= 0 && far_end_gone(b->fd, PATIENCE_MS);
}

bool axt_backend_contacted(const struct axt_backend *b)
{
    return b->accepted || axt_connection_waiting(b->listen_fd);
}
