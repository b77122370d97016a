//@ 04
/*
 * Inside the executor: its state, shared by the files that implement it (task.c
 * runs tasks, io.c parks them on file descriptors). Not part of the public API.
 */
#ifndef AX_EXECUTOR_INTERNAL_H
#define AX_EXECUTOR_INTERNAL_H

#include "ax/future.h"
#include "ax/list.h"

#include <stddef.h>

/* The tasks waiting for one fd: at most one per direction. */
struct ax__io_waiters {
    struct ax_waker readable;
    struct ax_waker writable;
};

struct ax_executor {
    struct ax_reactor *reactor;
    struct ax_list run_queue; /* woken tasks, polled in the order they woke */
    struct ax_list tasks; /* every task not yet done */
    size_t alive;
    struct ax__io_waiters *io; /* indexed by fd; io_capacity entries */
    int io_capacity;
};

void ax__io_free(struct ax_executor *executor);

#endif
