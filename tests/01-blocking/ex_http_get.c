/* Exercise 01-http-get: a blocking HTTP/1.0 client against a scripted local server. */
#include "axtest.h"
#include "http_get.h"

#include "ax/clock.h"
#include "ax/error.h"
#include "ax/net.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The server waits this long for each step of the client (its request, its close). */
enum { PATIENCE_MS = 3000, REQUEST_CAP = 8192 };

/*
 * A one-shot server in a thread: it accepts one connection, reads the request head,
 * sends the scripted response (whole, or a byte at a time), then either closes or,
 * with hold_open, waits for the client to close first. It records what it was sent.
 */
struct script_server {
    int listen_fd;
    uint16_t port;
    const char *response;
    size_t response_len;
    int trickle;
    int hold_open;
    char request[REQUEST_CAP + 1];
    int client_never_closed; /* set when hold_open gave up waiting */
    pthread_t thread;
};

/* Waits until fd is readable, at most PATIENCE_MS. */
static int readable(int fd)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    return poll(&pfd, 1, PATIENCE_MS) == 1;
}

/* True once the client has closed its end (or reset it), false after PATIENCE_MS. */
static int client_closed(int fd)
{
    char scratch[256];
    while (readable(fd))
        if (ax_read_some(fd, scratch, sizeof scratch) <= 0)
            return 1;
    return 0;
}

static void *serve_script(void *arg)
{
    struct script_server *s = arg;
    int fd = ax_accept(s->listen_fd, NULL);
    if (fd < 0)
        return NULL; /* the test shut the listener down: nobody came */

    size_t got = 0;
    while (got < REQUEST_CAP && strstr(s->request, "\r\n\r\n") == NULL && readable(fd)) {
        ssize_t n = ax_read_some(fd, s->request + got, REQUEST_CAP - got);
        if (n <= 0)
            break;
        got += (size_t)n;
        s->request[got] = '\0';
    }

    size_t step = s->trickle ? 1 : s->response_len;
    for (size_t sent = 0; sent < s->response_len; sent += step) {
        if (ax_write_all(fd, s->response + sent, step) < 0)
            break; /* the client has given up on us */
        if (s->trickle)
            ax_sleep_ns(AX_NS_PER_MS); /* so each byte arrives on its own */
    }
    if (s->hold_open)
        s->client_never_closed = !client_closed(fd);
    close(fd);
    return NULL;
}

static void start_script(struct script_server *s, const char *response, size_t len)
{
    s->listen_fd = ax_listen("127.0.0.1", 0, &s->port);
    ck_assert_msg(s->listen_fd >= 0, "ax_listen: %s", ax_strerror(s->listen_fd));
    s->response = response;
    s->response_len = len;
    pthread_create(&s->thread, NULL, serve_script, s);
}

static void stop_script(struct script_server *s)
{
    shutdown(s->listen_fd, SHUT_RDWR); /* wakes an accept that nobody answered */
    pthread_join(s->thread, NULL);
    close(s->listen_fd);
}

/* Fetches `path` from a server that answers with `response` (a C string);
 * returns http_get's result. */
static int fetch_with(struct script_server *s, const char *response, const char *path,
                      size_t max_body, struct http_response *out)
{
    start_script(s, response, strlen(response));
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", (unsigned)s->port, path);
    int rc = http_get(url, max_body, out);
    stop_script(s);
    return rc;
}

static void assert_body(const struct http_response *r, const char *expected, size_t len)
{
    size_t got = ax_buf_len(&r->body);
    ck_assert_msg(got == len, "the body has %zu bytes, expected %zu", got, len);
    ck_assert_msg(len == 0 || memcmp(ax_buf_data(&r->body), expected, len) == 0,
                  "the body's bytes differ from what the server sent");
}

/* Serves `response`, expects http_get to return `expected` and an empty body. */
static void assert_fails_with(const char *response, int expected)
{
    struct script_server s = {0};
    struct http_response r;
    int rc = fetch_with(&s, response, "/", 1 << 20, &r);
    ck_assert_msg(rc == expected,
                  "for the response %s, http_get returned %d (%s), expected %d (%s)",
                  axt_quoted(response), rc, ax_strerror(rc), expected, ax_strerror(expected));
    ck_assert_msg(ax_buf_len(&r.body) == 0, "a failed http_get left a body behind");
    ax_buf_free(&r.body);
}

START_TEST(http_get_reads_a_body_of_content_length_bytes)
{
    struct script_server s = {.hold_open = 1};
    struct http_response r;
    int rc = fetch_with(&s, "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello", "/", 100, &r);
    ck_assert_msg(rc == 0, "http_get returned %d (%s)", rc, ax_strerror(rc));
    ck_assert_int_eq(r.status, 200);
    assert_body(&r, "hello", 5);
    ck_assert_msg(!s.client_never_closed,
                  "http_get waited for the server to close although Content-Length gave the "
                  "body's length");
    ax_buf_free(&r.body);
}
END_TEST

