/*
 * Exercise 02-chat-room: a line-based chat server on one thread.
 *
 * Every line a client sends goes to every other client connected at the time, exactly
 * as it was sent (its "\n" included), and each client receives the lines in the order
 * the server read them. The sender does not get its own line back. One thread serves
 * everyone: the listening socket and every client socket are non-blocking and watched
 * by one reactor, and nothing ever waits for one client while others could be served.
 *
 * Two bounds keep any one client from costing the server unbounded memory:
 *
 *  - A line may be at most CHAT_MAX_LINE bytes long, not counting its "\n". A longer
 *    one is sent to nobody: its sender gets the line "error: line too long\n", the
 *    rest of the line up to its "\n" is discarded, and the connection carries on.
 *  - Lines a client's socket has not taken yet wait in that client's output buffer,
 *    up to CHAT_MAX_PENDING bytes. A client whose output would grow past that is too
 *    slow: it is cut off. It gets no more lines; the server keeps what it holds for it
 *    only up to the end of the first line there (so the client never sees half a
 *    line), adds the line CHAT_CUT_OFF, and closes the connection once that has been
 *    sent. Nobody else waits for it.
 *
 * A client that disconnects with an unfinished last line (no "\n") has that line
 * dropped. A client whose connection fails (a reset, any error on a read or a write)
 * is closed and forgotten at once; the others carry on as if it had left.
 */
#ifndef CHAT_ROOM_H
#define CHAT_ROOM_H

#define CHAT_MAX_LINE    1024
#define CHAT_MAX_PENDING (256 * 1024)
#define CHAT_TOO_LONG    "error: line too long\n"
#define CHAT_CUT_OFF     "error: too slow, disconnected\n"

/*
 * Serves the chat on listen_fd, a listening socket the caller created and still owns,
 * until the caller shuts it down (shutdown(listen_fd, SHUT_RDWR): the listener then
 * reports readable and accept fails with EINVAL). Then closes every client connection,
 * frees everything and returns 0. Any other accept failure ends it the same way but
 * returns that error (a negative errno value).
 */
int chat_serve(int listen_fd);

#endif
