/*
 * http-serve: a small blocking HTTP/1.0 server to point http-get (and, later, the
 * concurrent fetchers and the crawler) at.
 *
 *     build/bin/http-serve [--port N] [--dir DIR] [--delay-ms N]
 *
 * Without --dir, every GET is answered with a short HTML page naming the path asked
 * for; with --dir, GET /a/b.html serves DIR/a/b.html (and a path ending in "/" serves
 * index.html there). --delay-ms N makes every response wait N ms first, standing in for
 * a slow backend, so that fetching ten pages one after another visibly takes ten
 * times as long as fetching them at once. The default port is 8080; 0 picks a free
 * one, announced on the first line of standard output.
 *
 * One thread per connection, as in echo-threads.c: the request is read, answered and
 * the connection closed, all with blocking calls. The server is for trying things on
 * your own machine, so it listens on 127.0.0.1 only, takes only GET, bounds each
 * request line and header line, and refuses paths with "..", or characters other
 * than letters, digits and - . _ ~ / ? =.
 */
#include "ax/clock.h"
#include "ax/error.h"
#include "ax/log.h"
#include "ax/net.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { DEFAULT_PORT = 8080, MAX_LINE = 8192, MAX_HEADERS = 100 };

/* Set once by main before any thread starts; read-only afterwards. */
static int site_dir_fd = -1; /* the --dir folder, or -1 for the generated page */
static uint64_t delay_ms;

struct client {
    int fd;
    char peer[AX_ADDR_STRLEN];
};

static int send_head(int fd, int status, const char *reason, const char *type, long long length)
{
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %lld\r\n"
                     "Connection: close\r\n\r\n",
                     status, reason, type, length);
    return ax_write_all(fd, head, (size_t)n);
}

/* A complete response with a short text body: errors, and the generated page. */
static int send_text(int fd, int status, const char *reason, const char *type, const char *body)
{
    int err = send_head(fd, status, reason, type, (long long)strlen(body));
    return err < 0 ? err : ax_write_all(fd, body, strlen(body));
}

static int send_error(int fd, int status, const char *reason)
{
    char body[64];
    snprintf(body, sizeof body, "%d %s\n", status, reason);
    return send_text(fd, status, reason, "text/plain", body);
}

static const char *content_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot != NULL && (strcmp(dot, ".html") == 0 || strcmp(dot, ".htm") == 0))
        return "text/html";
    if (dot != NULL && (strcmp(dot, ".txt") == 0 || strcmp(dot, ".c") == 0 ||
                        strcmp(dot, ".h") == 0 || strcmp(dot, ".md") == 0))
        return "text/plain";
    return "application/octet-stream";
}

