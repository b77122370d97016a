/*
 * Exercise 06-graceful-chat: a chat room on axle's tasks that shuts down gracefully
 * when a stop token is cancelled.
 *
 * The room is exercise 02-chat-room's, with a task per client: every line a client
 * sends goes to every other client connected at the time, exactly as it was sent (its
 * "\n" included), in the order the server read the lines; the sender does not get its
 * own line back. Lines wait for a client's socket in that client's outgoing queue.
 * A line longer than GCHAT_MAX_LINE bytes (before its "\n") disconnects its sender,
 * as does any error on its socket; a client that leaves with half a line has it
 * dropped. (The queue has no bound here: chapter 07 is about that.)
 *
 * Stopping. The server watches a token it is given (ax/cancel.h), never a signal, so
 * whoever owns the token decides: a SIGTERM handler's task, a test, a parent scope.
 * When the token is cancelled the server, at once:
 *  - stops accepting: it closes the listener, so a new connection is refused;
 *  - stops reading: no line arrives in any queue after that (input still in flight is
 *    discarded);
 *  - adds GCHAT_GOODBYE at the end of every client's queue, after the lines already
 *    queued for it, and goes on sending: each client gets everything that was queued
 *    for it, then the goodbye, then the end of the stream (its connection is closed);
 *  - gives the clients grace_ns to take all that: a client whose queue is not empty by
 *    then (it stopped reading, say) is cut off, its connection closed as it stands.
 * The server's future finishes with 0 once every client has gone, which is at once for
 * an empty room, and at the latest at the grace deadline. By then everything is closed
 * and freed: no task of the room's, no timer, nothing left on the token.
 *
 * Dropped before it finished (its task aborted, say), the server closes the listener
 * and every connection at once, with no goodbye, and frees what it holds.
 */
#ifndef GRACEFUL_CHAT_H
#define GRACEFUL_CHAT_H

#include "ax/async.h"
#include "ax/cancel.h"
#include "ax/future.h"
#include "ax/io.h"
#include "ax/scope.h"
#include "ax/source.h"

#include <stdbool.h>
#include <stdint.h>

#define GCHAT_MAX_LINE 1024
#define GCHAT_GOODBYE  "* server shutting down, goodbye\n"

struct gchat_room; /* the clients and what they share: graceful_chat.c's own */

enum gchat_phase { GCHAT_SERVING, GCHAT_CLOSING, GCHAT_DONE };

struct gchat_server {
    struct ax_future base;
    struct ax_source *listener; /* the server's from init: it closes it */
    struct ax_cancel_token *stop; /* a reference, from init to drop */
    uint64_t grace; /* ns */
    enum gchat_phase phase;
    ax_result error; /* what the server finishes with once the room is empty */
    struct gchat_room *room; /* made at the first poll */
    struct ax_cancel_wait stopped; /* while serving */
    struct ax_accept_future accept; /* while serving */
    struct ax_scope_wait clients_gone; /* while closing: every client's task has ended */
};

/*
 * Prepares s to serve on listener (a listening socket opened as a source, which the
 * server now owns) until stop is cancelled, then to shut down with grace_ns of grace.
 * Polled, it finishes with 0 after the shutdown above, or with -ENOMEM, or with an
 * error accept gave that is not about one connection (such as -EBADF): the room then
 * shuts down just as if stopped, and that error is the result.
 */
void gchat_server_init(struct gchat_server *s, struct ax_source *listener,
                       struct ax_cancel_token *stop, uint64_t grace_ns);

#endif