START_TEST(http_get_ignores_bytes_after_the_content_length_body)
{
    struct script_server s = {.hold_open = 1};
    struct http_response r;
    int rc = fetch_with(&s, "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA", "/", 100, &r);
    ck_assert_int_eq(rc, 0);
    assert_body(&r, "hello", 5);
    ax_buf_free(&r.body);
}
END_TEST

START_TEST(http_get_reads_a_body_that_ends_when_the_server_closes)
{
    enum { LEN = 200 * 1000 };
    static const char head[] = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n";
    char *response = malloc(sizeof head + LEN);
    strcpy(response, head);
    for (size_t i = 0; i < LEN; i++)
        response[sizeof head - 1 + i] = (char)('a' + i % 26);
    response[sizeof head - 1 + LEN] = '\0';

    struct script_server s = {0};
    struct http_response r;
    int rc = fetch_with(&s, response, "/", LEN, &r);
    ck_assert_msg(rc == 0, "http_get returned %d (%s)", rc, ax_strerror(rc));
    assert_body(&r, response + sizeof head - 1, LEN);
    ax_buf_free(&r.body);
    free(response);
}
END_TEST

START_TEST(http_get_reads_a_response_that_arrives_byte_by_byte)
{
    struct script_server s = {.trickle = 1};
    struct http_response r;
    int rc = fetch_with(&s, "HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\nslow", "/", 100, &r);
    ck_assert_msg(rc == 0, "http_get returned %d (%s)", rc, ax_strerror(rc));
    assert_body(&r, "slow", 4);
    ax_buf_free(&r.body);
}
END_TEST

START_TEST(http_get_returns_any_status_code_with_its_body)
{
    struct script_server s = {0};
    struct http_response r;
    int rc =
        fetch_with(&s, "HTTP/1.0 404 Not Found\r\nContent-Length: 4\r\n\r\ngone", "/", 100, &r);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(r.status, 404);
    assert_body(&r, "gone", 4);
    ax_buf_free(&r.body);
}
END_TEST

START_TEST(http_get_sends_a_get_for_the_path_with_a_host_header)
{
    struct script_server s = {0};
    struct http_response r;
    int rc = fetch_with(&s, "HTTP/1.0 200 OK\r\n\r\n", "/some/page.html?q=1", 100, &r);
    ck_assert_int_eq(rc, 0);
    char host[64];
    snprintf(host, sizeof host, "\r\nHost: 127.0.0.1:%u\r\n", (unsigned)s.port);
    ck_assert_msg(strncmp(s.request, "GET /some/page.html?q=1 HTTP/1.0\r\n", 34) == 0,
                  "the request was %s", axt_quoted(s.request));
    ck_assert_msg(strstr(s.request, host) != NULL, "no %s in the request %s", axt_quoted(host + 2),
                  axt_quoted(s.request));
    size_t len = strlen(s.request);
    ck_assert_msg(len >= 4 && strcmp(s.request + len - 4, "\r\n\r\n") == 0,
                  "the request head must end with an empty line");
    ax_buf_free(&r.body);
}
END_TEST

START_TEST(http_get_asks_for_slash_when_the_url_has_no_path)
{
    struct script_server s = {0};
    struct http_response r;
    int rc = fetch_with(&s, "HTTP/1.0 200 OK\r\n\r\n", "", 100, &r);
    ck_assert_int_eq(rc, 0);
    ck_assert_msg(strncmp(s.request, "GET / HTTP/1.0\r\n", 16) == 0, "the request was %s",
                  axt_quoted(s.request));
    ax_buf_free(&r.body);
}
END_TEST

START_TEST(http_get_accepts_http_1_1_and_bare_newlines)
{
    struct script_server s = {0};
    struct http_response r;
    int rc = fetch_with(&s, "HTTP/1.1 200\nContent-Length: 2\n\nok", "/", 100, &r);
    ck_assert_msg(rc == 0, "http_get returned %d (%s)", rc, ax_strerror(rc));
    ck_assert_int_eq(r.status, 200);
    assert_body(&r, "ok", 2);
    ax_buf_free(&r.body);
}
END_TEST

START_TEST(http_get_matches_header_names_regardless_of_case)
{
    struct script_server s = {.hold_open = 1};
    struct http_response r;
    int rc = fetch_with(&s, "HTTP/1.0 200 OK\r\ncontent-LENGTH:\t3 \r\n\r\nabcdef", "/", 100, &r);
    ck_assert_msg(rc == 0, "http_get returned %d (%s)", rc, ax_strerror(rc));
    assert_body(&r, "abc", 3);
    ax_buf_free(&r.body);
}
END_TEST

