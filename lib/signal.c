//@ 06
/*
 * Signals into the loop, and the shutdown rule; the rules are in ax/signal.h.
 *
 * Both mechanisms end in one readable descriptor, opened as an ordinary I/O source, so
 * a signal wait is a read future and nothing else: the reactor needs no special case.
 * What is process-wide (which signals are owned, and for the self-pipe, where each
 * signal's handler writes) lives in two static tables, touched only by open and close
 * on the loop's thread, and read by the handler.
 */
#include "ax/signal.h"
#include "ax/error.h"
#include "ax/source.h"
#include "ax/task.h"
#include "ax/timer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/signalfd.h>
_Static_assert(sizeof(struct signalfd_siginfo) == sizeof(((struct ax_signal_wait *)0)->record.info),
               "a signal wait reads one signalfd record");
#endif

static sigset_t owned; /* every signal some struct ax_signals holds (rule 1) */
static bool owned_ready;

/* For the self-pipe handler: the write end for each signal, -1 when none. An int is
 * read whole by the handler; it is set before the handler is installed and cleared
 * after it is removed, so the handler never sees a descriptor being closed. */
static volatile sig_atomic_t pipe_for[NSIG];

// snippet signal-handler
/* The self-pipe's handler. It may call only async-signal-safe functions: write is one.
 * It keeps errno, which the code it interrupted may be about to read, and ignores a
 * full pipe: the bytes already there will wake the loop. */
static void write_to_pipe(int signo)
{
    int saved = errno;
    unsigned char byte = (unsigned char)signo;
    ssize_t written = write((int)pipe_for[signo], &byte, 1);
    (void)written;
    errno = saved;
}
// end snippet

static int check_signals(const int *signos, size_t n, sigset_t *set)
{
    if (!owned_ready) {
        sigemptyset(&owned);
        for (int s = 0; s < NSIG; s++)
            pipe_for[s] = -1;
        owned_ready = true;
    }
    if (n == 0 || n > AX_SIGNALS_MAX)
        return -EINVAL;
    sigemptyset(set);
    for (size_t i = 0; i < n; i++) {
        int signo = signos[i];
        if (signo <= 0 || signo >= NSIG || signo == SIGKILL || signo == SIGSTOP)
            return -EINVAL;
        if (sigismember(&owned, signo) == 1)
            return -EBUSY;
        sigaddset(set, signo);
    }
    return 0;
}

#ifdef __linux__
// snippet signals-open-signalfd
/* Block the signals, so the kernel keeps them pending instead of running a handler,
 * and read them from a signalfd. Remember which ones were not blocked before: close
 * unblocks those and only those. */
static int open_signalfd(struct ax_signals *signals, struct ax_executor *executor)
{
    sigset_t before;
    int err = -pthread_sigmask(SIG_BLOCK, &signals->set, &before);
    if (err < 0)
        return err;
    sigemptyset(&signals->unblock);
    for (size_t i = 0; i < signals->count; i++)
        if (sigismember(&before, signals->signos[i]) == 0)
            sigaddset(&signals->unblock, signals->signos[i]);
    int fd = signalfd(-1, &signals->set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        err = ax__errno();
    else if ((err = ax_source_open(executor, fd, &signals->source)) < 0)
        close(fd);
    if (err < 0)
        pthread_sigmask(SIG_UNBLOCK, &signals->unblock, NULL);
    return err;
}
// end snippet

/* Reads away what is pending, so unblocking cannot deliver it to the old action. */
static void discard_pending(int fd)
{
    struct signalfd_siginfo info;
    while (read(fd, &info, sizeof info) == (ssize_t)sizeof info)
        continue;
}
#endif

static void restore_handlers(struct ax_signals *signals, size_t installed)
{
    for (size_t i = 0; i < installed; i++) {
        sigaction(signals->signos[i], &signals->old_actions[i], NULL);
        pipe_for[signals->signos[i]] = -1;
    }
}

/* Install a handler per signal that writes its number to a pipe the loop reads. */
static int open_self_pipe(struct ax_signals *signals, struct ax_executor *executor)
{
    int fds[2];
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0)
        return ax__errno();
    int err = ax_source_open(executor, fds[0], &signals->source);
    if (err < 0) {
        close(fds[0]);
        close(fds[1]);
        return err;
    }
    signals->write_fd = fds[1];
    struct sigaction action = {.sa_handler = write_to_pipe, .sa_flags = SA_RESTART};
    sigfillset(&action.sa_mask); /* one handler at a time: no handler interrupts another */
    for (size_t i = 0; i < signals->count; i++) {
        pipe_for[signals->signos[i]] = fds[1];
        if (sigaction(signals->signos[i], &action, &signals->old_actions[i]) < 0) {
            err = ax__errno();
            pipe_for[signals->signos[i]] = -1;
            restore_handlers(signals, i);
            ax_source_close(signals->source);
            close(fds[1]);
            return err;
        }
    }
    return 0;
}

