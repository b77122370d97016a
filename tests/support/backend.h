//@ 06
/*
 * A scripted backend for the chapter 06 suites that call one: a real listener on
 * 127.0.0.1, served by a task on the executor of the code under test, so that it acts
 * at set moments of virtual time.
 *
 * It accepts one connection, reads one request line (up to its "\n"), then, at the
 * script's time, answers with a line, or ends its side of the stream, or both, or
 * neither (it stays silent). It keeps its end of the connection open until the test is
 * over, so the test can see whether the client closed its own (axt_backend_hung_up).
 * It never closes first: a client that gives up is seen, not guessed.
 *
 * Holding the clock (tests/support/loopback.h explains why it is needed). Once it has
 * answered, the backend keeps the executor busy, so time stands still, until the client
 * has hung up: the answer it sent is read before any deadline can overtake it. (A client
 * that never hangs up is let go after loopback.h's hold limit, with a line on stderr.) The
 * test holds the clock itself for what comes before (axt_backend_expect): from the
 * moment it knows a client will connect until the request is in.
 *
 * The backend is one task from axt_backend_open to ax_executor_free, so
 * ax_executor_tasks counts it, and it holds a timer only while it waits for its moment
 * to answer. Every helper fails the test when the machine does not cooperate.
 */
#ifndef AXT_BACKEND_H
#define AXT_BACKEND_H

#include "ax/event.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ax_executor;

/* What a backend does once it has the whole request. */
struct axt_backend_script {
    uint64_t answer_at; /* the executor's time when it acts (0, or past: at once) */
    const char *reply; /* the bytes it sends then, "\n" included (NULL: none) */
    bool hang_up; /* then ends its side (shutdown for writing): the client reads EOF */
};

enum { AXT_BACKEND_SEEN = 256 };

struct axt_backend {
    struct ax_executor *executor;
    struct axt_backend_script script;
    int listen_fd; /* the test's; the task listens on a copy */
    uint16_t port;
    /* what it saw */
    bool accepted;
    int fd; /* its end of the connection, -1 before it accepted */
    bool request_in; /* the request's "\n" has arrived */
    uint64_t request_at; /* the executor's time when it did */
    size_t request_len;
    char request[AXT_BACKEND_SEEN]; /* its first bytes, NUL-terminated */
    size_t timers_at_request; /* ax_executor_timers() when the request was in */
    bool answered;
    struct ax_event never; /* what it waits on once it is done */
};

/* Listens on 127.0.0.1 (port 0: the kernel picks) and spawns the backend's task on
 * executor, to play script, which must outlive it. */
void axt_backend_open(struct axt_backend *b, struct ax_executor *executor,
                      const struct axt_backend_script *script);

/* Closes the test's listener. Call it after ax_executor_free, which drops the task. */
void axt_backend_close(struct axt_backend *b);

/* Holds the executor's clock from from_ns (0: now) until the backend has the whole
 * request: for a test that knows a client will connect then. */
void axt_backend_expect(struct axt_backend *b, uint64_t from_ns);

/* Whether the client closed its end of the backend's connection, waiting for it a
 * bounded while in real time (the kernel delivers a close over loopback at once; the
 * wait is only for a busy machine). False also when no client ever came. */
bool axt_backend_hung_up(const struct axt_backend *b);

/* Whether a client is waiting in the backend's accept queue, or was accepted: whether
 * anyone connected at all. */
bool axt_backend_contacted(const struct axt_backend *b);

#endif