START_TEST(http_get_accepts_an_empty_body)
{
    struct script_server s = {.hold_open = 1};
    struct http_response r;
    int rc = fetch_with(&s, "HTTP/1.0 204 No Content\r\nContent-Length: 0\r\n\r\n", "/", 100, &r);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(r.status, 204);
    assert_body(&r, "", 0);
    ax_buf_free(&r.body);
}
END_TEST

START_TEST(http_get_accepts_a_body_of_exactly_the_limit)
{
    struct script_server s = {0};
    struct http_response r;
    int rc = fetch_with(&s, "HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", "/", 10, &r);
    ck_assert_int_eq(rc, 0);
    assert_body(&r, "0123456789", 10);
    ax_buf_free(&r.body);

    struct script_server t = {0};
    rc = fetch_with(&t, "HTTP/1.0 200 OK\r\n\r\n0123456789", "/", 10, &r);
    ck_assert_msg(rc == 0, "without Content-Length: http_get returned %d (%s)", rc,
                  ax_strerror(rc));
    assert_body(&r, "0123456789", 10);
    ax_buf_free(&r.body);
}
END_TEST

START_TEST(http_get_refuses_a_content_length_over_the_limit)
{
    struct script_server s = {.hold_open = 1};
    struct http_response r;
    int rc =
        fetch_with(&s, "HTTP/1.0 200 OK\r\nContent-Length: 11\r\n\r\n0123456789x", "/", 10, &r);
    ck_assert_msg(rc == -EMSGSIZE, "http_get returned %d (%s), expected -EMSGSIZE", rc,
                  ax_strerror(rc));
    ck_assert_int_eq(ax_buf_len(&r.body), 0);
}
END_TEST

START_TEST(http_get_refuses_any_well_formed_length_over_the_limit)
{
    /* The largest length the header allows, and a small one written with leading zeros:
     * both are numbers, so both are too large rather than malformed. */
    assert_fails_with("HTTP/1.0 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\n", -EMSGSIZE);
    assert_fails_with("HTTP/1.0 200 OK\r\nContent-Length: 0000000000000000000000002000000\r\n"
                      "\r\n",
                      -EMSGSIZE);
}
END_TEST

START_TEST(http_get_refuses_a_body_growing_over_the_limit)
{
    struct script_server s = {0};
    struct http_response r;
    int rc = fetch_with(&s, "HTTP/1.0 200 OK\r\n\r\n0123456789x", "/", 10, &r);
    ck_assert_msg(rc == -EMSGSIZE, "http_get returned %d (%s), expected -EMSGSIZE", rc,
                  ax_strerror(rc));
    ck_assert_int_eq(ax_buf_len(&r.body), 0);
}
END_TEST

