/*
 * changes: inotify, or mtime polling, over a folder tree (see changes.h).
 *
 * With inotify the kernel tells us about each event; a watch covers one folder, not
 * its subfolders, so we add one per folder at start and one for each folder that
 * appears later. Polling instead folds every file's (name, size, mtime, inode) into
 * a fingerprint and compares it with the last one.
 */
#include "changes.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define QUIET_MS   100 /* a burst is over after this long without events */
#define BURST_MS   400 /* ...or after this long in all, so a re-run is never far off */
#define POLL_MS    500 /* the polling fallback's period */
#define WATCH_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE)

struct course_changes {
    char *dir;
    int fd; /* inotify descriptor, or -1 when polling */
    uint64_t fingerprint; /* polling: the tree as last seen */
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Files whose saving is not the reader saving their work. */
static bool ignored(const char *name)
{
    size_t len = strlen(name);
    return name[0] == '.' || (len > 0 && name[len - 1] == '~') || strcmp(name, "4913") == 0;
}

/* Calls visit(path, st, arg) for every entry under dir, folders before their contents. */
static void walk(const char *dir, void (*visit)(const char *, const struct stat *, void *),
                 void *arg)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (ignored(e->d_name))
            continue; /* also skips . and .. */
        char path[PATH_MAX];
        struct stat st;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path ||
            lstat(path, &st) < 0)
            continue;
        visit(path, &st, arg);
        if (S_ISDIR(st.st_mode))
            walk(path, visit, arg);
    }
    closedir(d);
}

/* ---------------------------------------------------------------------------------
 * inotify */

static void add_watch(const char *path, const struct stat *st, void *arg)
{
    struct course_changes *c = arg;
    if (S_ISDIR(st->st_mode))
        inotify_add_watch(c->fd, path, WATCH_MASK | IN_ONLYDIR);
}

/*
 * Reads the events waiting on the descriptor. Returns 1 if one of them is a saved
 * file, 0 if none is, -errno. A new folder gets watched (along with anything
 * already inside it, which may have arrived before the watch did).
 */
static int read_events(struct course_changes *c)
{
    /* The buffer must be aligned for struct inotify_event. */
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    int saved = 0;
    for (;;) {
        ssize_t n = read(c->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return saved;
        if (n <= 0)
            return n < 0 ? -errno : saved;

        for (char *p = buf; p < buf + n;) {
            struct inotify_event *ev = (struct inotify_event *)p;
            p += sizeof *ev + ev->len;
            if (ev->mask & IN_Q_OVERFLOW) {
                saved = 1; /* events were lost: assume the worst */
                continue;
            }
            if (ev->len == 0 || ignored(ev->name))
                continue;
            if (ev->mask & IN_ISDIR) {
                /* A new folder. Rather than keep a table from watch to path, walk
                 * the tree again: adding a watch twice is harmless, and it is cheap.
                 * Files may have been saved in it before its watch existed, so it
                 * counts as a change too. */
                walk(c->dir, add_watch, c);
            }
            saved = 1;
        }
    }
}

/* ---------------------------------------------------------------------------------
 * polling */

static void mix(const char *path, const struct stat *st, void *arg)
{
    uint64_t *h = arg;
    /* FNV-1a over the path and the fields that change when a file is saved. */
    uint64_t fields[] = {(uint64_t)st->st_size, (uint64_t)st->st_mtim.tv_sec,
                         (uint64_t)st->st_mtim.tv_nsec, (uint64_t)st->st_ino};
    for (const char *s = path; *s; s++)
        *h = (*h ^ (unsigned char)*s) * 1099511628211u;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        *h = (*h ^ fields[i]) * 1099511628211u;
}

static uint64_t fingerprint(const char *dir)
{
    uint64_t h = 14695981039346656037u;
    walk(dir, mix, &h);
    return h;
}

/* ---------------------------------------------------------------------------------
 * the interface */

int course_changes_open(const char *dir, bool force_polling, struct course_changes **out)
{
    struct stat st;
    if (stat(dir, &st) < 0)
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;

    struct course_changes *c = calloc(1, sizeof *c);
    if (!c || !(c->dir = strdup(dir))) {
        free(c);
        return -ENOMEM;
    }
    c->fd = force_polling ? -1 : inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (c->fd >= 0) {
        if (inotify_add_watch(c->fd, dir, WATCH_MASK | IN_ONLYDIR) < 0) {
            close(c->fd); /* e.g. out of watches: polling still works */
            c->fd = -1;
        } else {
            walk(dir, add_watch, c);
        }
    }
    if (c->fd < 0)
        c->fingerprint = fingerprint(dir);
    *out = c;
    return 0;
}

int course_changes_fd(const struct course_changes *c)
{
    return c->fd;
}

int course_changes_timeout_ms(const struct course_changes *c)
{
    return c->fd >= 0 ? -1 : POLL_MS;
}

const char *course_changes_method(const struct course_changes *c)
{
    return c->fd >= 0 ? "inotify" : "polling";
}

int course_changes_check(struct course_changes *c)
{
    long long start = now_ms();

    if (c->fd < 0) {
        uint64_t now = fingerprint(c->dir);
        if (now == c->fingerprint)
            return 0;
        /* Changed: wait for the tree to settle, then remember how it looks. */
        for (;;) {
            c->fingerprint = now;
            if (now_ms() - start >= BURST_MS)
                return 1;
            poll(NULL, 0, QUIET_MS);
            if ((now = fingerprint(c->dir)) == c->fingerprint)
                return 1;
        }
    }

    int saved = read_events(c);
    if (saved <= 0)
        return saved;
    /* Coalesce: keep draining until QUIET_MS pass without an event. */
    while (now_ms() - start < BURST_MS) {
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        int ready = poll(&pfd, 1, QUIET_MS);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0)
            break;
        if (read_events(c) < 0)
            break;
    }
    return 1;
}

void course_changes_close(struct course_changes *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    free(c->dir);
    free(c);
}
