/* Challenge 03-challenge-edge-echo. Read "Level-triggered and edge-triggered" and
 * "Running out of descriptors, gracefully" in chapter 03 first. */
#include "edge_echo.h"

#include "ax/buf.h"
#include "ax/error.h"
#include "ax/list.h"
#include "ax/nonblock.h"
#include "ax/reactor.h"
#include "ax/reserve.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

int edge_echo_serve(int listen_fd, const struct ax_backend *backend)
{
    /* TODO: a challenge, so no steps here: edge_echo.h says what must happen. Chapter 03
     * says what edges do not tell you twice ("Level-triggered and edge-triggered") and
     * how a server sheds what it cannot hold ("Running out of descriptors, gracefully"). */
    (void)listen_fd;
    (void)backend;
    return -ENOSYS;
}
