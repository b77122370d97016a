//@ 03
/*
 * A file descriptor kept in reserve for the moment the process runs out.
 *
 * When a server hits its open-file limit, accept() fails with EMFILE and leaves the
 * connection in the listening socket's queue. The socket stays readable, so a
 * level-triggered reactor reports it again at once, accept fails again, and the loop
 * spins at 100 % CPU without serving anyone. The way out is to hold one spare fd
 * (open on /dev/null) from the start: on EMFILE, close the spare, accept the waiting
 * connection with the freed slot, close it at once (the client sees the connection
 * end instead of hanging), and take the spare back. The server sheds load it cannot
 * carry and keeps serving the clients it has.
 */
#ifndef AX_RESERVE_H
#define AX_RESERVE_H

struct ax_fd_reserve {
    int fd; /* -1 when it could not be taken back */
};

/* Takes the spare descriptor. 0 or -errno. */
int ax_fd_reserve_init(struct ax_fd_reserve *reserve);
void ax_fd_reserve_free(struct ax_fd_reserve *reserve);

/* After accept failed with -EMFILE or -ENFILE: accepts one waiting connection with the
 * spare slot and closes it. 1 if a connection was shed, 0 if none was waiting, or
 * -errno (-EMFILE again when the spare itself is gone). */
int ax_fd_reserve_shed(struct ax_fd_reserve *reserve, int listen_fd);

#endif
