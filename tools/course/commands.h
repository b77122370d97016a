/*
 * commands: what `course`, `course list`, `verify`, `hint` and `reset` do, and the
 * pieces of them that `course watch` reuses. (`course read` is in read.h.)
 *
 * Progress is never stored: whether an exercise is done is decided by building and
 * running its tests, every time. Each command returns the process exit status.
 */
#ifndef COURSE_COMMANDS_H
#define COURSE_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "manifest.h"
#include "results.h"

enum {
    COURSE_EXIT_OK = 0,
    COURSE_EXIT_FAIL = 1, /* the exercise fails, or something went wrong */
    COURSE_EXIT_USAGE = 2, /* bad command line, unknown exercise, bad manifest */
};

/* `course`: the progress bar and what to do next. */
int course_cmd_status(const struct course_manifest *m);

/* `course list`: every exercise, done or not. */
int course_cmd_list(const struct course_manifest *m);

/* `course verify [--asan|--valgrind] [ID]`: one exercise's results (id NULL: the next
 * unsolved one), from its suite as it is or under a memory checker. */
int course_cmd_verify(const struct course_manifest *m, const char *id, enum course_checker checker);

/* `course hint [ID]` */
int course_cmd_hint(const struct course_manifest *m, const char *id);

/* `course reset ID [--yes]`: the exercise's files as committed upstream. */
int course_cmd_reset(const struct course_manifest *m, const char *id, bool yes);

/* The exercise called id, or NULL after telling the reader there is none. */
const struct course_exercise *course_lookup(const struct course_manifest *m, const char *id);

/*
 * Checks exercises in manifest order from index `from`, wrapping around at the end
 * and leaving out index `skip` (pass m->n to leave out none), until one does not
 * pass. Returns 1 with *found and *r set (the caller frees r), 0 when every one
 * passes, or a negative errno value after printing why checking was impossible.
 */
int course_find_unsolved(const struct course_manifest *m, size_t from, size_t skip, size_t *found,
                         struct course_result *r);

/* "★ Every exercise passes", and the chapters the reader has worked through: those
 * under chapters/ (or, without them, the manifest's), and the ones book.md plans. */
void course_print_congratulations(FILE *out, const struct course_manifest *m);

/* The "Next: ..." block: the files to edit, the section to read, the commands. */
void course_print_next(FILE *out, const struct course_exercise *ex);

void course_print_hint(FILE *out, const struct course_exercise *ex);

#endif
