//@ 02
/* A server function under test in a child process; see served.h. */
#include "served.h"
#include "ax/clock.h"
#include "ax/error.h"
#include "ax/net.h"

#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

void axt_served_listen(struct axt_served *s, const char *name)
{
    *s = (struct axt_served){.name = name};
    s->listen_fd = ax_listen("127.0.0.1", 0, &s->port);
    ck_assert_msg(s->listen_fd >= 0, "listen: %s", ax_strerror(s->listen_fd));
}

void axt_served_fork(struct axt_served *s, int (*serve)(struct axt_served *s, void *arg), void *arg)
{
    pid_t parent = getpid();
    s->pid = fork();
    ck_assert_int_ge(s->pid, 0);
    if (s->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failed test leaves no server behind */
        if (getppid() != parent)
            _exit(127);
        int rc = serve(s, arg);
        _exit(rc == 0 ? 0 : -rc & 0xff);
    }
}

void axt_served_close_others(int keep)
{
    struct rlimit limit;
    getrlimit(RLIMIT_NOFILE, &limit);
    for (int fd = 3; fd < (int)limit.rlim_cur && fd < 65536; fd++)
        if (fd != keep)
            close(fd);
}

bool axt_served_exited(struct axt_served *s)
{
    if (!s->exited && waitpid(s->pid, &s->status, WNOHANG) == s->pid)
        s->exited = true;
    return s->exited;
}

const char *axt_served_exit_text(const struct axt_served *s)
{
    static char text[160];
    if (WIFSIGNALED(s->status))
        snprintf(text, sizeof text, "%s's process died of signal %d", s->name, WTERMSIG(s->status));
    else
        snprintf(text, sizeof text, "%s returned -%d (%s)", s->name, WEXITSTATUS(s->status),
                 strerror(WEXITSTATUS(s->status)));
    return text;
}

void axt_served_assert_running(struct axt_served *s)
{
    ck_assert_msg(!axt_served_exited(s), "%s while it was serving", axt_served_exit_text(s));
}

bool axt_served_exits_within(struct axt_served *s, int ms)
{
    uint64_t deadline = ax_now_ns() + (uint64_t)ms * AX_NS_PER_MS;
    while (!axt_served_exited(s) && ax_now_ns() < deadline)
        ax_sleep_ns(5 * AX_NS_PER_MS);
    if (!s->exited) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, &s->status, 0);
        s->exited = true;
        return false;
    }
    return true;
}

void axt_served_stop(struct axt_served *s, int ms)
{
    axt_served_assert_running(s);
    shutdown(s->listen_fd, SHUT_RDWR);
    ck_assert_msg(axt_served_exits_within(s, ms),
                  "%s did not return after its listener was shut down", s->name);
    close(s->listen_fd);
    ck_assert_msg(WIFEXITED(s->status) && WEXITSTATUS(s->status) == 0,
                  "%s after the listener was shut down, expected 0", axt_served_exit_text(s));
}

int axt_served_threads(const struct axt_served *s)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)s->pid);
    DIR *dir = opendir(path);
    ck_assert_ptr_nonnull(dir);
    int threads = 0;
    for (struct dirent *entry; (entry = readdir(dir)) != NULL;)
        threads += entry->d_name[0] != '.';
    closedir(dir);
    return threads;
}

int axt_served_sockets(const struct axt_served *s, int fds[], int max)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)s->pid);
    DIR *dir = opendir(path);
    ck_assert_ptr_nonnull(dir);
    int count = 0;
    for (struct dirent *entry; (entry = readdir(dir)) != NULL && count < max;) {
        char link[320], target[64] = "";
        int fd = atoi(entry->d_name);
        if (entry->d_name[0] == '.' || fd == s->listen_fd)
            continue;
        snprintf(link, sizeof link, "%s/%s", path, entry->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n > 0 && strncmp(target, "socket:", 7) == 0)
            fds[count++] = fd;
    }
    closedir(dir);
    return count;
}

long axt_served_fd_flags(const struct axt_served *s, int fd)
{
    char path[64], text[512];
    snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", (int)s->pid, fd);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    const char *flags = strstr(text, "flags:");
    ck_assert_ptr_nonnull(flags);
    return strtol(flags + 6, NULL, 8); /* octal, as open(2) flags are usually written */
}
