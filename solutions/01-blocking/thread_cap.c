/* Exercise 01-thread-cap: a reference solution. */
#include "thread_cap.h"

#include "ax/error.h"
#include "ax/net.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

/* What the accepting thread and the client threads share. The count is the number of
 * admitted clients whose threads have not finished yet; `left` is signalled whenever
 * it goes down. */
struct slots {
    pthread_mutex_t lock;
    pthread_cond_t left;
    int used;
};

struct client {
    int fd;
    struct slots *slots;
};

static void echo_until_closed(int fd)
{
    char buf[4096];
    ssize_t got;
    while ((got = ax_read_some(fd, buf, sizeof buf)) > 0)
        if (ax_write_all(fd, buf, (size_t)got) < 0)
            return;
}

static void release_slot(struct slots *slots)
{
    pthread_mutex_lock(&slots->lock);
    slots->used--;
    pthread_cond_signal(&slots->left);
    pthread_mutex_unlock(&slots->lock);
}

static void *client_thread(void *arg)
{
    struct client *client = arg;
    struct slots *slots = client->slots;
    echo_until_closed(client->fd);
    ax_close(client->fd);
    free(client);
    release_slot(slots); /* last: once the count is zero, thread_cap_serve may return */
    return NULL;
}

/* Takes a slot if one is free. */
static int take_slot(struct slots *slots, int max_clients)
{
    pthread_mutex_lock(&slots->lock);
    int taken = slots->used < max_clients;
    if (taken)
        slots->used++;
    pthread_mutex_unlock(&slots->lock);
    return taken;
}

static void refuse(int fd, int max_clients)
{
    char line[64];
    int len = snprintf(line, sizeof line, "busy: %d clients connected\n", max_clients);
    ax_write_all(fd, line, (size_t)len); /* a short line fits the socket buffer: no wait */
    ax_close(fd);
}

/* Starts a detached thread for an admitted client. On failure the caller keeps fd. */
static int start_client(int fd, struct slots *slots)
{
    struct client *client = malloc(sizeof *client);
    if (client == NULL)
        return -ENOMEM;
    *client = (struct client){.fd = fd, .slots = slots};
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
    int rc = pthread_create(&thread, &attr, client_thread, client);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        free(client);
        return -rc;
    }
    return 0;
}

int thread_cap_serve(int listen_fd, int max_clients)
{
    struct slots slots = {.used = 0};
    pthread_mutex_init(&slots.lock, NULL);
    pthread_cond_init(&slots.left, NULL);

    int result;
    for (;;) {
        int fd = ax_accept(listen_fd, NULL);
        if (fd < 0) {
            result = fd == -EINVAL ? 0 : fd; /* EINVAL: the listener was shut down */
            break;
        }
        if (!take_slot(&slots, max_clients)) {
            refuse(fd, max_clients);
        } else if (start_client(fd, &slots) < 0) {
            ax_close(fd);
            release_slot(&slots);
        }
    }

    /* The client threads use `slots`, which lives on this stack: wait them out. */
    pthread_mutex_lock(&slots.lock);
    while (slots.used > 0)
        pthread_cond_wait(&slots.left, &slots.lock);
    pthread_mutex_unlock(&slots.lock);
    pthread_cond_destroy(&slots.left);
    pthread_mutex_destroy(&slots.lock);
    return result;
}
