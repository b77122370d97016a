/* Challenge 01-challenge-chunked. Read "A blocking HTTP client" in chapter 01 first, and
 * RFC 9112, section 7.1. */
#include "chunked_body.h"

#include "ax/error.h"
#include "ax/net.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

ssize_t chunked_read(int fd, struct ax_buf *carry, size_t max_body, struct ax_buf *body)
{
    /* TODO: a challenge, so no steps here: chunked_body.h says what must happen, and
     * chapter 01, "A blocking HTTP client", says what goes wrong when a buffered reader
     * and raw reads share one descriptor. */
    (void)fd;
    (void)carry;
    (void)max_body;
    (void)body;
    return -ENOSYS;
}
