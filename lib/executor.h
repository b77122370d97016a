//@ 04
/*
 * Inside the executor: its state, shared by the files that implement it (task.c
 * runs tasks). Not part of the public API.
 */
#ifndef AX_EXECUTOR_INTERNAL_H
#define AX_EXECUTOR_INTERNAL_H

#include "ax/future.h"
#include "ax/list.h"

#include <stddef.h>

struct ax_executor {
    struct ax_reactor *reactor;
    struct ax_list run_queue; /* woken tasks, polled in the order they woke */
    struct ax_list tasks; /* every task not yet done */
    size_t alive;
    int coop_budget; /* I/O operations per task poll; -1: no limit */
    size_t io_waiters; /* futures parked on sources (source.c) */
    size_t edge_sources; /* sources registered for good, waited on or not */
};

#endif
