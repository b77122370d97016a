//@ 05
/*
 * Real loopback sockets under virtual time, for the chapter 05 suites that connect to
 * something: addresses that answer, refuse or hang, and a task that keeps a paused clock
 * still until the kernel has done what the test knows it will do.
 *
 * Why the clock needs holding. On paused time, once no task is ready, the executor looks
 * at I/O once without waiting and, if nothing is ready, jumps straight to the next timer
 * (ax/timer.h). Over loopback the kernel has nearly always finished a handshake or
 * delivered the bytes by that look, but not always: on a busy machine it may leave its
 * network work to a kernel thread for a moment, and a test whose connect lost that race
 * would see a deadline pass instead. axt_hold_clock spawns a task that keeps the executor
 * busy, so that time stands still, from a given moment until a condition the test names
 * holds; the look that follows then sees the I/O. Where a test holds the clock, it is
 * because it knows the I/O will come.
 *
 * Hanging a connect on 127.0.0.1 or ::1. A listener with a backlog of 0 that holds one
 * connection nobody accepts has a full accept queue; Linux then drops new SYNs, and a
 * connect to it stays pending for as long as a test lasts (the SYN is sent again after
 * 1 s, 3 s, 7 s ... of real time, and dropped each time).
 *
 * Every helper fails the test when the machine does not cooperate.
 */
#ifndef AXT_LOOPBACK_H
#define AXT_LOOPBACK_H

#include "axtest.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct ax_executor;

/* How long a held clock waits for its condition, in real time, before it lets go
 * (scaled by CK_TIMEOUT_MULTIPLIER, as Check scales its timeouts). */
#define AXT_HOLD_LIMIT_MS 3000

/* The loopback address of family (127.0.0.1 for AF_INET, ::1 for AF_INET6) with port, in
 * *out; returns its length. */
socklen_t axt_loopback_addr(int family, uint16_t port, struct sockaddr_storage *out);

/* Whether ::1 can be listened on here (IPv6 may be switched off in a container). */
bool axt_ipv6_available(void);

/* A listening TCP socket on family's loopback, a port the kernel picks; the port in
 * *port. Blocking, so a test can ax_accept from it. */
int axt_loopback_listen(int family, int backlog, uint16_t *port);

/* A port on family's loopback where nothing listens: a connect to it is refused at once.
 * (It was bound a moment ago and closed; nothing else in a test claims it meanwhile.) */
uint16_t axt_refused_port(int family);

enum { AXT_FILLERS_MAX = 8 };

/* A listener whose accept queue is full: a connect to its port hangs. */
struct axt_full_listener {
    int fd;
    uint16_t port;
    int fillers[AXT_FILLERS_MAX]; /* the connections that fill the queue */
    int count;
};

void axt_full_listener_open(struct axt_full_listener *l, int family);
void axt_full_listener_close(struct axt_full_listener *l);

/* Whether a connection waits in listen_fd's accept queue: one look, no waiting. */
bool axt_connection_waiting(int listen_fd);

/* The descriptors this process has open. */
int axt_open_fds(void);

/* Spawns a task (detached) that sleeps until from_ns on the executor's clock (0: starts
 * at once), then keeps the executor busy until until(arg) is true, or until the hold
 * limit has passed in real time, when it says so on stderr and lets the clock go. */
void axt_hold_clock(struct ax_executor *executor, uint64_t from_ns, bool (*until)(void *arg),
                    void *arg);

/* Conditions for axt_hold_clock. arg points at a listening descriptor (an int): a
 * connection waits in its queue. arg points at a bool: it is true. */
bool axt_until_connection_waiting(void *listen_fd);
bool axt_until_true(void *flag);

#endif
