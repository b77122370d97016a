/* Exercise 02-chat-room. Read "Backpressure in miniature" in chapter 02 first. */
#include "chat_room.h"

#include "ax/buf.h"
#include "ax/error.h"
#include "ax/list.h"
#include "ax/nonblock.h"
#include "ax/reactor.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int chat_serve(int listen_fd)
{
    /* TODO: echo-reactor.c (chapter 02, "Backpressure in miniature") is most of this
     * server. Give each client a struct with an input buffer (for a partial line) and
     * an output buffer (for lines its socket has not taken), and keep the clients on an
     * ax_list so a line can be appended to everyone else's output. Watch a client for
     * writable only while its output is not empty. Apply the two bounds of chat_room.h
     * at the moment a buffer would grow past them, not later. When accept says -EINVAL,
     * close every client and return. */
    (void)listen_fd;
    return -ENOSYS;
}
