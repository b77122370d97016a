//@ 08
/*
 * File futures on the pool; the rules are in ax/file.h.
 *
 * Every future here has the same shape: at its first poll it makes a job that owns all
 * the worker will touch (a descriptor number, an offset, a buffer, a path), hands it
 * to spawn_blocking, and when the result comes back moves what the caller wants out of
 * the job and frees it. If the future is dropped first, spawn_blocking frees the job
 * (free_job) once no worker can be using it.
 */
#include "ax/file.h"
#include "ax/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct file_job {
    int fd;
    uint64_t offset;
    size_t len, max;
    char *data; /* read_all: the file's bytes, the job's until handed over */
    char bytes[]; /* read, write: the job's own buffer; read_all: the path */
};

static void free_job(void *arg)
{
    struct file_job *job = arg;
    free(job->data);
    free(job);
}

static struct file_job *new_job(int fd, uint64_t offset, size_t len, size_t room)
{
    struct file_job *job = malloc(sizeof *job + room);
    if (job != NULL)
        *job = (struct file_job){.fd = fd, .offset = offset, .len = len};
    return job;
}

static size_t chunk(size_t len)
{
    return len < AX_FILE_CHUNK ? len : AX_FILE_CHUNK;
}

/* ---- read ------------------------------------------------------------------------- */

static ax_result read_some(void *arg) /* on a worker */
{
    struct file_job *job = arg;
    for (;;) {
        ssize_t got = job->offset == AX_FILE_CURRENT
                          ? read(job->fd, job->bytes, job->len)
                          : pread(job->fd, job->bytes, job->len, (off_t)job->offset);
        if (got >= 0)
            return got;
        if (errno != EINTR)
            return ax__errno();
    }
}

static ax_result file_read_poll(struct ax_future *self, struct ax_context *cx)
{
    struct ax_file_read *f = (struct ax_file_read *)self;
    if (f->job == NULL) {
        size_t len = chunk(f->len);
        if ((f->job = new_job(f->fd, f->offset, len, len)) == NULL)
            return -ENOMEM;
        ax_spawn_blocking_init(&f->work, NULL, read_some, f->job, free_job);
    }
    ax_result got = ax_poll(&f->work.base, cx);
    if (got == AX_PENDING)
        return got;
    if (got > 0)
        memcpy(f->buf, f->job->bytes, (size_t)got); /* on the loop: the caller's buffer */
    free_job(f->job);
    f->job = NULL;
    return got;
}

static void file_drop(struct ax_blocking *work, struct file_job **job)
{
    ax_future_drop(&work->base); /* a job still out is freed by the pool, when it can be */
    *job = NULL;
}

static void file_read_drop(struct ax_future *self)
{
    struct ax_file_read *f = (struct ax_file_read *)self;
    file_drop(&f->work, &f->job);
}

static const struct ax_future_ops file_read_ops = {.poll = file_read_poll, .drop = file_read_drop};

void ax_file_read_init(struct ax_file_read *f, int fd, void *buf, size_t len, uint64_t offset)
{
    *f = (struct ax_file_read){
        .base = {&file_read_ops}, .fd = fd, .buf = buf, .len = len, .offset = offset};
    ax_spawn_blocking_init(&f->work, NULL, read_some, NULL, free_job);
}

/* ---- write ------------------------------------------------------------------------ */

static ax_result write_all(void *arg) /* on a worker */
{
    struct file_job *job = arg;
    size_t done = 0;
    while (done < job->len) {
        ssize_t wrote =
            job->offset == AX_FILE_CURRENT
                ? write(job->fd, job->bytes + done, job->len - done)
                : pwrite(job->fd, job->bytes + done, job->len - done, (off_t)(job->offset + done));
        if (wrote > 0)
            done += (size_t)wrote;
        else if (wrote == 0 || errno != EINTR)
            return wrote == 0 ? -EIO : ax__errno();
    }
    return 0;
}

