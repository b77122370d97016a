/*
 * Exercise 01-writev-all: gather-write every byte of an iovec array.
 *
 * writev() sends several separate buffers in one system call (a header and a body,
 * say) without first copying them together. Like write(), it may send fewer bytes
 * than asked, and a short writev can stop in the middle of any buffer.
 */
#ifndef WRITEV_ALL_H
#define WRITEV_ALL_H

#include <sys/uio.h>

/*
 * Writes every byte described by iov[0..iovcnt) to fd, in order, continuing after
 * short writes and EINTR. Returns 0, or a negative errno value on failure: -EPIPE
 * when the peer has closed (the process must not be killed by SIGPIPE), -EBADF when
 * fd is not an open descriptor, whatever else the write reported. It may modify the
 * iov array as it goes. iovcnt may exceed IOV_MAX and entries may be empty; with
 * iovcnt 0 (iov may then be NULL) there is nothing to write and it returns 0.
 */
int writev_all(int fd, struct iovec *iov, int iovcnt);

#endif
