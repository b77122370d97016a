/*
 * Exercise 01-line-server: a line-based command server for one connection.
 *
 * A client sends commands, one per line, and gets one reply line per command:
 *
 *     ECHO some text     ->  some text
 *     UPPER some text    ->  SOME TEXT
 *     QUIT               ->  bye            (and the session ends)
 *     anything else      ->  error: unknown command
 *     a line too long    ->  error: line too long
 *
 * A command is the line's first word, matched exactly (ECHO, not echo or ECHOES); its
 * text is everything after the first space, possibly empty ("ECHO" alone replies with
 * an empty line). Lines may end in "\n" or "\r\n"; replies end in "\n". A line longer
 * than LINE_SERVER_MAX_LINE bytes is answered with the error and skipped, however long
 * it is, and the session goes on with the next line. When the client's stream ends in
 * the middle of a line, that last line is still a command and gets its reply.
 */
#ifndef LINE_SERVER_H
#define LINE_SERVER_H

/* The longest line accepted, without its line ending. */
#define LINE_SERVER_MAX_LINE 1024

/*
 * Serves the client connected on fd until it sends QUIT or its stream ends. Returns 0
 * then; or a negative errno value when the connection fails: -EPIPE when the client
 * has gone while a reply was being written (never SIGPIPE), -EBADF when fd is not an
 * open descriptor, whatever else a read or write reported. It neither closes fd nor
 * keeps anything allocated after returning.
 */
int line_server_serve(int fd);

#endif
