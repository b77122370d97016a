/*
 * Exercise 01-thread-cap: a thread-per-client echo server with a cap on clients.
 *
 * One thread per client is simple, but every thread costs memory and the kernel's
 * time, and nothing stops a flood of clients from starting thousands of them. This
 * server admits at most max_clients at once. A client that arrives when all slots are
 * taken gets one line,
 *
 *     busy: N clients connected\n          (N is max_clients)
 *
 * and is closed, without a thread being started for it. A client holds its slot from
 * the moment it is accepted until its connection is closed; then the slot is free
 * for the next one.
 */
#ifndef THREAD_CAP_H
#define THREAD_CAP_H

/*
 * Accepts clients on listen_fd (a listening socket the caller created and still owns)
 * and echoes back every byte each admitted client sends, each on its own thread,
 * until that client closes its end. At most max_clients (>= 1) are served at once.
 *
 * Runs until the caller shuts the listening socket down (shutdown(listen_fd,
 * SHUT_RDWR), after which accept fails with EINVAL). Then it stops accepting, waits
 * until every client it admitted has left and been closed, and returns 0. Another
 * accept failure ends it the same way but returns that error as a negative errno value
 * (-ENOTSOCK when listen_fd is not a socket, for one). A client whose thread cannot be
 * started is closed and frees its slot at once.
 */
int thread_cap_serve(int listen_fd, int max_clients);

#endif
