/* Exercise 04-join-dynamic. Read "Doing several things at once" in chapter 04 first. */
#include "join_set.h"

#include <errno.h>
#include <stdlib.h>

void join_set_init(struct join_set *set, struct ax_executor *executor)
{
    *set = (struct join_set){.executor = executor};
    ax_list_init(&set->members);
}

int join_set_spawn(struct join_set *set, struct ax_future *future)
{
    /* TODO: allocate a member, start the task (ax_task_spawn gives its handle), let the
     * member's ax_join own the handle, and link the member onto the set's list. If the
     * allocation fails, start the task anyway and detach its handle. */
    (void)set;
    (void)future;
    return -ENOSYS;
}

static ax_result join_set_wait_poll(struct ax_future *self, struct ax_context *cx)
{
    /* TODO: poll every member's join (chapter 04, "Doing several things at once": join_all
     * does the same over an array). A join that finishes has given its handle back:
     * unlink and free its member, count it, and keep the first error. Pending while
     * any member is left. Walking the list with ax_list_for_each_safe lets you unlink
     * the member you are on. */
    (void)self;
    (void)cx;
    return -ENOSYS;
}

static const struct ax_future_ops join_set_wait_ops = {.poll = join_set_wait_poll};

void join_set_wait_init(struct join_set_wait *wait, struct join_set *set)
{
    *wait = (struct join_set_wait){.base = {&join_set_wait_ops}, .set = set};
}

void join_set_free(struct join_set *set)
{
    /* TODO: drop the join of every member left (that gives its handle back) and free
     * the member. */
    (void)set;
}
