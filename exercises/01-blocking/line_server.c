/* Exercise 01-line-server. Read "Reading lines, with a bound" in chapter 01 first. */
#include "line_server.h"

#include "ax/error.h"
#include "ax/net.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

int line_server_serve(int fd)
{
    /* TODO: read the client's lines with an ax_line_reader bounded at
     * LINE_SERVER_MAX_LINE and answer each one (see chapter 01, "Reading lines, with a
     * bound"). ax_read_line tells you when a line was too long (-EMSGSIZE) and when
     * the stream has ended (AX_EOF); write each reply with ax_write_all, and free the
     * reader however the session ends. */
    (void)fd;
    return -ENOSYS;
}
