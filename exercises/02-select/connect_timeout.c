/* Exercise 02-connect-timeout. Read "Connecting without waiting" in chapter 02 first. */
#include "connect_timeout.h"

#include "ax/clock.h"
#include "ax/error.h"
#include "ax/nonblock.h"
#include "ax/reactor.h"

#include <errno.h>
#include <stdbool.h>
#include <unistd.h>

int connect_timeout(const char *host, uint16_t port, int timeout_ms)
{
    /* TODO: start the connection with ax_connect_start (see chapter 02, "Connecting
     * without waiting"). While it is in progress, wait for the socket to become
     * writable, but only until a deadline fixed at the start: a reactor with one
     * watched fd, run with ax_reactor_run_once and the time that is left, does it.
     * Then ax_connect_finish says how the handshake ended. Close the socket on every
     * way out that does not return it. */
    (void)host;
    (void)port;
    (void)timeout_ms;
    return -ENOSYS;
}
