//@ 04
/*
 * I/O sources; the rules are in ax/source.h.
 *
 * The reactor calls on_ready with the source as its data. Each waiter the readiness
 * concerns is woken and unlinked, but keeps its waker: a task that waits on the same
 * socket again and again (an echo connection) clones its waker once per future, not
 * once per wait.
 *
 * The executor counts the waiters linked into sources and the sources registered for
 * good, so that it can still tell a deadlock: a registered source that nobody waits on
 * can wake nobody.
 */
#include "ax/source.h"
#include "ax/error.h"
#include "ax/nonblock.h"
#include "ax/reactor.h"
#include "ax/task.h"
#include "executor.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>

static struct ax_source_waiter **slot(struct ax_source *source, int direction)
{
    return direction == AX_READABLE ? &source->reader : &source->writer;
}

static void on_ready(struct ax_reactor *reactor, int fd, int events, void *data);

/* Level-triggered backends: watch exactly the directions somebody waits for, or a
 * ready fd nobody reads would be reported on every pass. */
static int follow_waiters(struct ax_source *source)
{
    if (source->edge || source->fd < 0)
        return 0;
    int events = (source->reader ? AX_READABLE : 0) | (source->writer ? AX_WRITABLE : 0);
    return ax_reactor_watch(source->executor->reactor, source->fd, events, on_ready, source);
}

static void link_waiter(struct ax_source *source, struct ax_source_waiter **slot_,
                        struct ax_source_waiter *waiter)
{
    if (*slot_ == NULL)
        source->executor->io_waiters++;
    *slot_ = waiter;
}

static void unlink_waiter(struct ax_source *source, struct ax_source_waiter **slot_)
{
    if (*slot_ != NULL)
        source->executor->io_waiters--;
    *slot_ = NULL;
}

static void unref(struct ax_source *source)
{
    if (--source->refs == 0)
        free(source);
}

/* Stream sockets and pipes hand a reader everything queued, up to what it asked for;
 * datagram sockets hand over one message, ttys one line. */
static bool short_read_drains(int fd)
{
    int type = 0;
    socklen_t len = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0)
        return type == SOCK_STREAM;
    struct stat st;
    return errno == ENOTSOCK && fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

// snippet source-open
int ax_source_open(struct ax_executor *executor, int fd, struct ax_source **out)
{
    int err = ax_set_nonblocking(fd, true);
    if (err < 0)
        return err;
    struct ax_source *source = malloc(sizeof *source);
    if (source == NULL)
        return -ENOMEM;
    *source = (struct ax_source){
        .executor = executor,
        .fd = fd,
        .ready = AX_READABLE | AX_WRITABLE, /* until a call says otherwise: try first */
        .edge = true,
        .short_read_drains = short_read_drains(fd),
        .refs = 1,
    };
    /* Once, for good: both directions, reported as they arrive. */
    err = ax_reactor_watch(executor->reactor, fd, AX_READABLE | AX_WRITABLE | AX_EDGE, on_ready,
                           source);
    if (err == -EOPNOTSUPP) { /* select, poll: no edges; watch while someone waits */
        source->edge = false;
        err = 0;
    }
    if (err < 0) {
        free(source);
        return err;
    }
    executor->edge_sources += source->edge;
    *out = source;
    return 0;
}
// end snippet

/* Wakes the waiter in `direction`, if any, and unlinks it; it keeps its waker. */
static void wake(struct ax_source *source, int direction)
{
    struct ax_source_waiter **waiting = slot(source, direction);
    if (*waiting != NULL) {
        ax_waker_wake(&(*waiting)->waker);
        unlink_waiter(source, waiting);
    }
}

// snippet source-on-ready
static void on_ready(struct ax_reactor *reactor, int fd, int events, void *data)
{
    (void)reactor, (void)fd;
    struct ax_source *source = data;
    if (events & (AX_HANGUP | AX_ERROR)) /* both calls will now say so: let both try */
        events |= AX_READABLE | AX_WRITABLE;
    if (events & (AX_HANGUP | AX_READ_CLOSED))
        source->read_closed = true; /* no short read may clear `ready` from now on */
    source->ready |= (uint8_t)(events & (AX_READABLE | AX_WRITABLE));
    if (events & AX_READABLE)
        wake(source, AX_READABLE);
    if (events & AX_WRITABLE)
        wake(source, AX_WRITABLE);
    follow_waiters(source);
}
// end snippet

void ax_source_close(struct ax_source *source)
{
    if (source->fd >= 0) {
        ax_reactor_close(source->executor->reactor, source->fd);
        source->executor->edge_sources -= source->edge;
        source->fd = -1;
    }
    wake(source, AX_READABLE); /* each finds the source closed: -EBADF */
    wake(source, AX_WRITABLE);
    unref(source);
}

void ax_source_waiter_init(struct ax_source_waiter *waiter, struct ax_source *source)
{
    source->refs++;
    *waiter = (struct ax_source_waiter){.source = source};
}

// snippet source-poll-ready
ax_result ax_source_poll_ready(struct ax_source_waiter *waiter, int direction,
                               struct ax_context *cx)
{
    struct ax_source *source = waiter->source;
    if (source->fd < 0)
        return -EBADF; /* closed, perhaps while we waited */
    if (source->ready & direction)
        return ax_coop_proceed(cx) ? 0 : AX_PENDING;

    struct ax_source_waiter **waiting = slot(source, direction);
    if (*waiting != NULL && *waiting != waiter && !ax_waker_wakes(&(*waiting)->waker, cx))
        return -EBUSY; /* another task already waits this way */
    if (!ax_waker_wakes(&waiter->waker, cx)) {
        ax_waker_drop(&waiter->waker);
        waiter->waker = ax_waker_clone(cx);
    }
    link_waiter(source, waiting, waiter);
    int err = follow_waiters(source);
    if (err < 0) {
        unlink_waiter(source, waiting);
        return err;
    }
    return AX_PENDING;
}
// end snippet

void ax_source_waiter_drop(struct ax_source_waiter *waiter)
{
    struct ax_source *source = waiter->source;
    if (source == NULL)
        return;
    if (source->reader == waiter || source->writer == waiter) {
        unlink_waiter(source, source->reader == waiter ? &source->reader : &source->writer);
        follow_waiters(source);
    }
    ax_waker_drop(&waiter->waker);
    waiter->source = NULL;
    unref(source);
}
