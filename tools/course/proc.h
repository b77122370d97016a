/*
 * proc: runs another program with its output captured. The course tool runs two
 * kinds: `make`, to build an exercise's test binary, and the test binary itself.
 *
 * The child reads /dev/null, writes stdout and stderr into one pipe (so the two
 * stay in the order the child wrote them), and runs in a process group of its own,
 * so that a timeout, or a Ctrl-C forwarded by course_proc_forward_signal, reaches
 * everything it started.
 */
#ifndef COURSE_PROC_H
#define COURSE_PROC_H

#include <stdbool.h>
#include <stddef.h>

struct course_capture {
    char *text; /* everything the child printed, NUL-terminated */
    size_t len;
    int status; /* as waitpid reports it */
    bool timed_out; /* the child ran past its time and was killed */
    bool truncated; /* it printed more than we keep; the start is kept */
};

/* Flags for course_capture_run. */
enum {
    COURSE_CAPTURE_STDOUT_ONLY = 1, /* stderr goes to /dev/null: for capturing data */
};

/*
 * Runs argv (argv[0] is searched in PATH unless it contains a '/') with its
 * environment changed by `env` (NULL-terminated, may be NULL): "NAME=value" sets a
 * variable, a bare "NAME" removes one, and waits for it at most timeout_ms milliseconds (0: no limit).
 * Returns 0 when the child ran, whatever its exit status, or a negative errno
 * value when it could not be started. A program that is not found exits with 127.
 */
int course_capture_run(char *const argv[], char *const env[], int timeout_ms, int flags,
                       struct course_capture *out);

void course_capture_free(struct course_capture *c);

/* "exit status 1", "killed by signal 11 (Segmentation fault)". */
void course_describe_status(int status, char *buf, size_t len);

/* Sends sig to the running child's process group, if there is one. Safe in a
 * signal handler. */
void course_proc_forward_signal(int sig);

/*
 * Installs SIGINT, SIGTERM and SIGHUP handlers that forward the signal to the
 * running child, call `cleanup` (which must be async-signal-safe; may be NULL), and
 * then die of the signal as if no handler had been there.
 */
void course_proc_handle_signals(void (*cleanup)(void));

#endif
