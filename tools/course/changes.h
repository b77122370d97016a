/*
 * changes: notices when a file under a folder (and its subfolders) is saved.
 *
 * It uses inotify when it can: a watch on every folder, for files closed after
 * writing (IN_CLOSE_WRITE), renamed into place (IN_MOVED_TO: how most editors and
 * `sed -i` save) or created (IN_CREATE), and new subfolders get watches of their
 * own. When inotify is not available it falls back to comparing the files' sizes,
 * modification times and inode numbers every half second.
 *
 * A save is usually a burst of events (create, write, close, rename), so after the
 * first one it waits until the folder has been quiet for about 100 ms and reports
 * the burst as one change. Editor droppings (dot files, backup files ending in ~,
 * vim's "4913" probe) do not count.
 */
#ifndef COURSE_CHANGES_H
#define COURSE_CHANGES_H

#include <stdbool.h>

struct course_changes;

/* Starts watching dir. force_polling skips inotify (for tests). 0 or -errno. */
int course_changes_open(const char *dir, bool force_polling, struct course_changes **out);

/* The descriptor to poll() for POLLIN, or -1 when polling the file system. */
int course_changes_fd(const struct course_changes *c);

/* How long poll() may sleep before course_changes_check must run: -1 for ever. */
int course_changes_timeout_ms(const struct course_changes *c);

/* "inotify" or "polling", for the status line. */
const char *course_changes_method(const struct course_changes *c);

/*
 * Call when the descriptor is readable or poll()'s timeout expired. Returns 1 when
 * something was saved (bursts coalesced), 0 when not, or a negative errno value.
 */
int course_changes_check(struct course_changes *c);

void course_changes_close(struct course_changes *c);

#endif
