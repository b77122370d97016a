//@ 01
/*
 * Errors are values: the convention every axle function follows.
 *
 * A function that can fail returns an int (or ssize_t) that is >= 0 on success and a
 * negative errno value on failure: -ECONNREFUSED, -EMSGSIZE, -ENOMEM. The sign keeps
 * results and errors in one return value without a second channel, the way the Linux
 * kernel and libuv do it; errno itself is never how a result is reported, because any
 * later call may overwrite it.
 *
 * One code is not an errno: AX_EOF, "the stream ended before the operation could
 * complete" (a peer that closed in the middle of a message, say). It sits far below
 * every errno value so the two can never collide.
 */
#ifndef AX_ERROR_H
#define AX_ERROR_H

#define AX_EOF (-4095)
//> 08

/* Name resolution's own failures (chapter 08), which no errno value names: the host
 * name does not exist (getaddrinfo's EAI_NONAME), or the name servers could not be
 * asked just now (EAI_AGAIN). Below every errno value too. */
#define AX_ENOHOST  (-4094)
#define AX_ERESOLVE (-4093)
//< 08

/* Text for any axle result code: ax_strerror(-ECONNREFUSED) is "Connection refused". */
const char *ax_strerror(int err);

/* Turns a failed libc call into an axle error: returns -errno (never 0). */
int ax__errno(void);

#endif