START_TEST(http_get_rejects_malformed_status_lines)
{
    static const char *const bad[] = {
        "HTTP/1.0 20 OK\r\n\r\n",   "HTTP/1.0 2000 OK\r\n\r\n",
        "HTTP/2 200 OK\r\n\r\n",    "ICY 200 OK\r\n\r\n",
        "HTTP/1.0 abc OK\r\n\r\n",  "HTTP/1.0200 OK\r\n\r\n",
        "HTTP/1.0  200 OK\r\n\r\n", "\r\n\r\n",
        "hello, world\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_fails_with(bad[i], -EPROTO);
}
END_TEST

START_TEST(http_get_rejects_a_header_line_without_a_name_and_colon)
{
    assert_fails_with("HTTP/1.0 200 OK\r\nno colon here\r\n\r\nbody", -EPROTO);
    assert_fails_with("HTTP/1.0 200 OK\r\n: no name\r\n\r\nbody", -EPROTO);
}
END_TEST

START_TEST(http_get_rejects_a_content_length_that_is_not_a_number)
{
    static const char *const bad[] = {
        "HTTP/1.0 200 OK\r\nContent-Length: abc\r\n\r\n",
        "HTTP/1.0 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.0 200 OK\r\nContent-Length: 12abc\r\n\r\n",
        "HTTP/1.0 200 OK\r\nContent-Length:\r\n\r\n",
        "HTTP/1.0 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        "HTTP/1.0 200 OK\r\nContent-Length: 9223372036854775808\r\n\r\n", /* 2^63 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_fails_with(bad[i], -EPROTO);
}
END_TEST

START_TEST(http_get_rejects_an_overlong_header_line)
{
    size_t len = HTTP_GET_MAX_LINE + 100;
    char *response = malloc(len + 64);
    strcpy(response, "HTTP/1.0 200 OK\r\nX-Long: ");
    size_t at = strlen(response);
    memset(response + at, 'a', len);
    strcpy(response + at + len, "\r\n\r\nbody");
    assert_fails_with(response, -EPROTO);
    free(response);
}
END_TEST

START_TEST(http_get_rejects_a_head_with_too_many_headers)
{
    size_t count = HTTP_GET_MAX_HEADERS + 1;
    char *response = malloc(64 + count * 16);
    strcpy(response, "HTTP/1.0 200 OK\r\n");
    for (size_t i = 0; i < count; i++)
        sprintf(response + strlen(response), "X-H%zu: v\r\n", i);
    strcat(response, "\r\nbody");
    assert_fails_with(response, -EPROTO);
    free(response);
}
END_TEST

START_TEST(http_get_reports_a_body_cut_short)
{
    assert_fails_with("HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nhalf", AX_EOF);
}
END_TEST

START_TEST(http_get_reports_a_response_cut_off_in_the_head)
{
    assert_fails_with("", AX_EOF);
    assert_fails_with("HTTP/1.0 200 OK", AX_EOF);
    assert_fails_with("HTTP/1.0 200 OK\r\nContent-Length: 5\r\n", AX_EOF);
}
END_TEST

START_TEST(http_get_reports_a_refused_connection)
{
    uint16_t port;
    int fd = ax_listen("127.0.0.1", 0, &port);
    ck_assert_int_ge(fd, 0);
    close(fd); /* the port is free again: nothing listens there now */
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", (unsigned)port);
    struct http_response r;
    int rc = http_get(url, 100, &r);
    ck_assert_msg(rc == -ECONNREFUSED, "http_get returned %d (%s), expected -ECONNREFUSED", rc,
                  ax_strerror(rc));
}
END_TEST

START_TEST(http_get_rejects_urls_it_cannot_fetch)
{
    static const char *const bad[] = {
        "https://127.0.0.1/",
        "127.0.0.1/",
        "http://",
        "http:///path",
        "http://127.0.0.1:/",
        "http://127.0.0.1:0/",
        "http://127.0.0.1:99999/",
        "http://127.0.0.1:8x/",
        "http://127.0.0.1/a b",
        "http://127.0.0.1/tab\there",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct http_response r;
        int rc = http_get(bad[i], 100, &r);
        ck_assert_msg(rc == -EINVAL, "http_get(%s) returned %d (%s), expected -EINVAL",
                      axt_quoted(bad[i]), rc, ax_strerror(rc));
    }
}
END_TEST

static Suite *http_get_suite(void)
{
    Suite *s = suite_create("01-http-get");
    TCase *tc = axt_tcase("http_get");
    tcase_add_test(tc, http_get_reads_a_body_of_content_length_bytes);
    tcase_add_test(tc, http_get_ignores_bytes_after_the_content_length_body);
    tcase_add_test(tc, http_get_reads_a_body_that_ends_when_the_server_closes);
    tcase_add_test(tc, http_get_reads_a_response_that_arrives_byte_by_byte);
    tcase_add_test(tc, http_get_returns_any_status_code_with_its_body);
    tcase_add_test(tc, http_get_sends_a_get_for_the_path_with_a_host_header);
    tcase_add_test(tc, http_get_asks_for_slash_when_the_url_has_no_path);
    tcase_add_test(tc, http_get_accepts_http_1_1_and_bare_newlines);
    tcase_add_test(tc, http_get_matches_header_names_regardless_of_case);
    tcase_add_test(tc, http_get_accepts_an_empty_body);
    tcase_add_test(tc, http_get_accepts_a_body_of_exactly_the_limit);
    tcase_add_test(tc, http_get_refuses_a_content_length_over_the_limit);
    tcase_add_test(tc, http_get_refuses_any_well_formed_length_over_the_limit);
    tcase_add_test(tc, http_get_refuses_a_body_growing_over_the_limit);
    tcase_add_test(tc, http_get_rejects_malformed_status_lines);
    tcase_add_test(tc, http_get_rejects_a_header_line_without_a_name_and_colon);
    tcase_add_test(tc, http_get_rejects_a_content_length_that_is_not_a_number);
    tcase_add_test(tc, http_get_rejects_an_overlong_header_line);
    tcase_add_test(tc, http_get_rejects_a_head_with_too_many_headers);
    tcase_add_test(tc, http_get_reports_a_body_cut_short);
    tcase_add_test(tc, http_get_reports_a_response_cut_off_in_the_head);
    tcase_add_test(tc, http_get_reports_a_refused_connection);
    tcase_add_test(tc, http_get_rejects_urls_it_cannot_fetch);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(http_get_suite)
