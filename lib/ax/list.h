//@ 01
/*
 * An intrusive, circular, doubly linked list.
 *
 * "Intrusive" means the links live inside the element (a struct ax_list member)
 * instead of in a separate node the list allocates: adding and removing never
 * allocate and never fail, and an element knows how to unlink itself in O(1). The
 * run queue, the reactor's watchers and the timers all use this one list.
 *
 * A list is a head node whose next/prev point at itself when empty. An element that
 * is not on any list is kept self-linked too (ax_list_init), so ax_list_remove is
 * always safe and ax_list_linked tells whether an element is on a list.
 */
#ifndef AX_LIST_H
#define AX_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct ax_list {
    struct ax_list *next;
    struct ax_list *prev;
};

/* From a pointer to a member back to the struct that contains it. */
#define ax_container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

static inline void ax_list_init(struct ax_list *node)
{
    node->next = node;
    node->prev = node;
}

static inline bool ax_list_empty(const struct ax_list *head)
{
    return head->next == head;
}

/* True when node sits on some list (false for a self-linked node). */
static inline bool ax_list_linked(const struct ax_list *node)
{
    return node->next != node;
}

static inline void ax_list_insert_before(struct ax_list *pos, struct ax_list *node)
{
    node->next = pos;
    node->prev = pos->prev;
    pos->prev->next = node;
    pos->prev = node;
}

static inline void ax_list_push_back(struct ax_list *head, struct ax_list *node)
{
    ax_list_insert_before(head, node);
}

static inline void ax_list_push_front(struct ax_list *head, struct ax_list *node)
{
    ax_list_insert_before(head->next, node);
}

/* Unlinks node and leaves it self-linked; removing an unlinked node does nothing. */
static inline void ax_list_remove(struct ax_list *node)
{
    node->prev->next = node->next;
    node->next->prev = node->prev;
    ax_list_init(node);
}

/* Removes and returns the first node, or NULL when the list is empty. */
static inline struct ax_list *ax_list_pop_front(struct ax_list *head)
{
    if (ax_list_empty(head))
        return NULL;
    struct ax_list *node = head->next;
    ax_list_remove(node);
    return node;
}

/* Moves every node of from to the end of to, in order; from ends up empty. */
static inline void ax_list_splice_back(struct ax_list *to, struct ax_list *from)
{
    if (ax_list_empty(from))
        return;
    from->next->prev = to->prev;
    to->prev->next = from->next;
    from->prev->next = to;
    to->prev = from->prev;
    ax_list_init(from);
}

/* Iterates over the nodes; the body must not remove the current node
 * (use ax_list_for_each_safe for that). */
#define ax_list_for_each(node, head) for (node = (head)->next; node != (head); node = node->next)

#define ax_list_for_each_safe(node, tmp, head)                                                     \
    for (node = (head)->next, tmp = node->next; node != (head); node = tmp, tmp = node->next)

#endif
