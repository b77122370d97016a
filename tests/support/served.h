//@ 02
/*
 * A server function under test, run in a child process: the way the exercise suites
 * test a function that serves a listener until told to stop (02-chat-room,
 * 02-challenge-proxy, 03-challenge-edge-echo).
 *
 * The child exits with the function's result as a positive errno (0 for success), so a
 * crash, a hang or a descriptor it forgot to close is the child's and the test can say
 * which. The child dies with the test (PR_SET_PDEATHSIG). A server is stopped the way
 * the exercises promise: shutting its listener down makes the function return 0.
 */
#ifndef AXT_SERVED_H
#define AXT_SERVED_H

#include "axtest.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct axt_served {
    const char *name; /* the function under test, for messages: "chat_serve" */
    pid_t pid;
    int listen_fd; /* the test's copy of the listener */
    uint16_t port;
    bool exited;
    int status; /* from waitpid, once exited */
};

/* Listens on 127.0.0.1 (port 0) for the function `name`, or fails the test. */
void axt_served_listen(struct axt_served *s, const char *name);

/* Forks; the child calls serve(s, arg) and exits with its result as a positive errno.
 * Returns in the test's process only. */
void axt_served_fork(struct axt_served *s, int (*serve)(struct axt_served *s, void *arg),
                     void *arg);

/* For serve, in the child: closes every descriptor from 3 up but keep, so that what the
 * function holds is what it opened. */
void axt_served_close_others(int keep);

/* Whether the child has ended (without waiting). */
bool axt_served_exited(struct axt_served *s);

/* How the child ended: "NAME returned -N (text)" or "NAME's process died of signal N". */
const char *axt_served_exit_text(const struct axt_served *s);

/* Fails the test if the child has ended, saying how. */
void axt_served_assert_running(struct axt_served *s);

/* Waits up to ms for the child to end; false, having killed it, if it did not. */
bool axt_served_exits_within(struct axt_served *s, int ms);

/* Shuts the listener down and expects the function to return 0 within ms. */
void axt_served_stop(struct axt_served *s, int ms);

/* What the child holds, read from /proc: its threads, the descriptors that are sockets
 * (its copy of the listener left out) into fds[0..max), and one descriptor's open flags
 * (O_NONBLOCK, ...). */
int axt_served_threads(const struct axt_served *s);
int axt_served_sockets(const struct axt_served *s, int fds[], int max);
long axt_served_fd_flags(const struct axt_served *s, int fd);

#endif
