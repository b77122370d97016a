//@ 02
/*
 * A chapter's demo server, run as a real process by a test.
 *
 * The demo is found next to the suite's own build tree (build/tests/NN/suite ->
 * build/bin/NAME), so a sanitizer build tests the sanitizer build of the demo. It is
 * started with `--port 0`, its `listening on 127.0.0.1:PORT` line tells the test
 * where to connect, and it dies with the test process, so a failed test leaves no
 * server behind. A descriptor limit, when asked for, is set by a shell before exec:
 * under valgrind, setrlimit in the test would change only valgrind's idea of it.
 */
#ifndef AXT_DEMO_H
#define AXT_DEMO_H

#include "axtest.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* How long a test waits for anything a working server does promptly. */
#define AXT_PROMPT_MS 3000

struct axt_demo {
    pid_t pid;
    uint16_t port;
};

/* Starts build/bin/NAME with args (NULL-terminated; NULL for none); nofile > 0 sets
 * its descriptor limit. Its stdout comes back in *out_fd, and its stderr in *err_fd
 * when err_fd is not NULL. */
pid_t axt_demo_spawn(const char *name, const char *const args[], int nofile, int *out_fd,
                     int *err_fd);

/* Starts the demo with `--port 0` and args, and reads its listening line. */
void axt_demo_start(struct axt_demo *demo, const char *name, const char *const args[], int nofile);

bool axt_demo_alive(const struct axt_demo *demo);

/* Checks it is still running, then stops it with SIGTERM and reaps it. */
void axt_demo_stop(struct axt_demo *demo);

/* A blocking connection to the demo, or the test fails. */
int axt_demo_connect(const struct axt_demo *demo);

/* CPU time (user + system) a process has used so far, in milliseconds. */
long axt_cpu_ms(pid_t pid);

/* For a demo started with a descriptor limit of about 16: connects clients until one
 * is not served within 300 ms (asserting that some were, and that the limit was
 * reached), then asserts the server burns little CPU while that client waits. The
 * clients are fds[0..*count); returns the index of the one left waiting. */
int axt_fill_to_fd_limit_without_spinning(struct axt_demo *demo, int fds[], int max, int *count);

/* Reads up to n bytes within ms, stopping at end of stream; EINTR, EAGAIN and short
 * reads only mean "go round". Works on sockets and pipes. Returns the count. */
size_t axt_read_within(int fd, void *buf, size_t n, int ms);

/* Sends msg and expects it back within ms: false if it did not come. */
bool axt_echoes_within(int fd, const char *msg, int ms);

/* The same, failing the test if the echo does not come within AXT_PROMPT_MS. */
void axt_assert_echoes(int fd, const char *msg);

#endif
