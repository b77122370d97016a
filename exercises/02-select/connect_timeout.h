/*
 * Exercise 02-connect-timeout: a connect that gives up at a deadline.
 *
 * A blocking connect() to a host that does not answer waits for as long as the kernel
 * keeps resending its SYN: more than two minutes on Linux. A non-blocking connect
 * returns at once with EINPROGRESS instead, and the socket becomes writable when the
 * handshake has ended, well or badly; SO_ERROR then says which. Waiting for that
 * writability with a bound gives a connect with a timeout, and the thread is free to
 * serve other sockets while it waits.
 */
#ifndef CONNECT_TIMEOUT_H
#define CONNECT_TIMEOUT_H

#include <stdint.h>

/*
 * Connects to host:port (a numeric address, such as "127.0.0.1"), waiting at most
 * timeout_ms milliseconds (>= 0) for the handshake to finish.
 *
 * Returns the connected socket, left non-blocking so that it is ready for a reactor,
 * or a negative errno value: -ETIMEDOUT when the handshake had not finished by the
 * deadline, -ECONNREFUSED when nothing listens there, or whatever else went wrong.
 * It never gives up before timeout_ms has passed, a signal does not cut the wait
 * short, and on failure no descriptor is left open.
 */
int connect_timeout(const char *host, uint16_t port, int timeout_ms);

#endif
