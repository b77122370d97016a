/* Exercise 01-thread-cap. Read "One thread per connection" in chapter 01 first. */
#include "thread_cap.h"

#include "ax/error.h"
#include "ax/net.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

int thread_cap_serve(int listen_fd, int max_clients)
{
    /* TODO: run the accept loop of echo-threads.c (chapter 01, "One thread per
     * connection"), with a count of connected clients that the accepting thread and
     * the client threads share: protect it with a mutex, refuse a client when it has
     * reached max_clients, and let each client thread give its slot back as it
     * finishes. A condition variable lets the end of the loop wait for the count to
     * drop to zero before returning. */
    (void)listen_fd;
    (void)max_clients;
    return -ENOSYS;
}
