/*
 * lost-lines: what a timeout costs a reader that is not cancel safe.
 *
 *     build/bin/lost-lines [--timeout-ms N]
 *
 * A peer sends five lines over a socketpair, each in three pieces 70 ms apart. A
 * reader reads them one at a time, each under a timeout (100 ms unless --timeout-ms
 * says otherwise). When the timeout fires first, the line future is dropped, the
 * reader counts a timeout and starts on the next line, as a server that checks for
 * shutdown between reads would. The same peer is read twice:
 *
 *   naive   a line future that reads into a buffer of its own: dropping it throws
 *           away the bytes it had read, so a line comes out without its start
 *   safe    ax_next_line (ax/lines.h): the bytes live in the connection's ax_lines,
 *           and the next line future picks up where the dropped one stopped
 *
 * For each it prints the bytes lost (sent, but never in a line the reader got), the
 * lines that arrived intact, and the timeouts. Time is virtual, so the run takes no
 * time at all and always reads the same. A timeout longer than a line takes to
 * arrive (--timeout-ms 300) never fires, and hides the bug: both lose nothing.
 */
#include "ax/async.h"
#include "ax/clock.h"
#include "ax/error.h"
#include "ax/io.h"
#include "ax/lines.h"
#include "ax/source.h"
#include "ax/task.h"
#include "ax/timer.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { LINES = 5, PIECES = 3, MAX_LINE = 100 };
#define PIECE_GAP (70 * AX_NS_PER_MS)

static const char *const script[LINES][PIECES] = {
    {"the first ", "line comes ", "in three pieces\n"},
    {"so does ", "the second, ", "slowly\n"},
    {"each piece ", "is seventy ", "milliseconds apart\n"},
    {"a reader ", "that times out ", "mid-line\n"},
    {"must not ", "lose what ", "it has read\n"},
};

/* ---- the peer: sends the script, piece by piece, then closes ------------------------ */

struct peer {
    struct ax_future base;
    struct ax_coroutine co;
    struct ax_source *source;
    int line, piece;
    ax_result rc;
    struct ax_write_future write;
    struct ax_sleep sleep;
};

static ax_result peer_poll(struct ax_future *self, struct ax_context *cx)
{
    struct peer *p = (struct peer *)self;
    AX_ASYNC_BEGIN(&p->co);
    for (p->line = 0; p->line < LINES; p->line++) {
        for (p->piece = 0; p->piece < PIECES; p->piece++) {
            const char *text = script[p->line][p->piece];
            ax_write_future_init(&p->write, p->source, text, strlen(text));
            AX_AWAIT(&p->co, cx, &p->write.base, p->rc);
            if (p->rc < 0)
                AX_ASYNC_RETURN(&p->co, p->rc);
            ax_sleep_init(&p->sleep, PIECE_GAP);
            AX_AWAIT(&p->co, cx, &p->sleep.base, p->rc);
        }
    }
    ax_source_close(p->source); /* the reader sees the end of stream */
    p->source = NULL;
    AX_ASYNC_END(&p->co, 0);
}

static void peer_drop(struct ax_future *self)
{
    struct peer *p = (struct peer *)self;
    AX_ASYNC_DROP(&p->co);
    if (p->source != NULL)
        ax_source_close(p->source);
}

static const struct ax_future_ops peer_ops = {.poll = peer_poll, .drop = peer_drop};

/* ---- the naive line future: its buffer is its own --------------------------------- */

// snippet naive-read
/* Reads until "\n" into a buffer inside the future. Dropped half-way, the bytes in
 * buf go with it. (It also drops whatever one read brings after the "\n": the peer
 * here pauses between lines, so the loss counted below is the timeout's alone.) */
struct naive_line {
    struct ax_future base;
    struct ax_source *source;
    struct ax_read_future read;
    bool reading;
    size_t len;
    char buf[MAX_LINE + 1];
};

static ax_result naive_line_poll(struct ax_future *self, struct ax_context *cx)
{
    struct naive_line *n = (struct naive_line *)self;
    for (;;) {
        if (!n->reading)
            ax_read_future_init(&n->read, n->source, n->buf + n->len, MAX_LINE - n->len);
        n->reading = true;
        ax_result got = ax_poll(&n->read.base, cx);
        if (got == AX_PENDING)
            return got;
        ax_future_drop(&n->read.base);
        n->reading = false;
        if (got <= 0)
            return got == 0 ? AX_EOF : got;
        char *newline = memchr(n->buf + n->len, '\n', (size_t)got);
        n->len += (size_t)got;
        if (newline != NULL) {
            *newline = '\0';
            return newline - n->buf;
        }
        if (n->len == MAX_LINE)
            return -EMSGSIZE;
    }
}
// end snippet

static void naive_line_drop(struct ax_future *self)
{
    struct naive_line *n = (struct naive_line *)self;
    if (n->reading)
        ax_future_drop(&n->read.base);
    n->reading = false;
}

static const struct ax_future_ops naive_line_ops = {.poll = naive_line_poll,
                                                    .drop = naive_line_drop};

/* ---- the reader: one line at a time, each under a timeout -------------------------- */

struct counts {
    size_t bytes, intact, timeouts; /* bytes: of the lines taken, each with its "\n" */
};

struct reader {
    struct ax_future base;
    bool safe; /* ax_next_line, or the naive line future */
    uint64_t timeout_ns;
    struct ax_source *source;
    struct ax_lines *lines;
    bool waiting; /* `timeout` holds a line future */
    union {
        struct naive_line naive;
        struct ax_next_line next;
    };
    struct ax_timeout timeout;
    struct counts *counts; /* main's: the task's memory goes when it finishes */
};

