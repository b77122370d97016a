//@ 04
/*
 * Inside the executor: its state, shared by the files that implement it (task.c runs
 * tasks, source.c counts the futures parked on sockets). Not part of the public API.
 */
#ifndef AX_EXECUTOR_INTERNAL_H
#define AX_EXECUTOR_INTERNAL_H

#include "ax/future.h"
#include "slab.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ax_executor {
    struct ax_reactor *reactor;
    struct ax_task *queue_head, *queue_tail; /* woken tasks, polled in the order they woke */
    struct ax__slab tasks; /* every task's memory: the slab can visit them all */
    size_t alive; /* tasks spawned and not done */
    uint64_t last_id;
    int coop_budget; /* I/O operations per task poll; -1: no limit */
    size_t io_waiters; /* futures parked on sources (source.c) */
    size_t edge_sources; /* sources registered for good, waited on or not */
};

#endif
