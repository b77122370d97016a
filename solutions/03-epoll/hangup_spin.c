/* Exercise 03-hangup-spin: a reference solution. */
#include "hangup_spin.h"

#include "ax/error.h"
#include "ax/nonblock.h"

#include <errno.h>

void counting_on_readable(struct ax_reactor *reactor, int fd, int events, void *data)
{
    (void)events;
    struct counting_conn *c = data;
    c->calls++;
    char buf[4096];
    for (;;) {
        ssize_t got = ax_recv(fd, buf, sizeof buf);
        if (got == -EAGAIN)
            return; /* the client is still there: wait for more */
        if (got <= 0) { /* gone: the fd would be reported readable on every wait */
            c->error = (int)got;
            ax_reactor_close(reactor, fd);
            c->closed = true;
            return;
        }
        c->received += (size_t)got;
    }
}
