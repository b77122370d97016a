//@ 02
/* A server function under test in a child process; see served.h. */
#include "served.h"
#include "ax/clock.h"
#include "ax/error.h"
#include "ax/net.h"

#include <signal.h>
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
