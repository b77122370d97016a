/* Exercise 04-join-dynamic: a reference solution. */
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
    struct join_set_member *member = malloc(sizeof *member);
    struct ax_task *task = ax_task_spawn(future);
    if (member == NULL) {
        ax_task_detach(task);
        return -ENOMEM;
    }
    ax_join_init(&member->join, task);
    ax_list_push_back(&set->members, &member->link);
    return 0;
}

/* Every pending join is polled on every wake, so a wake costs O(members): fine for the
 * hundreds a set usually holds, as with ax_join_all. Joins that are still pending keep
 * their waker on their task, which is what brings this future back. */
static ax_result join_set_wait_poll(struct ax_future *self, struct ax_context *cx)
{
    struct join_set *set = ((struct join_set_wait *)self)->set;
    struct ax_list *node, *next;
    ax_list_for_each_safe(node, next, &set->members)
    {
        struct join_set_member *member = ax_container_of(node, struct join_set_member, link);
        ax_result rc = ax_poll(&member->join.base, cx);
        if (rc == AX_PENDING)
            continue;
        ax_future_drop(&member->join.base);
        ax_list_remove(&member->link);
        free(member);
        set->joined++;
        if (rc < 0 && set->first_error == 0)
            set->first_error = rc;
    }
    if (!ax_list_empty(&set->members))
        return AX_PENDING;
    return set->first_error < 0 ? set->first_error : (ax_result)set->joined;
}

static const struct ax_future_ops join_set_wait_ops = {.poll = join_set_wait_poll};

void join_set_wait_init(struct join_set_wait *wait, struct join_set *set)
{
    *wait = (struct join_set_wait){.base = {&join_set_wait_ops}, .set = set};
}

void join_set_free(struct join_set *set)
{
    struct ax_list *node;
    while ((node = ax_list_pop_front(&set->members)) != NULL) {
        struct join_set_member *member = ax_container_of(node, struct join_set_member, link);
        ax_future_drop(&member->join.base); /* gives the handle back */
        free(member);
    }
}
