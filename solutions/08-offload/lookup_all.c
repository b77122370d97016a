/* Exercise 08-lookup-all: a solution. */
#include "lookup_all.h"

#include <errno.h>
#include <netdb.h>

static ax_result lookup_all_poll(struct ax_future *self, struct ax_context *cx)
{
    struct lookup_all *l = (struct lookup_all *)self;
    if (!l->started) {
        if (l->count > LOOKUP_MAX)
            return -EINVAL;
        for (size_t i = 0; i < l->count; i++) {
            ax_resolve_init(&l->lookups[i], l->hosts[i], LOOKUP_PORT, &l->found[i]);
            l->found[i] = NULL;
            l->done[i] = false;
            l->text[i][0] = '\0';
        }
        l->left = l->count;
        l->started = true;
    }
    for (size_t i = 0; i < l->count; i++) {
        if (l->done[i])
            continue;
        ax_result rc = ax_poll(&l->lookups[i].base, cx); /* all of them: they run at once */
        if (rc == AX_PENDING)
            continue;
        ax_future_drop(&l->lookups[i].base);
        l->done[i] = true;
        l->left--;
        l->results[i] = rc;
        if (rc > 0) {
            ax_format_addr(l->found[i]->ai_addr, l->text[i]);
            freeaddrinfo(l->found[i]);
            l->found[i] = NULL;
        }
    }
    return l->left == 0 ? 0 : AX_PENDING;
}

static void lookup_all_drop(struct ax_future *self)
{
    struct lookup_all *l = (struct lookup_all *)self;
    if (!l->started)
        return;
    for (size_t i = 0; i < l->count; i++)
        if (!l->done[i])
            ax_future_drop(&l->lookups[i].base);
    l->started = false;
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
