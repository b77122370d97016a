//@ 02
/* Demo servers run by tests; see demo.h. */
#include "demo.h"
#include "ax/clock.h"
#include "ax/error.h"
#include "ax/net.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t axt_demo_spawn(const char *name, const char *const args[], int nofile, int *out_fd,
                     int *err_fd)
{
    char self[4096], path[4200], limit[160];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    ck_assert_msg(len > 0, "cannot read /proc/self/exe");
    self[len] = '\0';
    snprintf(path, sizeof path, "%s/../bin/%s", dirname(dirname(self)), name);
    ck_assert_msg(access(path, X_OK) == 0, "%s is missing: run `make` first", path);

    char *argv[24] = {path};
    int argc = 1;
    if (nofile > 0) {
        snprintf(limit, sizeof limit,
                 "ulimit -n %d || { echo \"cannot set the fd limit to %d\" >&2; exit 126; }; "
                 "exec \"$0\" \"$@\"",
                 nofile, nofile);
        argv[0] = "/bin/sh", argv[1] = "-c", argv[2] = limit, argv[3] = path;
        argc = 4;
    }
    for (int i = 0; args != NULL && args[i] != NULL && argc < 23; i++)
        argv[argc++] = (char *)args[i];

    int out[2], err[2] = {-1, -1};
    ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
    if (err_fd != NULL)
        ck_assert_int_eq(pipe2(err, O_CLOEXEC), 0);
    pid_t parent = getpid();
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        dup2(out[1], STDOUT_FILENO);
        if (err_fd != NULL)
            dup2(err[1], STDERR_FILENO);
        if (getenv("AX_LOG") == NULL)
            setenv("AX_LOG", "error", 1); /* the expected warnings stay quiet */
        execv(argv[0], argv);
        _exit(127);
    }
    close(out[1]);
    *out_fd = out[0];
    if (err_fd != NULL) {
        close(err[1]);
        *err_fd = err[0];
    }
    return pid;
}

void axt_demo_start(struct axt_demo *demo, const char *name, const char *const args[], int nofile)
{
    const char *argv[20] = {"--port", "0"};
    for (int i = 0; args != NULL && args[i] != NULL && i < 17; i++)
        argv[2 + i] = args[i];
    int out;
    demo->pid = axt_demo_spawn(name, argv, nofile, &out, NULL);
    char line[128] = "";
    size_t len = 0;
    while (len < sizeof line - 1 && memchr(line, '\n', len) == NULL &&
           axt_read_within(out, line + len, 1, AXT_PROMPT_MS) == 1)
        len++;
    line[len] = '\0';
    close(out);
    ck_assert_msg(sscanf(line, "listening on 127.0.0.1:%hu", &demo->port) == 1,
                  "%s's first line was '%s', expected 'listening on 127.0.0.1:PORT'", name, line);
}

bool axt_demo_alive(const struct axt_demo *demo)
{
    return waitpid(demo->pid, NULL, WNOHANG) == 0;
}

void axt_demo_stop(struct axt_demo *demo)
{
    ck_assert_msg(axt_demo_alive(demo), "the demo server exited during the test");
    kill(demo->pid, SIGTERM);
    waitpid(demo->pid, NULL, 0);
}

int axt_demo_connect(const struct axt_demo *demo)
{
    int fd = ax_connect("127.0.0.1", demo->port);
    ck_assert_msg(fd >= 0, "connect: %s", ax_strerror(fd));
    return fd;
}

long axt_cpu_ms(pid_t pid)
{
    char path[64], text[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    char *p = strrchr(text, ')'); /* the command name may hold spaces */
    ck_assert_ptr_nonnull(p);
    long utime, stime;
    ck_assert_int_eq(
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &utime, &stime), 2);
    return (utime + stime) * 1000 / sysconf(_SC_CLK_TCK);
}

int axt_fill_to_fd_limit_without_spinning(struct axt_demo *demo, int fds[], int max, int *count)
{
    enum { WAIT_MS = 300, IDLE_MS = 600 };
    int stalled = -1;
    *count = 0;
    while (*count < max && stalled < 0) {
        fds[*count] = axt_demo_connect(demo); /* the kernel queues it either way */
        if (!axt_echoes_within(fds[*count], "x\n", WAIT_MS))
            stalled = *count;
        (*count)++;
    }
    ck_assert_msg(stalled > 0, "with a limit of 16 descriptors the server %s",
                  stalled == 0 ? "served nobody" : "never ran out");

    long before = axt_cpu_ms(demo->pid);
    ax_sleep_ns(IDLE_MS * AX_NS_PER_MS);
    long used_ms = axt_cpu_ms(demo->pid) - before;
    ck_assert_msg(used_ms < IDLE_MS / 2,
                  "out of descriptors with nothing to do, the server used %ld ms of CPU in %d "
                  "ms: it is retrying accept in a busy loop",
                  used_ms, IDLE_MS);
    return stalled;
}

size_t axt_read_within(int fd, void *buf, size_t n, int ms)
{
    size_t got = 0;
    uint64_t deadline = ax_now_ns() + (uint64_t)ms * AX_NS_PER_MS;
    while (got < n) {
        uint64_t now = ax_now_ns();
        if (now >= deadline)
            break;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int ready = poll(&pfd, 1, (int)((deadline - now) / AX_NS_PER_MS) + 1);
        if (ready <= 0)
            continue; /* EINTR, or the deadline: the loop's test decides */
        ssize_t r = recv(fd, (char *)buf + got, n - got, MSG_DONTWAIT);
        if (r < 0 && errno == ENOTSOCK)
            r = read(fd, (char *)buf + got, n - got); /* a pipe: the demo's output */
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

bool axt_echoes_within(int fd, const char *msg, int ms)
{
    size_t len = strlen(msg);
    char back[256];
    ck_assert_uint_lt(len, sizeof back);
    ck_assert_int_eq(ax_write_all(fd, msg, len), 0);
    return axt_read_within(fd, back, len, ms) == len && memcmp(back, msg, len) == 0;
}

void axt_assert_echoes(int fd, const char *msg)
{
    ck_assert_msg(axt_echoes_within(fd, msg, AXT_PROMPT_MS),
                  "'%.*s' did not come back within %d ms", (int)strcspn(msg, "\n"), msg,
                  AXT_PROMPT_MS);
}
