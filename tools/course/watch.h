/*
 * watch: `course watch [ID]`, the loop that re-checks the current exercise every time
 * a file under exercises/ is saved, and moves on when it passes. It starts at ID, or
 * at the first exercise that does not pass yet.
 *
 * On a terminal it also reads single keys (n: next exercise, h: hint, l: list,
 * q: quit) with the terminal in non-canonical, no-echo mode, and puts the terminal
 * back however it exits. When standard input is not a terminal the keys are off,
 * but watching works the same, which is how the tests drive it.
 */
#ifndef COURSE_WATCH_H
#define COURSE_WATCH_H

#include "manifest.h"

/* Runs until q, Ctrl-C, or every exercise passes, starting at exercise `id` (NULL: the
 * first one that does not pass). Returns the exit status: 2 for an unknown id. */
int course_cmd_watch(const struct course_manifest *m, const char *id);

#endif