/* Streams DIR/path to the client: the head with the file's size, then the bytes. */
static int send_file(int fd, const char *target, int *status)
{
    char path[MAX_LINE + sizeof "index.html"];
    size_t len = strcspn(target, "?"); /* the query string does not name a file */
    snprintf(path, sizeof path, "%.*s%s", (int)len, target + 1,
             target[len - 1] == '/' ? "index.html" : "");
    int file = openat(site_dir_fd, path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (file < 0 || fstat(file, &st) < 0 || !S_ISREG(st.st_mode)) {
        if (file >= 0)
            ax_close(file);
        *status = 404;
        return send_error(fd, 404, "Not Found");
    }
    *status = 200;
    int err = send_head(fd, 200, "OK", content_type(path), (long long)st.st_size);
    char buf[16 * 1024];
    while (err == 0) {
        ssize_t got = ax_read_some(file, buf, sizeof buf);
        if (got <= 0) {
            err = (int)got;
            break;
        }
        err = ax_write_all(fd, buf, (size_t)got);
    }
    ax_close(file);
    return err;
}

static int send_page(int fd, const char *target, int *status)
{
    *status = 200;
    char body[MAX_LINE + 256];
    snprintf(body, sizeof body,
             "<!doctype html>\n<html><head><title>http-serve</title></head>\n"
             "<body><h1>Hello from http-serve</h1><p>You asked for %s.</p></body></html>\n",
             target);
    return send_text(fd, 200, "OK", "text/html", body);
}

static int target_is_safe(const char *target)
{
    static const char allowed[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                  "0123456789-._~/?=";
    return target[0] == '/' && strstr(target, "..") == NULL &&
           strspn(target, allowed) == strlen(target);
}

// snippet http-serve-request
/* Reads the request line ("GET /index.html HTTP/1.0") and skips the headers after it.
 * 0; -EPROTO for a malformed request, -EMSGSIZE for an over-long line; AX_EOF if the
 * client left before finishing; -errno. */
static int read_request(struct ax_line_reader *reader, char method[16], char target[MAX_LINE])
{
    char *line, version[16], extra;
    ssize_t len = ax_read_line(reader, &line);
    if (len < 0)
        return (int)len;
    if (sscanf(line, "%15s %8191s %15s %c", method, target, version, &extra) != 3 ||
        strncmp(version, "HTTP/1.", 7) != 0 || !target_is_safe(target))
        return -EPROTO;
    for (int headers = 0; (len = ax_read_line(reader, &line)) != 0; headers++) {
        if (len < 0)
            return (int)len;
        if (headers == MAX_HEADERS)
            return -EPROTO;
    }
    return 0;
}

static void serve_request(int fd, const char *peer)
{
    struct ax_line_reader reader;
    ax_line_reader_init(&reader, fd, MAX_LINE);
    char method[16] = "-", target[MAX_LINE] = "-";
    int err = read_request(&reader, method, target);
    ax_line_reader_free(&reader);
    int status;
    if (err == -EPROTO || err == -EMSGSIZE) {
        status = 400;
        err = send_error(fd, status, "Bad Request");
    } else if (err < 0) {
        if (err != AX_EOF) /* a client that connects and leaves is no news */
            ax_warn("reading a request from %s: %s", peer, ax_strerror(err));
        return;
    } else if (strcmp(method, "GET") != 0) {
        status = 501;
        err = send_error(fd, status, "Not Implemented");
    } else {
        if (delay_ms > 0)
            ax_sleep_ns(delay_ms * AX_NS_PER_MS); /* the "slow backend": blocks this thread */
        err = site_dir_fd >= 0 ? send_file(fd, target, &status) : send_page(fd, target, &status);
    }
    ax_info("%s %s %s -> %d", peer, method, target, status);
    if (err < 0)
        ax_warn("responding to %s: %s", peer, ax_strerror(err));
}
// end snippet

static void *client_thread(void *arg)
{
    struct client *client = arg;
    serve_request(client->fd, client->peer);
    ax_close(client->fd);
    free(client);
    return NULL;
}

static int spawn_client_thread(int fd, const char *peer)
{
    struct client *client = malloc(sizeof *client);
    if (client == NULL)
        return -ENOMEM;
    client->fd = fd;
    snprintf(client->peer, sizeof client->peer, "%s", peer);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
    int rc = pthread_create(&thread, &attr, client_thread, client);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        free(client);
        return -rc;
    }
    return 0;
}

static void usage(FILE *to, int status)
{
    fprintf(to, "usage: http-serve [--port N] [--dir DIR] [--delay-ms N]\n"
                "  --port N      port on 127.0.0.1 (default 8080; 0 picks a free port)\n"
                "  --dir DIR     serve the files under DIR instead of a generated page\n"
                "  --delay-ms N  wait N ms (0..60000) before answering each request\n");
    exit(status);
}

int main(int argc, char **argv)
{
    static const struct option options[] = {{"port", required_argument, NULL, 'p'},
                                            {"dir", required_argument, NULL, 'd'},
                                            {"delay-ms", required_argument, NULL, 'w'},
                                            {"help", no_argument, NULL, 'H'},
                                            {0}};
    uint16_t port = DEFAULT_PORT;
    int opt;
    while ((opt = getopt_long(argc, argv, "p:d:w:", options, NULL)) != -1) {
        char *end;
        switch (opt) {
        case 'p':
            if (ax_parse_port(optarg, &port) < 0)
                usage(stderr, 2);
            break;
        case 'd':
            site_dir_fd = open(optarg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (site_dir_fd < 0) {
                fprintf(stderr, "http-serve: --dir %s: %s\n", optarg, ax_strerror(ax__errno()));
                return 2;
            }
            break;
        case 'w':
            delay_ms = strtoull(optarg, &end, 10);
            if (optarg[0] < '0' || optarg[0] > '9' || *end != '\0' || delay_ms > 60000)
                usage(stderr, 2);
            break;
        case 'H':
            usage(stdout, 0);
            break;
        default:
            usage(stderr, 2);
        }
    }
    if (optind != argc)
        usage(stderr, 2);

    int listen_fd = ax_listen("127.0.0.1", port, &port);
    if (listen_fd < 0) {
        fprintf(stderr, "http-serve: listen on 127.0.0.1:%u: %s\n", (unsigned)port,
                ax_strerror(listen_fd));
        return 1;
    }
    ax_announce_listening("127.0.0.1", port);
    for (;;) {
        char peer[AX_ADDR_STRLEN];
        int fd = ax_accept(listen_fd, peer);
        if (fd < 0) {
            ax_error("accept: %s", ax_strerror(fd));
            if (fd != -EMFILE && fd != -ENFILE && fd != -ENOBUFS && fd != -ENOMEM)
                return 1;
            ax_sleep_ns(100 * AX_NS_PER_MS);
            continue;
        }
        int err = spawn_client_thread(fd, peer);
        if (err < 0) {
            ax_error("cannot start a thread for %s: %s; closing that connection", peer,
                     ax_strerror(err));
            ax_close(fd);
        }
    }
}
