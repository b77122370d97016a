//@ 06
/*
 * Driving futures by hand, for the suites that prove what dropping a future mid-way
 * does (chapter 06, cancel safety): poll a future exactly once, then decide from the
 * test whether to poll it again or drop it. And the blocking socket helpers the test's
 * own end of a connection uses, which retry EINTR and short transfers so that they
 * hold under make test-faults.
 */
#ifndef AXT_BY_HAND_H
#define AXT_BY_HAND_H

#include "ax/future.h"
#include "ax/task.h"

#include <stddef.h>

/* Lets the reactor report what is ready now (without waiting), then polls future once
 * from a task of its own that ends right after: the waker the future keeps wakes
 * nothing. Returns what the poll returned, AX_PENDING included. The future stays the
 * caller's, to poll again or drop. */
ax_result axt_poll_once(struct ax_executor *executor, struct ax_future *future);

/* Sends all len bytes on a blocking fd, retrying EINTR and short sends; fails the test
 * on any other error. */
void axt_send_all(int fd, const void *buf, size_t len);

/* Reads what fd has to give right now, up to len bytes, without waiting for more:
 * the count (0 when nothing is there, or at end of stream). */
size_t axt_drain_now(int fd, void *buf, size_t len);

#endif
