/*
 * concurrent-fetch: two HTTP requests from one thread, one after the other and then at
 * the same time.
 *
 *     build/bin/concurrent-fetch [--delays FAST,SLOW] [--tsv]     (default 100,200 ms)
 *
 * The program starts two copies of chapter 01's http-serve (found next to this binary
 * in build/bin/), one answering after FAST ms and one after SLOW ms, standing in for two
 * slow backends. Then it fetches one page from each, three ways, on one thread:
 *
 *   one after the other   one task awaits the first fetch, then the second: FAST + SLOW
 *   two tasks, joined     each fetch is a task of its own, and main joins both,
 *                         taking the page each one hands back as its output
 *                         (tokio::spawn and join handles): about SLOW
 *   join_all in one task  one task awaits both fetches at once with ax_join_all
 *                         (tokio::join!): about SLOW
 *
 * and prints how long each fetch and each way took. A fetch is one future, written with
 * the coroutine macros: connect, send an HTTP/1.0 GET, read the response until the
 * server closes, check the status line. --tsv prints only the totals, as
 * name<TAB>value<TAB>unit lines for bench/tasks.c.
 */
#include "ax/async.h"
#include "ax/clock.h"
#include "ax/combine.h"
#include "ax/error.h"
#include "ax/io.h"
#include "ax/net.h"
#include "ax/task.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { RESPONSE_MAX = 8192, STARTUP_TIMEOUT_MS = 5000 };
#define REQUEST_FORMAT "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"

/* What a fetch spawned as a task hands back: the response, which outlives the task. */
struct page {
    int status;
    size_t len;
    char text[]; /* the whole response, headers and body, NUL-terminated */
};

// snippet fetch-future
/* One GET of http://127.0.0.1:port/path. Finishes with the HTTP status code, or an
 * error: -EMSGSIZE for a response over RESPONSE_MAX, -EPROTO for a malformed one. As
 * the top future of a task (hand_over), it also hands the response over as the
 * task's output, a struct page. */
struct fetch {
    struct ax_future base;
    struct ax_coroutine co;
    uint16_t port;
    const char *path;
    bool hand_over;
    uint64_t *finished_at; /* a timing probe, in the caller's memory */
    struct ax_source *conn; /* NULL until connected */
    ax_result rc;
    int status;
    size_t got;
    char request[128];
    union {
        struct ax_connect_future connect;
        struct ax_write_future write;
        struct ax_read_future read;
    } io;
    char response[RESPONSE_MAX];
};

static ax_result fetch_poll(struct ax_future *self, struct ax_context *cx)
{
    struct fetch *f = (struct fetch *)self;
    AX_ASYNC_BEGIN(&f->co);
    ax_connect_future_init(&f->io.connect, "127.0.0.1", f->port, &f->conn);
    AX_AWAIT(&f->co, cx, &f->io.connect.base, f->rc);
    if (f->rc < 0)
        AX_ASYNC_RETURN(&f->co, f->rc);

    f->rc = snprintf(f->request, sizeof f->request, REQUEST_FORMAT, f->path);
    ax_write_future_init(&f->io.write, f->conn, f->request, (size_t)f->rc);
    AX_AWAIT(&f->co, cx, &f->io.write.base, f->rc);
    while (f->rc >= 0) { /* HTTP/1.0: the response ends when the server closes */
        if (f->got == sizeof f->response)
            AX_ASYNC_RETURN(&f->co, -EMSGSIZE);
        size_t room = sizeof f->response - f->got; /* fine as a local: used before the await */
        ax_read_future_init(&f->io.read, f->conn, f->response + f->got, room);
        AX_AWAIT(&f->co, cx, &f->io.read.base, f->rc);
        if (f->rc == 0)
            break;
        if (f->rc > 0)
            f->got += (size_t)f->rc;
    }
    if (f->rc < 0)
        AX_ASYNC_RETURN(&f->co, f->rc);
    *f->finished_at = ax_now_ns();
    f->response[f->got < sizeof f->response ? f->got : sizeof f->response - 1] = '\0';
    if (sscanf(f->response, "HTTP/1.%*1[01] %3d ", &f->status) != 1)
        AX_ASYNC_RETURN(&f->co, -EPROTO);
    if (f->hand_over) {
        struct page *page = malloc(sizeof *page + f->got + 1);
        if (page == NULL)
            AX_ASYNC_RETURN(&f->co, -ENOMEM);
        *page = (struct page){.status = f->status, .len = f->got};
        memcpy(page->text, f->response, f->got + 1);
        ax_task_set_output(cx, page, free); /* the joiner's to take, or the task's to free */
    }
    AX_ASYNC_END(&f->co, f->status);
}

