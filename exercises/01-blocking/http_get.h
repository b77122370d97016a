/*
 * Exercise 01-http-get: fetch a URL over HTTP/1.0 with blocking calls, trusting
 * nothing the server sends.
 *
 * The exchange is the one http-get.c shows in chapter 01: connect, send
 *
 *     GET PATH HTTP/1.0\r\n
 *     Host: HOST[:PORT]\r\n          (as written in the URL)
 *     \r\n
 *
 * (other header lines may follow the Host line), then read the response: a status line
 * such as "HTTP/1.0 200 OK", header lines up to an empty line, and the body. The body
 * is exactly Content-Length bytes when that header is present (bytes after it are
 * ignored), and otherwise everything up to the end of the stream.
 *
 * When Content-Length gives the body's length, http_get returns as soon as it has read
 * that many bytes: it does not wait for the server to close the connection.
 *
 * What the server sends is checked, and a response that breaks a rule is an error, never
 * a crash or an endless wait:
 *
 *   - the status line is "HTTP/1.", a digit, a space and a three-digit code, then
 *     either nothing or a space and any reason text;
 *   - a header line is a name (at least one character), a colon and a value; header
 *     names are compared without regard to case; there are at most HTTP_GET_MAX_HEADERS
 *     of them, and no line of the head is longer than HTTP_GET_MAX_LINE bytes;
 *   - Content-Length is one or more decimal digits (spaces or tabs around them
 *     allowed) whose value is at most 9223372036854775807 (2^63 - 1, what a signed
 *     64-bit length holds): a larger number is malformed, however many of its digits
 *     are leading zeros;
 *   - lines may end in "\r\n" or in "\n".
 *
 * The head is checked line by line as it arrives: a line that breaks a rule is an error
 * at once, even if the connection ends right after it.
 */
#ifndef HTTP_GET_H
#define HTTP_GET_H

#include "ax/buf.h"

#include <stddef.h>

#define HTTP_GET_MAX_LINE    8192
#define HTTP_GET_MAX_HEADERS 100

struct http_response {
    int status; /* the status code: 200, 404, ... */
    struct ax_buf body; /* the body's bytes; free with ax_buf_free */
};

/*
 * Fetches url, which reads http://HOST[:PORT][PATH]: HOST a name or IPv4 address,
 * PORT 1..65535 (default 80), PATH starting with "/" (default "/") and free of spaces
 * and control characters. Accepts a body of at most max_body bytes.
 *
 * Returns 0 and fills *response; the caller then owns response->body. Any status
 * code is a success: a 404 page is still a response. On failure, response->body is
 * empty and holds no memory (freeing it does nothing), response->status means
 * nothing, and the result is
 *
 *   -EINVAL        the URL is not one this function can fetch
 *   -EPROTO        the response breaks one of the rules above: a malformed status
 *                  line, header line or Content-Length (a value over 2^63 - 1
 *                  included), too many header lines, or a line of the head longer
 *                  than HTTP_GET_MAX_LINE (this too is -EPROTO, not -EMSGSIZE)
 *   -EMSGSIZE      the body is longer than max_body: by a well-formed Content-Length
 *                  (refused before any of the body is read), or, when there is none,
 *                  as the body arrives
 *   AX_EOF         the connection ended before the response did (before the end of
 *                  the head, or before Content-Length bytes of body)
 *   other -errno   from the network: -ECONNREFUSED, -EHOSTUNREACH, ...
 */
int http_get(const char *url, size_t max_body, struct http_response *response);

#endif
