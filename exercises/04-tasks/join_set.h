/*
 * Exercise 04-join-dynamic: wait for every task of a set that grows while you wait.
 *
 * ax_join_all waits for a fixed array of futures, known up front. A crawler does not
 * know its work up front: every page it fetches may add pages to fetch. A join set
 * holds the handles of the tasks spawned into it, and its wait future finishes only
 * when every task in the set has finished, including tasks spawned into it while it
 * waited (typically by the tasks of the set themselves). It is tokio's JoinSet, or Go's
 * sync.WaitGroup, for this runtime.
 *
 * The set keeps one struct join_set_member per task it has not joined yet, on an
 * intrusive list, each with an ax_join for that task's handle. One executor thread uses
 * the set, and one task at a time awaits it.
 */
#ifndef JOIN_SET_H
#define JOIN_SET_H

#include "ax/future.h"
#include "ax/list.h"
#include "ax/task.h"

#include <stddef.h>

struct join_set {
    struct ax_executor *executor;
    struct ax_list members; /* struct join_set_member, by link: not joined yet */
    size_t joined; /* tasks joined so far */
    ax_result first_error; /* 0, or the first negative result joined */
};

struct join_set_member {
    struct ax_list link;
    struct ax_join join; /* owns the task's handle until it is joined */
};

void join_set_init(struct join_set *set, struct ax_executor *executor);

/*
 * Starts the task whose storage holds `future` (from ax_task_alloc on the set's
 * executor) and adds it to the set. 0, or -ENOMEM if there is no memory for its member:
 * the task is then started anyway but not added (its handle is detached).
 */
int join_set_spawn(struct join_set *set, struct ax_future *future);

/*
 * A future that waits until every task in the set has finished, tasks spawned into the
 * set while it waits included, joining each one (its member is freed as it is joined).
 * It finishes with the number of tasks the set has joined since join_set_init, by this
 * wait and any earlier one (0 for a set that never had a task), or, if any task
 * finished with an error, with the first such error the set joined; either way only
 * once every task is done. Dropping it while it waits leaves the set as it is: the
 * tasks it joined stay counted, and the next wait carries on.
 */
struct join_set_wait {
    struct ax_future base;
    struct join_set *set;
};

void join_set_wait_init(struct join_set_wait *wait, struct join_set *set);

/* Gives back the handles of the tasks not joined yet (they run on, detached) and frees
 * their members. The set is empty afterwards. */
void join_set_free(struct join_set *set);

#endif
