//@ 06
/*
 * Signals into the loop, and the shutdown rule built on them.
 *
 * A signal handler runs in the middle of whatever the thread was doing, so it may call
 * only async-signal-safe functions: not malloc, not printf, and not ax_cancel, which
 * wakes tasks and touches lists. So a signal is turned into an I/O event first, and the
 * loop acts on it like on any other readiness. Two ways to do that, behind one API:
 *
 *   signalfd (Linux, the default)  The signals are blocked (pthread_sigmask), so none is
 *                                  ever delivered to a handler; the kernel queues them
 *                                  and a signalfd reports them as readable records.
 *                                  No handler runs at all.
 *   the self-pipe trick            (AX_SIGNALS_SELF_PIPE, and everywhere but Linux) A
 *                                  handler writes the signal's number, one byte, to a
 *                                  non-blocking pipe whose other end the loop reads. It
 *                                  keeps errno as it found it, and a full pipe drops
 *                                  the byte: the signals already in it say enough.
 *
 * The two differ in one way a program may notice: a standard signal raised twice before
 * the loop reads it is one pending signal for signalfd (the kernel keeps a bit per
 * signal), and two bytes in the pipe.
 *
 * The rules, which the tests check:
 *  1. A signal is owned by one struct ax_signals at a time: opening one that another
 *     holds fails with -EBUSY. SIGKILL and SIGSTOP cannot be caught: -EINVAL.
 *  2. ax_signals_close puts back exactly what open changed: the signal mask (signalfd;
 *     a signal that was blocked before stays blocked) or the handlers (self-pipe).
 *     Signals that arrived and were not waited for are discarded with it, so closing
 *     never lets a stale SIGTERM through to the default action.
 *  3. The mask is per thread. Open before starting threads (they inherit it), or the
 *     kernel may deliver a blocked signal's process-wide copy to a thread that did not
 *     block it.
 *
 * Shutdown (struct ax_shutdown) is the rule a server wants for SIGINT and SIGTERM: the
 * first one cancels a root token, `stop`, and starts a grace period; whatever watches
 * `stop` stops taking new work, and what is in flight gets until the deadline to finish.
 * A second signal means the operator will not wait: the process exits at once, with
 * status 128 + the signal's number, the shell's convention for "killed by it".
 */
#ifndef AX_SIGNAL_H
#define AX_SIGNAL_H

#include "ax/cancel.h"
#include "ax/future.h"
#include "ax/io.h"

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ax_executor;
struct ax_source;
struct ax_task;

/* ax_signals_open's flags: the self-pipe trick even where signalfd exists. */
#define AX_SIGNALS_SELF_PIPE 1u

/* The most signals one struct ax_signals can hold. */
#define AX_SIGNALS_MAX 8

struct ax_signals {
    struct ax_source *source; /* the signalfd, or the pipe's read end; NULL once closed */
    int write_fd; /* the pipe's write end, which the handler uses; -1 for signalfd */
    sigset_t set; /* the signals owned */
    sigset_t unblock; /* signalfd: those open blocked, which close unblocks again */
    int signos[AX_SIGNALS_MAX];
    struct sigaction old_actions[AX_SIGNALS_MAX]; /* self-pipe: the handlers replaced */
    size_t count;
};

/* Takes the n signals in signos[] for the loop of executor. 0, or -EINVAL (n is 0 or
 * above AX_SIGNALS_MAX, or a signal is invalid or uncatchable), -EBUSY (rule 1), or
 * what the system calls said. On failure nothing has changed. */
int ax_signals_open(struct ax_signals *signals, struct ax_executor *executor, const int *signos,
                    size_t n, unsigned flags);

/* Gives the signals back (rule 2). A wait still pending finishes with -EBADF. */
void ax_signals_close(struct ax_signals *signals);

/* True when the signals arrive through the self-pipe, not a signalfd. */
static inline bool ax_signals_self_pipe(const struct ax_signals *signals)
{
    return signals->write_fd >= 0;
}

/* A future that finishes with the number of the next signal to arrive, or -errno. One
 * wait at a time per struct ax_signals (a second one gets -EBUSY). Dropped before a
 * signal came, it takes nothing: the signal stays for the next wait. */
struct ax_signal_wait {
    struct ax_future base;
    struct ax_read_future read;
    bool self_pipe;
    union {
        unsigned char byte; /* the self-pipe's record: the signal's number */
        char info[128]; /* signalfd's record, struct signalfd_siginfo */
    } record;
};

void ax_signal_wait_init(struct ax_signal_wait *wait, struct ax_signals *signals);

/* "SIGTERM" for SIGTERM; "unknown signal" for a number that names none. */
const char *ax_signal_name(int signo);

/*
 * The shutdown rule for SIGINT and SIGTERM. Start it before the program's work, hand
 * `stop` (or children of it) to that work, and stop it once the work is done:
 *
 *     ax_shutdown_start(&shutdown, executor, 5 * AX_NS_PER_S, 0);
 *     ... tasks watch shutdown.stop; at its cancel, they wind down by
 *         ax_shutdown_deadline(&shutdown) ...
 *     ax_shutdown_stop(&shutdown);
 *
 * Starting spawns a small task that waits for the signals and applies
 * ax_shutdown_signal to each; it parks on the signals' source, so it never keeps the
 * executor busy, but ax_executor_run will not return while it is there: run the
 * program's own task with ax_block_on.
 */
struct ax_shutdown {
    struct ax_signals signals;
    struct ax_cancel_token *stop; /* a root token, cancelled by the first signal */
    struct ax_executor *executor;
    struct ax_task *watcher; /* the task that waits for the signals */
    uint64_t grace_ns;
    uint64_t deadline_ns; /* the executor's time when the grace ends; 0 before */
    int signo; /* the first signal; 0 before it */
};

/* Takes SIGINT and SIGTERM (flags as for ax_signals_open) and starts the watcher.
 * 0 or -errno; on failure nothing is left to stop. */
int ax_shutdown_start(struct ax_shutdown *shutdown, struct ax_executor *executor, uint64_t grace_ns,
                      unsigned flags);

/* What a signal does; the watcher calls it, and a program may too (a shutdown asked
 * for by a command, say). The first call cancels `stop` and sets the deadline, and
 * returns 0; any later one writes a line to standard error and exits the process at
 * once with status 128 + signo (without running atexit handlers: the operator asked
 * for an exit that does not wait). */
int ax_shutdown_signal(struct ax_shutdown *shutdown, int signo);

/* The executor's time at which the grace period ends; 0 while no signal has come. */
static inline uint64_t ax_shutdown_deadline(const struct ax_shutdown *shutdown)
{
    return shutdown->deadline_ns;
}

/* Stops the watcher, gives the signals back and releases `stop` (take a reference,
 * ax_cancel_ref, to keep it longer). Call it before freeing the executor. */
void ax_shutdown_stop(struct ax_shutdown *shutdown);

#endif
