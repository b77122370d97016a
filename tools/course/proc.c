/*
 * proc: fork, exec and capture (see proc.h).
 *
 * The parent reads the pipe with poll() so that it can give up at a deadline; it
 * reads until end of file, which arrives when every process holding the pipe's
 * write end has exited, then reaps the child.
 */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Keep at most this much output: a test that prints in a loop must not eat memory. */
#define CAPTURE_LIMIT (4u << 20)

/* The process group of the child being run, or 0; read by signal handlers. */
static volatile sig_atomic_t running_group;

static void (*signal_cleanup)(void);

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* In the child, after fork: wire up stdin/stdout/stderr and exec. Never returns. */
static void exec_child(char *const argv[], char *const env[], int flags, int out_fd)
{
    setpgid(0, 0);

    /* The parent may be ignoring or catching signals; the child starts afresh. */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);

    int null_fd = open("/dev/null", O_RDWR);
    if (null_fd >= 0)
        dup2(null_fd, STDIN_FILENO);
    dup2(out_fd, STDOUT_FILENO);
    if ((flags & COURSE_CAPTURE_STDOUT_ONLY) && null_fd >= 0)
        dup2(null_fd, STDERR_FILENO);
    else
        dup2(out_fd, STDERR_FILENO);
    if (null_fd > STDERR_FILENO)
        close(null_fd);
    if (out_fd > STDERR_FILENO)
        close(out_fd);

    for (size_t i = 0; env && env[i]; i++) {
        if (strchr(env[i], '='))
            putenv(env[i]);
        else
            unsetenv(env[i]);
    }

    execvp(argv[0], argv);
    int err = errno;
    dprintf(STDERR_FILENO, "cannot run %s: %s\n", argv[0], strerror(err));
    _exit(err == ENOENT ? 127 : 126);
}

/* Appends what is readable on fd to out. Returns bytes read, 0 at EOF, -errno. */
static ssize_t read_some(int fd, FILE *mem, struct course_capture *out, size_t *kept)
{
    char buf[8192];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0)
        return errno == EINTR || errno == EAGAIN ? 1 : -errno;
    size_t room = *kept < CAPTURE_LIMIT ? CAPTURE_LIMIT - *kept : 0;
    size_t keep = (size_t)n < room ? (size_t)n : room;
    fwrite(buf, 1, keep, mem);
    *kept += keep;
    if (keep < (size_t)n)
        out->truncated = true;
    return n;
}

int course_capture_run(char *const argv[], char *const env[], int timeout_ms, int flags,
                       struct course_capture *out)
{
    *out = (struct course_capture){0};

    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return -errno;

    fflush(NULL); /* so buffered output is not written twice, once by each process */
    pid_t pid = fork();
    if (pid < 0) {
        int err = errno;
        close(pipefd[0]);
        close(pipefd[1]);
        return -err;
    }
    if (pid == 0) {
        close(pipefd[0]);
        exec_child(argv, env, flags, pipefd[1]);
    }
    setpgid(pid, pid); /* also here, so no signal can slip in before the child does it */
    running_group = pid;
    close(pipefd[1]);

    FILE *mem = open_memstream(&out->text, &out->len);
    size_t kept = 0;
    long long deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
    for (;;) {
        int wait_ms = -1;
        if (deadline) {
            long long left = deadline - now_ms();
            if (left <= 0) {
                kill(-pid, SIGKILL);
                out->timed_out = true;
                break;
            }
            wait_ms = (int)left;
        }
        struct pollfd pfd = {.fd = pipefd[0], .events = POLLIN};
        int ready = poll(&pfd, 1, wait_ms);
        if (ready < 0 && errno != EINTR)
            break;
        if (ready <= 0)
            continue;
        ssize_t n = mem ? read_some(pipefd[0], mem, out, &kept) : 0;
        if (n <= 0)
            break;
    }
    close(pipefd[0]);

    while (waitpid(pid, &out->status, 0) < 0 && errno == EINTR)
        ;
    running_group = 0;

    if (!mem || fclose(mem) != 0) {
        course_capture_free(out);
        return -ENOMEM;
    }
    return 0;
}

void course_capture_free(struct course_capture *c)
{
    free(c->text);
    *c = (struct course_capture){0};
}

void course_describe_status(int status, char *buf, size_t len)
{
    if (WIFEXITED(status))
        snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(buf, len, "wait status %#x", (unsigned)status);
}

void course_proc_forward_signal(int sig)
{
    pid_t group = running_group;
    if (group > 0)
        kill(-group, sig);
}

static void on_signal(int sig)
{
    course_proc_forward_signal(sig);
    if (signal_cleanup)
        signal_cleanup();
    signal(sig, SIG_DFL);
    raise(sig);
}

void course_proc_handle_signals(void (*cleanup)(void))
{
    signal_cleanup = cleanup;
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}