int ax_signals_open(struct ax_signals *signals, struct ax_executor *executor, const int *signos,
                    size_t n, unsigned flags)
{
    *signals = (struct ax_signals){.write_fd = -1, .count = n};
    int err = check_signals(signos, n, &signals->set);
    if (err < 0)
        return err;
    memcpy(signals->signos, signos, n * sizeof *signos);
#ifdef __linux__
    if (!(flags & AX_SIGNALS_SELF_PIPE))
        err = open_signalfd(signals, executor);
    else
#endif
        err = open_self_pipe(signals, executor);
    (void)flags;
    if (err < 0) {
        *signals = (struct ax_signals){.write_fd = -1};
        return err;
    }
    for (size_t i = 0; i < n; i++)
        sigaddset(&owned, signos[i]);
    return 0;
}

void ax_signals_close(struct ax_signals *signals)
{
    if (signals->source == NULL)
        return;
    if (ax_signals_self_pipe(signals)) {
        restore_handlers(signals, signals->count);
        close(signals->write_fd); /* no handler writes to it any more */
    } else {
#ifdef __linux__
        discard_pending(ax_source_fd(signals->source));
        pthread_sigmask(SIG_UNBLOCK, &signals->unblock, NULL);
#endif
    }
    ax_source_close(signals->source);
    for (size_t i = 0; i < signals->count; i++)
        sigdelset(&owned, signals->signos[i]);
    signals->source = NULL;
    signals->write_fd = -1;
}

// snippet signal-wait
/* A signal is one record on the descriptor: a byte from the pipe, or signalfd's struct.
 * The wait is a read of exactly one record; the record's signal is its result. */
static ax_result signal_wait_poll(struct ax_future *self, struct ax_context *cx)
{
    struct ax_signal_wait *wait = (struct ax_signal_wait *)self;
    ax_result got = ax_poll(&wait->read.base, cx);
    if (got < 0) /* AX_PENDING, or the source's error */
        return got;
    if (got != (ax_result)wait->read.len)
        return got == 0 ? -EBADF : -EIO; /* the records are never cut short */
    if (wait->self_pipe)
        return wait->record.byte;
#ifdef __linux__
    struct signalfd_siginfo info;
    memcpy(&info, wait->record.info, sizeof info);
    return info.ssi_signo;
#else
    return -EIO;
#endif
}
// end snippet

static void signal_wait_drop(struct ax_future *self)
{
    ax_future_drop(&((struct ax_signal_wait *)self)->read.base);
}

static const struct ax_future_ops signal_wait_ops = {.poll = signal_wait_poll,
                                                     .drop = signal_wait_drop};

void ax_signal_wait_init(struct ax_signal_wait *wait, struct ax_signals *signals)
{
    *wait = (struct ax_signal_wait){.base = {&signal_wait_ops},
                                    .self_pipe = ax_signals_self_pipe(signals)};
    size_t len = wait->self_pipe ? sizeof wait->record.byte : sizeof wait->record.info;
    ax_read_future_init(&wait->read, signals->source, &wait->record, len);
}

