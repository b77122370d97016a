//@ 08
/*
 * Name resolution on the pool; see ax/resolve.h.
 *
 * The worker's job owns a copy of the host name and, once it returns, the list
 * getaddrinfo made: a lookup dropped while the worker runs frees both when the answer
 * arrives, and nothing the caller owns is ever in the worker's reach.
 */
#include "ax/resolve.h"
#include "ax/error.h"
#include "ax/net.h"

#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct resolve_job {
    uint16_t port;
    struct addrinfo *addrs; /* the answer, the job's until handed over */
    char host[]; /* the question */
};

static int count(const struct addrinfo *addrs)
{
    int n = 0;
    for (; addrs != NULL; addrs = addrs->ai_next)
        n++;
    return n;
}

static ax_result lookup(void *arg) /* on a worker */
{
    struct resolve_job *job = arg;
    int err = ax__resolve(job->host, job->port, 0, &job->addrs);
    return err < 0 ? err : count(job->addrs);
}

static void free_job(void *arg)
{
    struct resolve_job *job = arg;
    if (job->addrs != NULL)
        freeaddrinfo(job->addrs);
    free(job);
}

static ax_result resolve_poll(struct ax_future *self, struct ax_context *cx)
{
    struct ax_resolve *f = (struct ax_resolve *)self;
    if (!f->started) {
        f->started = true;
        /* A numeric address is parsed at once, on the loop: no name server, no thread. */
        int err = ax__resolve(f->host, f->port, AI_NUMERICHOST, f->out);
        if (err != AX_ENOHOST)
            return err < 0 ? err : count(*f->out);
        size_t len = strlen(f->host);
        f->job = malloc(sizeof *f->job + len + 1);
        if (f->job == NULL)
            return -ENOMEM;
        f->job->port = f->port;
        f->job->addrs = NULL;
        memcpy(f->job->host, f->host, len + 1);
        ax_spawn_blocking_init(&f->work, NULL, lookup, f->job, free_job);
    }
    if (f->job == NULL)
        return -EINVAL; /* polled after it finished */
    ax_result found = ax_poll(&f->work.base, cx);
    if (found == AX_PENDING)
        return found;
    if (found > 0) {
        *f->out = f->job->addrs; /* the caller's now */
        f->job->addrs = NULL;
    }
    free_job(f->job); /* spawn_blocking gave it back with its result */
    f->job = NULL;
    return found;
}

static void resolve_drop(struct ax_future *self)
{
    struct ax_resolve *f = (struct ax_resolve *)self;
    ax_future_drop(&f->work.base); /* a job still out is freed by the pool, when it can be */
    f->job = NULL;
}

static const struct ax_future_ops resolve_ops = {.poll = resolve_poll, .drop = resolve_drop};

void ax_resolve_init(struct ax_resolve *f, const char *host, uint16_t port, struct addrinfo **out)
{
    *f = (struct ax_resolve){.base = {&resolve_ops}, .host = host, .port = port, .out = out};
    ax_spawn_blocking_init(&f->work, NULL, lookup, NULL, free_job);
}

int ax_connect_start_addr(const struct addrinfo *addr, int *fd)
{
    int sock = socket(addr->ai_family, addr->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                      addr->ai_protocol);
    if (sock < 0)
        return ax__errno();
    int err = 0; /* loopback can connect at once */
    if (connect(sock, addr->ai_addr, addr->ai_addrlen) < 0) {
        if (errno != EINPROGRESS && errno != EINTR) {
            err = ax__errno();
            close(sock);
            return err;
        }
        err = -EINPROGRESS; /* the kernel goes on with the handshake without us */
    }
    *fd = sock;
    return err;
}