static void fetch_drop(struct ax_future *self)
{
    struct fetch *f = (struct fetch *)self;
    AX_ASYNC_DROP(&f->co);
    if (f->conn != NULL)
        ax_source_close(f->conn);
    f->conn = NULL;
}
// end snippet

static const struct ax_future_ops fetch_ops = {.poll = fetch_poll, .drop = fetch_drop};

static void fetch_init(struct fetch *f, uint16_t port, const char *path, uint64_t *finished_at)
{
    f->base.ops = &fetch_ops;
    f->hand_over = false;
    f->co = (struct ax_coroutine){0};
    f->port = port;
    f->path = path;
    f->finished_at = finished_at;
    f->conn = NULL;
    f->got = 0;
}

/* ---- the three ways ---------------------------------------------------------------- */

// snippet fetch-one-after-other
/* One task, two awaits in a row: the second request is not even sent until the first
 * response is in. */
struct one_after_other {
    struct ax_future base;
    struct ax_coroutine co;
    ax_result rc;
    struct fetch fetches[2];
};

static ax_result one_after_other_poll(struct ax_future *self, struct ax_context *cx)
{
    struct one_after_other *s = (struct one_after_other *)self;
    AX_ASYNC_BEGIN(&s->co);
    AX_AWAIT(&s->co, cx, &s->fetches[0].base, s->rc);
    if (s->rc < 0)
        AX_ASYNC_RETURN(&s->co, s->rc);
    AX_AWAIT(&s->co, cx, &s->fetches[1].base, s->rc);
    AX_ASYNC_END(&s->co, s->rc);
}
// end snippet

static void one_after_other_drop(struct ax_future *self)
{
    AX_ASYNC_DROP(&((struct one_after_other *)self)->co);
}

static const struct ax_future_ops one_after_other_ops = {.poll = one_after_other_poll,
                                                         .drop = one_after_other_drop};

/* One task, one join_all over both fetches: they are polled side by side. */
struct both_at_once {
    struct ax_future base;
    struct fetch fetches[2];
    struct ax_future *futures[2];
    bool finished[2];
    struct ax_join_all join;
};

static ax_result both_at_once_poll(struct ax_future *self, struct ax_context *cx)
{
    return ax_poll(&((struct both_at_once *)self)->join.base, cx);
}

static void both_at_once_drop(struct ax_future *self)
{
    ax_future_drop(&((struct both_at_once *)self)->join.base);
}

static const struct ax_future_ops both_at_once_ops = {.poll = both_at_once_poll,
                                                      .drop = both_at_once_drop};

static double ms_between(uint64_t from, uint64_t to)
{
    return (double)(to - from) / (double)AX_NS_PER_MS;
}

/* What one way of fetching measured: when it started, when each fetch and the whole
 * finished. */
struct way {
    const char *name; /* the result name's last part, in --tsv */
    const char *title;
    uint64_t start, fetched[2], end;
    size_t bytes[2]; /* the pages' sizes, where the way keeps the pages */
};

static void report(const struct way *way, const char *const paths[2], bool tsv)
{
    if (tsv) {
        printf("fetch.total_ms.%s\t%.3f\tms\n", way->name, ms_between(way->start, way->end));
        return;
    }
    printf("%-22s", way->title);
    for (int i = 0; i < 2; i++) {
        printf(" %s done at %5.1f ms", paths[i], ms_between(way->start, way->fetched[i]));
        if (way->bytes[i] > 0)
            printf(" (%zu bytes)", way->bytes[i]);
        printf(",");
    }
    printf(" all done at %5.1f ms\n", ms_between(way->start, way->end));
}