const char *ax_signal_name(int signo)
{
    static const struct {
        int signo;
        const char *name;
    } names[] = {
        {SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},     {SIGQUIT, "SIGQUIT"}, {SIGILL, "SIGILL"},
        {SIGTRAP, "SIGTRAP"}, {SIGABRT, "SIGABRT"},   {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},
        {SIGKILL, "SIGKILL"}, {SIGUSR1, "SIGUSR1"},   {SIGSEGV, "SIGSEGV"}, {SIGUSR2, "SIGUSR2"},
        {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"},   {SIGTERM, "SIGTERM"}, {SIGCHLD, "SIGCHLD"},
        {SIGCONT, "SIGCONT"}, {SIGSTOP, "SIGSTOP"},   {SIGTSTP, "SIGTSTP"}, {SIGTTIN, "SIGTTIN"},
        {SIGTTOU, "SIGTTOU"}, {SIGURG, "SIGURG"},     {SIGXCPU, "SIGXCPU"}, {SIGXFSZ, "SIGXFSZ"},
        {SIGPROF, "SIGPROF"}, {SIGWINCH, "SIGWINCH"}, {SIGSYS, "SIGSYS"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].signo == signo)
            return names[i].name;
    return "unknown signal";
}

/* ---- shutdown -------------------------------------------------------------------- */

// snippet shutdown-rule
int ax_shutdown_signal(struct ax_shutdown *shutdown, int signo)
{
    if (shutdown->signo == 0) {
        shutdown->signo = signo;
        shutdown->deadline_ns = ax_executor_now(shutdown->executor) + shutdown->grace_ns;
        ax_cancel(shutdown->stop); /* runs no user code: the tasks it wakes run later */
        return 0;
    }
    /* The second one: whoever sent it will not wait for the grace period. */
    fprintf(stderr, "%s again during shutdown: exiting now\n", ax_signal_name(signo));
    _exit(128 + signo);
}
// end snippet

/* The watcher: waits for each signal in turn and applies the rule to it. */
struct watcher {
    struct ax_future base;
    struct ax_shutdown *shutdown;
    struct ax_signal_wait wait;
    bool waiting;
};

static ax_result watcher_poll(struct ax_future *self, struct ax_context *cx)
{
    struct watcher *w = (struct watcher *)self;
    for (;;) {
        if (!w->waiting)
            ax_signal_wait_init(&w->wait, &w->shutdown->signals);
        w->waiting = true;
        ax_result signo = ax_poll(&w->wait.base, cx);
        if (signo == AX_PENDING)
            return AX_PENDING;
        ax_future_drop(&w->wait.base);
        w->waiting = false;
        if (signo < 0)
            return signo; /* the signals were closed under it */
        ax_shutdown_signal(w->shutdown, (int)signo);
    }
}

static void watcher_drop(struct ax_future *self)
{
    struct watcher *w = (struct watcher *)self;
    if (w->waiting)
        ax_future_drop(&w->wait.base);
}

static const struct ax_future_ops watcher_ops = {.poll = watcher_poll, .drop = watcher_drop};

int ax_shutdown_start(struct ax_shutdown *shutdown, struct ax_executor *executor, uint64_t grace_ns,
                      unsigned flags)
{
    *shutdown = (struct ax_shutdown){.executor = executor, .grace_ns = grace_ns};
    static const int signos[] = {SIGINT, SIGTERM};
    int err = ax_cancel_new(&shutdown->stop);
    if (err < 0)
        return err;
    err = ax_signals_open(&shutdown->signals, executor, signos, 2, flags);
    struct watcher *w = err < 0 ? NULL : ax_task_alloc(executor, sizeof *w);
    if (w == NULL) {
        if (err == 0)
            ax_signals_close(&shutdown->signals);
        ax_cancel_release(shutdown->stop);
        *shutdown = (struct ax_shutdown){0};
        return err < 0 ? err : -ENOMEM;
    }
    *w = (struct watcher){.base = {&watcher_ops}, .shutdown = shutdown};
    shutdown->watcher = ax_task_spawn(&w->base);
    return 0;
}

void ax_shutdown_stop(struct ax_shutdown *shutdown)
{
    if (shutdown->watcher != NULL) {
        ax_task_abort(shutdown->watcher); /* parked on the signals: dropped at once */
        ax_task_detach(shutdown->watcher);
        shutdown->watcher = NULL;
    }
    ax_signals_close(&shutdown->signals);
    if (shutdown->stop != NULL)
        ax_cancel_release(shutdown->stop);
    shutdown->stop = NULL;
}