static struct ax_future *start_line(struct reader *r)
{
    if (r->safe) {
        ax_next_line_init(&r->next, r->lines);
        return &r->next.base;
    }
    r->naive = (struct naive_line){.base = {&naive_line_ops}, .source = r->source};
    return &r->naive.base;
}

/* A line the reader got: its bytes, "\n" included, and whether it is one that was sent. */
static void take(struct reader *r, const char *line, size_t len)
{
    r->counts->bytes += len + 1;
    for (int i = 0; i < LINES; i++) {
        char sent[MAX_LINE + 1];
        snprintf(sent, sizeof sent, "%s%s%s", script[i][0], script[i][1], script[i][2]);
        sent[strcspn(sent, "\n")] = '\0';
        if (strcmp(line, sent) == 0) {
            r->counts->intact++;
            return;
        }
    }
}

// snippet reader-loop
static ax_result reader_poll(struct ax_future *self, struct ax_context *cx)
{
    struct reader *r = (struct reader *)self;
    for (;;) {
        if (!r->waiting)
            ax_timeout_init(&r->timeout, start_line(r),
                            ax_executor_now(cx->executor) + r->timeout_ns);
        r->waiting = true;
        ax_result rc = ax_poll(&r->timeout.base, cx);
        if (rc == AX_PENDING)
            return rc;
        ax_future_drop(&r->timeout.base); /* and the line future with it, done or not */
        r->waiting = false;
        if (rc == -ETIMEDOUT) {
            r->counts->timeouts++; /* a server would look for a shutdown here, then read on */
            continue;
        }
        if (rc < 0)
            return rc == AX_EOF ? 0 : rc;
        take(r, r->safe ? r->next.line : r->naive.buf, (size_t)rc);
    }
}
// end snippet

static void reader_drop(struct ax_future *self)
{
    struct reader *r = (struct reader *)self;
    if (r->waiting)
        ax_future_drop(&r->timeout.base);
    r->waiting = false;
}

static const struct ax_future_ops reader_ops = {.poll = reader_poll, .drop = reader_drop};

/* ---- main ------------------------------------------------------------------------- */

static void usage(FILE *to, int status)
{
    fprintf(to, "usage: lost-lines [--timeout-ms N]\n"
                "  a peer sends 5 lines in pieces 70 ms apart; a naive reader and a\n"
                "  cancel-safe one read them, each line under a timeout (default 100 ms),\n"
                "  and count the bytes lost, the lines intact and the timeouts\n");
    exit(status);
}

static uint64_t parse_ms(const char *text)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || v < 1 || v > 60 * 1000)
        usage(stderr, 2);
    return (uint64_t)v * AX_NS_PER_MS;
}

static void fail(const char *what, int err)
{
    fprintf(stderr, "lost-lines: %s: %s\n", what, ax_strerror(err));
    exit(1);
}

static size_t script_bytes(void)
{
    size_t total = 0;
    for (int i = 0; i < LINES; i++)
        for (int k = 0; k < PIECES; k++)
            total += strlen(script[i][k]);
    return total;
}

/* Runs the peer and one reader to the end, on virtual time, and prints its counts. */
static void run(bool safe, uint64_t timeout_ns)
{
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0)
        fail("socketpair", ax__errno());
    struct ax_executor *executor;
    int err = ax_executor_new(&executor, NULL);
    if (err < 0)
        fail("executor", err);
    ax_executor_pause_time(executor, ax_now_ns());
    struct ax_source *ours, *theirs;
    if ((err = ax_source_open(executor, fds[0], &ours)) < 0 ||
        (err = ax_source_open(executor, fds[1], &theirs)) < 0)
        fail("source", err);
    struct ax_lines lines;
    if ((err = ax_lines_init(&lines, ours, MAX_LINE)) < 0)
        fail("lines", err);

    struct peer *p = ax_task_alloc(executor, sizeof *p);
    struct reader *r = ax_task_alloc(executor, sizeof *r);
    if (p == NULL || r == NULL)
        fail("tasks", -ENOMEM);
    *p = (struct peer){.base = {&peer_ops}, .source = theirs};
    struct counts counts = {0};
    *r = (struct reader){.base = {&reader_ops},
                         .counts = &counts,
                         .safe = safe,
                         .timeout_ns = timeout_ns,
                         .source = ours,
                         .lines = &lines};
    ax_task_detach(ax_task_spawn(&p->base));
    ax_result rc = ax_block_on(executor, ax_task_spawn(&r->base));
    if (rc < 0)
        fail(safe ? "safe reader" : "naive reader", (int)rc);
    printf("%-13s %3zu bytes lost, %zu of %d lines intact, %zu timeouts\n",
           safe ? "safe reader:" : "naive reader:", script_bytes() - counts.bytes, counts.intact,
           LINES, counts.timeouts);
    ax_lines_free(&lines);
    ax_source_close(ours);
    ax_executor_free(executor);
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"timeout-ms", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'H'},
        {0},
    };
    uint64_t timeout_ns = 100 * AX_NS_PER_MS;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 't':
            timeout_ns = parse_ms(optarg);
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

    printf("peer: %d lines, %zu bytes, each in %d pieces %llu ms apart; timeout %llu ms\n", LINES,
           script_bytes(), PIECES, (unsigned long long)(PIECE_GAP / AX_NS_PER_MS),
           (unsigned long long)(timeout_ns / AX_NS_PER_MS));
    run(false, timeout_ns);
    run(true, timeout_ns);
    return 0;
}