static ax_result file_write_poll(struct ax_future *self, struct ax_context *cx)
{
    struct ax_file_write *f = (struct ax_file_write *)self;
    for (;;) {
        if (f->job == NULL) {
            if (f->done == f->len)
                return 0;
            size_t len = chunk(f->len - f->done);
            uint64_t at = f->offset == AX_FILE_CURRENT ? f->offset : f->offset + f->done;
            if ((f->job = new_job(f->fd, at, len, len)) == NULL)
                return -ENOMEM;
            memcpy(f->job->bytes, f->buf + f->done, len); /* the worker's own copy */
            ax_spawn_blocking_init(&f->work, NULL, write_all, f->job, free_job);
        }
        ax_result rc = ax_poll(&f->work.base, cx);
        if (rc == AX_PENDING)
            return rc;
        f->done += f->job->len;
        free_job(f->job);
        f->job = NULL;
        ax_future_drop(&f->work.base);
        if (rc < 0)
            return rc;
    }
}

static void file_write_drop(struct ax_future *self)
{
    struct ax_file_write *f = (struct ax_file_write *)self;
    file_drop(&f->work, &f->job);
}

static const struct ax_future_ops file_write_ops = {.poll = file_write_poll,
                                                    .drop = file_write_drop};

void ax_file_write_init(struct ax_file_write *f, int fd, const void *buf, size_t len,
                        uint64_t offset)
{
    *f = (struct ax_file_write){
        .base = {&file_write_ops}, .fd = fd, .buf = buf, .len = len, .offset = offset};
    ax_spawn_blocking_init(&f->work, NULL, write_all, NULL, free_job);
}

/* ---- whole file ------------------------------------------------------------------- */

/* Reads fd to its end into job->data, growing it as needed: st_size is only a hint
 * (files in /proc say 0, and a file may grow while it is read). Room for one byte more
 * than the size is what lets the first read that returns 0 come without a regrowth. */
static ax_result read_to_end(struct file_job *job, int fd)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return ax__errno();
    if (S_ISDIR(st.st_mode))
        return -EISDIR;
    size_t limit = job->max < SIZE_MAX ? job->max + 1 : SIZE_MAX; /* a byte past max: too big */
    size_t cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096, len = 0;
    for (;;) {
        if (job->data == NULL || len == cap) {
            if (len == limit)
                return -EFBIG;
            size_t want = job->data == NULL ? cap : cap * 2;
            want = want < limit ? want : limit;
            char *grown = realloc(job->data, want + 1); /* + 1: the NUL */
            if (grown == NULL)
                return -ENOMEM;
            job->data = grown;
            cap = want;
        }
        ssize_t got = read(fd, job->data + len, cap - len);
        if (got == 0)
            break;
        if (got < 0 && errno != EINTR)
            return ax__errno();
        len += got > 0 ? (size_t)got : 0;
    }
    job->data[len] = '\0';
    return (ax_result)len;
}

static ax_result read_whole(void *arg) /* on a worker */
{
    struct file_job *job = arg;
    int fd = open(job->bytes, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ax__errno();
    ax_result rc = read_to_end(job, fd);
    close(fd);
    return rc;
}

static ax_result read_all_poll(struct ax_future *self, struct ax_context *cx)
{
    struct ax_file_read_all *f = (struct ax_file_read_all *)self;
    if (f->job == NULL) {
        if (f->path == NULL)
            return -EINVAL; /* polled after it finished */
        size_t len = strlen(f->path);
        if ((f->job = new_job(-1, 0, 0, len + 1)) == NULL)
            return -ENOMEM;
        f->job->max = f->max;
        memcpy(f->job->bytes, f->path, len + 1);
        ax_spawn_blocking_init(&f->work, NULL, read_whole, f->job, free_job);
    }
    ax_result rc = ax_poll(&f->work.base, cx);
    if (rc == AX_PENDING)
        return rc;
    if (rc >= 0) {
        *f->data = f->job->data; /* the caller's now */
        f->job->data = NULL;
    }
    free_job(f->job);
    f->job = NULL;
    f->path = NULL;
    return rc;
}

static void read_all_drop(struct ax_future *self)
{
    struct ax_file_read_all *f = (struct ax_file_read_all *)self;
    file_drop(&f->work, &f->job);
}

static const struct ax_future_ops read_all_ops = {.poll = read_all_poll, .drop = read_all_drop};

void ax_file_read_all_init(struct ax_file_read_all *f, const char *path, size_t max, char **data)
{
    *f = (struct ax_file_read_all){.base = {&read_all_ops}, .path = path, .max = max, .data = data};
    *data = NULL;
    ax_spawn_blocking_init(&f->work, NULL, read_whole, NULL, free_job);
}
