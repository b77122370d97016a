/* Challenge 05-challenge-happy-eyeballs: a reference solution.
 *
 * An attempt is a non-blocking socket, its connect() under way, and a waiter on its
 * source for writability, which means the handshake is over; SO_ERROR then says how it
 * went (ax_connect_future does the same for one host name). The state holds one attempt
 * per address, the index of the next address to try, and one sleep: the attempt delay,
 * counted from the last start and armed again at each start. One poll polls every attempt
 * under way and the sleep with the same context, as join_all does, so whichever wakes
 * brings the task back; it goes round while something started, so that each new attempt
 * is polled (and parks the task) before the poll returns. */
#include "happy_eyeballs.h"

#include "ax/nonblock.h"
#include "ax/reactor.h"
#include "ax/timer.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

struct attempt {
    struct ax_source *source; /* NULL: not under way */
    struct ax_source_waiter waiter;
};

struct eyeballs_state {
    const struct happy_eyeballs_address *addrs;
    size_t n;
    uint64_t delay;
    struct ax_source **out;
    uint64_t *started_at;
    size_t next; /* the address of the next attempt */
    size_t running; /* attempts under way */
    ax_result last_error;
    bool waiting; /* `delay_sleep` is armed: an address is left to try */
    struct ax_sleep delay_sleep;
    bool finished;
    struct attempt attempts[];
};

/* Opens a socket for addr and starts connecting: 0 with the attempt under way, or the
 * error that ended it at once. */
static int attempt_open(struct attempt *a, const struct happy_eyeballs_address *addr,
                        struct ax_executor *executor)
{
    int fd = socket(addr->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    bool connected = connect(fd, (const struct sockaddr *)&addr->addr, addr->len) == 0;
    if (!connected && errno != EINPROGRESS && errno != EINTR) {
        int err = -errno;
        close(fd);
        return err;
    }
    int err = ax_source_open(executor, fd, &a->source);
    if (err < 0) {
        close(fd);
        return err;
    }
    if (!connected) /* not writable until the handshake is over */
        ax_source_clear_ready(a->source, AX_WRITABLE);
    ax_source_waiter_init(&a->waiter, a->source);
    return 0;
}

/* 0 once connected, AX_PENDING (the task parked on the socket), or why it failed. */
static ax_result attempt_poll(struct attempt *a, struct ax_context *cx)
{
    ax_result ready = ax_source_poll_ready(&a->waiter, AX_WRITABLE, cx);
    return ready != 0 ? ready : ax_connect_finish(ax_source_fd(a->source));
}

static void attempt_close(struct attempt *a)
{
    ax_source_waiter_drop(&a->waiter);
    ax_source_close(a->source);
    a->source = NULL;
}

/* Starts attempts on the next addresses until one is under way or none is left: an
 * attempt that fails at once lets the next start at once. Then arms the delay for the
 * one after, counted from now. */
static void start_next(struct eyeballs_state *s, struct ax_executor *executor)
{
    uint64_t now = ax_executor_now(executor);
    while (s->next < s->n) {
        size_t i = s->next++;
        if (s->started_at != NULL)
            s->started_at[i] = now;
        int err = attempt_open(&s->attempts[i], &s->addrs[i], executor);
        if (err == 0) {
            s->running++;
            break;
        }
        s->last_error = err;
    }
    if (s->waiting)
        ax_future_drop(&s->delay_sleep.base);
    s->waiting = s->next < s->n;
    if (s->waiting)
        ax_sleep_until_init(&s->delay_sleep, now + s->delay);
}

/* Closes every attempt still under way and disarms the delay: the future has decided. */
static void abandon_all(struct eyeballs_state *s)
{
    for (size_t i = 0; i < s->next; i++)
        if (s->attempts[i].source != NULL)
            attempt_close(&s->attempts[i]);
    if (s->waiting)
        ax_future_drop(&s->delay_sleep.base);
    s->waiting = false;
    s->running = 0;
    s->finished = true;
}

static ax_result eyeballs_poll(struct ax_future *self, struct ax_context *cx)
{
    struct eyeballs_state *s = ((struct happy_eyeballs *)self)->state;
    if (s->finished)
        return -EINVAL; /* polled after it finished */
    if (s->next == 0)
        start_next(s, cx->executor);
    for (;;) {
        size_t started = s->next;
        for (size_t i = 0; i < started; i++) {
            struct attempt *a = &s->attempts[i];
            if (a->source == NULL)
                continue;
            ax_result rc = attempt_poll(a, cx);
            if (rc == AX_PENDING)
                continue;
            if (rc == 0) { /* the winner: its socket is the caller's, the rest go */
                *s->out = a->source;
                ax_source_waiter_drop(&a->waiter);
                a->source = NULL;
                abandon_all(s);
                return (ax_result)i;
            }
            attempt_close(a);
            s->running--;
            s->last_error = rc;
            start_next(s, cx->executor); /* a failure does not wait for the delay */
        }
        if (s->waiting && ax_poll(&s->delay_sleep.base, cx) != AX_PENDING)
            start_next(s, cx->executor);
        if (s->next != started)
            continue; /* poll what just started, and the delay it armed */
        if (s->running > 0)
            return AX_PENDING;
        abandon_all(s); /* nothing under way, nothing left: every attempt failed */
        return s->last_error;
    }
}

static void eyeballs_drop(struct ax_future *self)
{
    struct happy_eyeballs *he = (struct happy_eyeballs *)self;
    struct eyeballs_state *s = he->state;
    if (s == NULL)
        return;
    if (!s->finished)
        abandon_all(s);
    free(s);
    he->state = NULL;
}

static const struct ax_future_ops eyeballs_ops = {.poll = eyeballs_poll, .drop = eyeballs_drop};

int happy_eyeballs_init(struct happy_eyeballs *he, const struct happy_eyeballs_address *addrs,
                        size_t n, uint64_t attempt_delay_ns, struct ax_source **out,
                        uint64_t *started_at)
{
    *he = (struct happy_eyeballs){.base = {&eyeballs_ops}};
    if (addrs == NULL || n == 0 || out == NULL)
        return -EINVAL;
    if (n > (SIZE_MAX - sizeof(struct eyeballs_state)) / sizeof(struct attempt))
        return -ENOMEM;
    struct eyeballs_state *s = calloc(1, sizeof *s + n * sizeof(struct attempt));
    if (s == NULL)
        return -ENOMEM;
    *s = (struct eyeballs_state){
        .addrs = addrs,
        .n = n,
        .delay = attempt_delay_ns != 0 ? attempt_delay_ns : HAPPY_EYEBALLS_DELAY_NS,
        .out = out,
        .started_at = started_at,
    };
    if (started_at != NULL)
        for (size_t i = 0; i < n; i++)
            started_at[i] = HAPPY_EYEBALLS_NEVER;
    he->state = s;
    return 0;
}
