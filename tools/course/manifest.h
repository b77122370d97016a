/*
 * manifest: reads exercises/manifest, the list of every exercise in the course.
 *
 * The file is a sequence of blocks, one per exercise, in the order a reader meets
 * them:
 *
 *     [01-writev-all]
 *     chapter    = 01-blocking
 *     section    = short-writes
 *     edit       = exercises/01-blocking/writev_all.c
 *     suite      = tests/01-blocking/ex_writev_all.c
 *     difficulty = 1
 *     hint       = one line of help
 *
 * Blank lines and lines starting with '#' are ignored. Every key is required, and
 * an unknown key is an error: a typo in the manifest should stop the tool with the
 * line to fix rather than quietly drop an exercise.
 *
 * Ownership: a parsed manifest owns all its strings; course_manifest_free releases
 * them. Functions return 0 or a negative errno value and, on a parse error, fill
 * `err` with a message that names the file and line.
 */
#ifndef COURSE_MANIFEST_H
#define COURSE_MANIFEST_H

#include <stddef.h>

struct course_exercise {
    char *id; /* the name in [brackets], e.g. "01-writev-all" */
    char *chapter; /* chapter folder, e.g. "01-blocking" */
    char *section; /* anchor of the section that teaches it, e.g. "short-writes" */
    char **edit; /* the files the reader edits (at least one) */
    size_t nedit;
    char *suite; /* the Check suite, e.g. "tests/01-blocking/ex_writev_all.c" */
    int difficulty; /* 1 (warm-up) to 3 (hard) */
    char *hint; /* one line of help */
    int line; /* where the [id] line sits in the manifest, for messages */

    /* Derived from the fields above. */
    char *reader_bin; /* the suite built against the reader's files */
    char *doc; /* chapters/<chapter>/<chapter>.md */
};

struct course_manifest {
    struct course_exercise *ex; /* in manifest order */
    size_t n;
};

/* Parses manifest text; `name` is the file name used in error messages. */
int course_manifest_parse(const char *text, const char *name, struct course_manifest *m, char *err,
                          size_t errlen);

/* Reads and parses the manifest file at `path`. */
int course_manifest_load(const char *path, struct course_manifest *m, char *err, size_t errlen);

/* The exercise called `id`, or NULL. */
const struct course_exercise *course_manifest_find(const struct course_manifest *m, const char *id);

void course_manifest_free(struct course_manifest *m);

/*
 * Where the build puts a suite compiled against the reader's files:
 * build/exercises/<chapter>/<suite's file name without .c>. Returns a malloc'd
 * string, or NULL when out of memory.
 */
char *course_reader_binary(const char *chapter, const char *suite);

#endif
