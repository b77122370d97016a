//@ 04
/* Events that tasks wait on; see ax/event.h. */
#include "ax/event.h"

void ax_event_init(struct ax_event *event)
{
    event->set = false;
    ax_list_init(&event->waiters);
}

void ax_event_set(struct ax_event *event)
{
    event->set = true;
    struct ax_list *node;
    while ((node = ax_list_pop_front(&event->waiters)) != NULL)
        ax_wake(&ax_container_of(node, struct ax_event_wait, link)->waker);
}

void ax_event_reset(struct ax_event *event)
{
    event->set = false;
}

static ax_result event_wait_poll(struct ax_future *self, struct ax_context *cx)
{
    struct ax_event_wait *wait = (struct ax_event_wait *)self;
    if (wait->event->set)
        return 0;
    if (!ax_list_linked(&wait->link))
        ax_list_push_back(&wait->event->waiters, &wait->link);
    if (!ax_waker_wakes(&wait->waker, cx)) {
        ax_waker_drop(&wait->waker);
        wait->waker = ax_waker_clone(cx);
    }
    return AX_PENDING;
}

static void event_wait_drop(struct ax_future *self)
{
    struct ax_event_wait *wait = (struct ax_event_wait *)self;
    ax_list_remove(&wait->link);
    ax_waker_drop(&wait->waker);
}

static const struct ax_future_ops event_wait_ops = {.poll = event_wait_poll,
                                                    .drop = event_wait_drop};

void ax_event_wait_init(struct ax_event_wait *wait, struct ax_event *event)
{
    *wait = (struct ax_event_wait){.base = {&event_wait_ops}, .event = event};
    ax_list_init(&wait->link);
}
