/* Exercise 08-lookup-all. Read "Names off the loop" in chapter 08 first. */
#include "lookup_all.h"

#include <errno.h>

static ax_result lookup_all_poll(struct ax_future *self, struct ax_context *cx)
{
    /* TODO: at the first poll, check count against LOOKUP_MAX and ax_resolve_init every
     * lookup (host i into l->found[i]). Each poll, poll every lookup not done yet: when
     * one finishes, store its result, format its first address into l->text[i] (or
     * leave ""), freeaddrinfo what it found, and count it done. Finish with 0 when none
     * is left (see chapter 08, "Names off the loop"). */
    (void)self;
    (void)cx;
    return -ENOSYS;
}

static void lookup_all_drop(struct ax_future *self)
{
    /* TODO: drop every lookup that was started and has not finished. */
    (void)self;
}

static const struct ax_future_ops lookup_all_ops = {.poll = lookup_all_poll,
                                                    .drop = lookup_all_drop};

void lookup_all_init(struct lookup_all *l, const char *const *hosts, size_t count,
                     ax_result *results, char (*text)[AX_ADDR_STRLEN])
{
    l->base.ops = &lookup_all_ops;
    l->hosts = hosts;
    l->count = count;
    l->results = results;
    l->text = text;
    l->started = false;
    l->left = 0;
}