static void check(const char *what, ax_result rc)
{
    if (rc != 200) {
        fprintf(stderr, "concurrent-fetch: %s: %s\n", what,
                rc < 0 ? ax_strerror((int)rc) : "the server did not answer 200 OK");
        exit(1);
    }
}

static struct ax_executor *new_executor(void)
{
    struct ax_executor *executor;
    int err = ax_executor_new(&executor, NULL);
    if (err < 0) {
        fprintf(stderr, "concurrent-fetch: %s\n", ax_strerror(err));
        exit(1);
    }
    return executor;
}

static void *alloc_task(struct ax_executor *executor, size_t size)
{
    void *storage = ax_task_alloc(executor, size);
    if (storage == NULL) {
        fprintf(stderr, "concurrent-fetch: out of memory\n");
        exit(1);
    }
    return storage;
}

static void fetch_one_after_other(struct way *way, const uint16_t ports[2],
                                  const char *const paths[2])
{
    struct ax_executor *executor = new_executor();
    struct one_after_other *s = alloc_task(executor, sizeof *s);
    s->base.ops = &one_after_other_ops;
    for (int i = 0; i < 2; i++)
        fetch_init(&s->fetches[i], ports[i], paths[i], &way->fetched[i]);
    way->start = ax_now_ns();
    check("fetching one after the other", ax_block_on(executor, ax_task_spawn(&s->base)));
    way->end = ax_now_ns();
    ax_executor_free(executor);
}

// snippet fetch-spawned
/* Two tasks, started together, then joined. main is not a task, so it waits with
 * ax_block_on_output, which runs the executor until the task it names is done (every
 * other task runs meanwhile) and takes the page the task handed over: the task's
 * memory is gone by then, the page is ours. */
static void fetch_with_two_tasks(struct way *way, const uint16_t ports[2],
                                 const char *const paths[2])
{
    struct ax_executor *executor = new_executor();
    struct ax_task *tasks[2];
    way->start = ax_now_ns();
    for (int i = 0; i < 2; i++) {
        struct fetch *f = alloc_task(executor, sizeof *f);
        fetch_init(f, ports[i], paths[i], &way->fetched[i]);
        f->hand_over = true;
        tasks[i] = ax_task_spawn(&f->base); /* queued; nothing has run yet */
    }
    for (int i = 0; i < 2; i++) {
        void *output;
        check("fetching with two tasks", ax_block_on_output(executor, tasks[i], &output));
        struct page *page = output;
        way->bytes[i] = page->len;
        free(page);
    }
    way->end = ax_now_ns();
    ax_executor_free(executor);
}
// end snippet

static void fetch_with_join_all(struct way *way, const uint16_t ports[2],
                                const char *const paths[2])
{
    struct ax_executor *executor = new_executor();
    struct both_at_once *b = alloc_task(executor, sizeof *b);
    b->base.ops = &both_at_once_ops;
    for (int i = 0; i < 2; i++) {
        fetch_init(&b->fetches[i], ports[i], paths[i], &way->fetched[i]);
        b->futures[i] = &b->fetches[i].base;
    }
    ax_result results[2]; /* ours: they must outlive the task */
    ax_join_all_init(&b->join, b->futures, results, b->finished, 2);
    way->start = ax_now_ns();
    ax_result rc = ax_block_on(executor, ax_task_spawn(&b->base));
    way->end = ax_now_ns();
    for (int i = 0; i < 2; i++)
        check("fetching with join_all", rc < 0 ? rc : results[i]);
    ax_executor_free(executor);
}

/* ---- the two slow servers ---------------------------------------------------------- */

struct backend {
    pid_t pid;
    uint16_t port;
};

