/* Exercise 03-hangup-spin. Read "Hang-ups and errors" in chapter 03 first. */
#include "hangup_spin.h"

#include "ax/error.h"
#include "ax/nonblock.h"

#include <errno.h>

void counting_on_readable(struct ax_reactor *reactor, int fd, int events, void *data)
{
    (void)reactor, (void)events;
    struct counting_conn *c = data;
    c->calls++;
    char buf[4096];
    ssize_t got = ax_recv(fd, buf, sizeof buf);
    if (got > 0) {
        c->received += (size_t)got;
        return;
    }
    /* TODO: this server spins at 100 % CPU once a client hangs up. Why is this
     * callback called again on every wait (see chapter 03, "Hang-ups and errors")?
     * Fix it: a read of 0 or an error means the client is gone, and the socket must
     * stop being watched. Read until -EAGAIN while you are at it. */
    return; /* "nothing to read, try again later" */
}
