//@ 08
/*
 * Files off the loop: read, write and whole-file read on the thread pool.
 *
 * epoll cannot help with regular files: the kernel reports them always readable and
 * always writable, then a read waits for the disk anyway, inside the call. (io_uring
 * can do better; it is another runtime's story.) So file I/O is done the way libuv
 * and tokio::fs do it: each call runs on the executor's own pool (ax/pool.h) while the
 * loop serves everybody else, and the task awaits it as a future.
 *
 * Buffers. A worker never touches the caller's memory. A read fills a buffer the job
 * owns and the loop copies it into the caller's when the result arrives; a write copies
 * the caller's bytes into the job at the first poll. That costs a copy (tokio::fs::File
 * pays the same), and buys the one guarantee cancellation needs: dropping the future
 * may free the caller's buffer at once, even while a worker is still in the call. A
 * write that was dropped while a worker had it may still land in the file, whole or in
 * part; one withdrawn before any worker took it never does (ax/pool.h).
 *
 * Offsets: AX_FILE_CURRENT reads or writes at the descriptor's own position (and
 * moves it), as read and write do; any other value is an offset from the start of the
 * file, as pread and pwrite use, which leaves the position alone and lets several
 * reads of one file be under way at once.
 */
#ifndef AX_FILE_H
#define AX_FILE_H

#include "ax/future.h"
#include "ax/pool.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AX_FILE_CURRENT UINT64_MAX

/* The most one read or write moves to or from the pool: longer requests are cut
 * (a read then comes back short, as reads may; a write goes on in further jobs). */
#define AX_FILE_CHUNK ((size_t)1 << 20)

struct file_job;

/* Reads at most len bytes: the count, 0 at end of file, or -errno. */
struct ax_file_read {
    struct ax_future base;
    int fd;
    void *buf;
    size_t len;
    uint64_t offset;
    struct file_job *job;
    struct ax_blocking work;
};
void ax_file_read_init(struct ax_file_read *f, int fd, void *buf, size_t len, uint64_t offset);

/* Writes all len bytes, however many calls it takes: 0 or -errno (-ENOSPC, -EPIPE). */
struct ax_file_write {
    struct ax_future base;
    int fd;
    const char *buf;
    size_t len, done;
    uint64_t offset;
    struct file_job *job;
    struct ax_blocking work;
};
void ax_file_write_init(struct ax_file_write *f, int fd, const void *buf, size_t len,
                        uint64_t offset);

/* Reads the whole file at path: opens it, reads to its end, closes it. Its length,
 * with the bytes (and a terminating NUL, not counted) stored in *data for the caller
 * to free; -EFBIG when the file holds more than max bytes; or -errno (-ENOENT,
 * -EACCES, -EISDIR). path is copied at the first poll. */
struct ax_file_read_all {
    struct ax_future base;
    const char *path;
    size_t max;
    char **data;
    struct file_job *job;
    struct ax_blocking work;
};
void ax_file_read_all_init(struct ax_file_read_all *f, const char *path, size_t max, char **data);

#endif