/* Starts build/bin/http-serve --port 0 --delay-ms MS and reads the port it announces. */
static void start_backend(struct backend *b, unsigned delay_ms)
{
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len < 0) {
        fprintf(stderr, "concurrent-fetch: cannot find my own binary\n");
        exit(1);
    }
    self[len] = '\0';
    char path[4200], delay[16];
    snprintf(path, sizeof path, "%.*s/http-serve", (int)(strrchr(self, '/') - self), self);
    snprintf(delay, sizeof delay, "%u", delay_ms);
    char *argv[] = {path, "--port", "0", "--delay-ms", delay, NULL};

    int out[2];
    if (pipe2(out, O_CLOEXEC) < 0) {
        perror("concurrent-fetch: pipe");
        exit(1);
    }
    fflush(stdout);
    b->pid = fork();
    if (b->pid < 0) {
        perror("concurrent-fetch: fork");
        exit(1);
    }
    if (b->pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        setenv("AX_LOG", "warn", 1);
        execv(path, argv);
        fprintf(stderr, "concurrent-fetch: cannot run %s: %s (run `make` first)\n", path,
                strerror(errno));
        _exit(127);
    }
    close(out[1]);
    char line[128];
    size_t got = 0;
    uint64_t deadline = ax_now_ns() + STARTUP_TIMEOUT_MS * AX_NS_PER_MS;
    while (got < sizeof line - 1 && memchr(line, '\n', got) == NULL && ax_now_ns() < deadline) {
        struct pollfd pfd = {.fd = out[0], .events = POLLIN};
        if (poll(&pfd, 1, 100) <= 0)
            continue;
        ssize_t n = read(out[0], line + got, 1);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(out[0]);
    line[got] = '\0';
    if (sscanf(line, "listening on 127.0.0.1:%hu", &b->port) != 1) {
        fprintf(stderr, "concurrent-fetch: http-serve did not announce its port\n");
        kill(b->pid, SIGKILL);
        waitpid(b->pid, NULL, 0);
        exit(1);
    }
}

static void stop_backend(struct backend *b)
{
    kill(b->pid, SIGTERM);
    waitpid(b->pid, NULL, 0);
}

static void usage(FILE *to, int status)
{
    fprintf(to, "usage: concurrent-fetch [--delays FAST,SLOW] [--tsv]\n"
                "  FAST, SLOW: how long each server waits before answering, in ms\n"
                "  (1..10000; default 100,200)\n");
    exit(status);
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"delays", required_argument, NULL, 'd'},
        {"tsv", no_argument, NULL, 't'},
        {"help", no_argument, NULL, 'H'},
        {0},
    };
    unsigned delays[2] = {100, 200};
    bool tsv = false;
    int opt;
    while ((opt = getopt_long(argc, argv, "d:t", options, NULL)) != -1) {
        char extra;
        if (opt == 'H')
            usage(stdout, 0);
        else if (opt == 't')
            tsv = true;
        else if (opt != 'd' || sscanf(optarg, "%u,%u%c", &delays[0], &delays[1], &extra) != 2 ||
                 delays[0] < 1 || delays[1] < 1 || delays[0] > 10000 || delays[1] > 10000)
            usage(stderr, 2);
    }
    if (optind != argc)
        usage(stderr, 2);

    struct backend backends[2];
    uint16_t ports[2];
    for (int i = 0; i < 2; i++) {
        start_backend(&backends[i], delays[i]);
        ports[i] = backends[i].port;
    }
    const char *const paths[2] = {"/fast", "/slow"};
    if (tsv)
        printf("fetch.delay_ms.fast\t%u\tms\nfetch.delay_ms.slow\t%u\tms\n", delays[0], delays[1]);
    else
        printf("/fast: a server that waits %u ms; /slow: one that waits %u ms\n", delays[0],
               delays[1]);
    struct way ways[] = {
        {.name = "sequential", .title = "one after the other:"},
        {.name = "spawned", .title = "two tasks, joined:"},
        {.name = "join_all", .title = "join_all in one task:"},
    };
    fetch_one_after_other(&ways[0], ports, paths);
    fetch_with_two_tasks(&ways[1], ports, paths);
    fetch_with_join_all(&ways[2], ports, paths);
    for (size_t i = 0; i < sizeof ways / sizeof ways[0]; i++)
        report(&ways[i], paths, tsv);
    for (int i = 0; i < 2; i++)
        stop_backend(&backends[i]);
    return 0;
}
