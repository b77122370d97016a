//@ 04
/*
 * An event: one flag that any number of tasks can wait for.
 *
 * Setting the event wakes every task waiting on it, and it stays set (so later
 * waiters finish at once) until reset. Waiters are kept on an intrusive list through
 * their wait futures, so waiting allocates nothing: a million tasks can park on one
 * event for the cost of their own futures.
 */
#ifndef AX_EVENT_H
#define AX_EVENT_H

#include "ax/future.h"
#include "ax/list.h"

#include <stdbool.h>

struct ax_event {
    bool set;
    struct ax_list waiters; /* struct ax_event_wait, by link */
};

void ax_event_init(struct ax_event *event);
void ax_event_set(struct ax_event *event);
void ax_event_reset(struct ax_event *event);

/* A future that finishes (with 0) once the event is set. */
struct ax_event_wait {
    struct ax_future base;
    struct ax_event *event;
    struct ax_list link;
    struct ax_waker waker;
};

void ax_event_wait_init(struct ax_event_wait *wait, struct ax_event *event);

#endif
