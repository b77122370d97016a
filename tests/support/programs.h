//@ 01
/*
 * A chapter's demo programs, run the way a reader runs them from a shell.
 *
 * The demos of chapter NN are the .c files in chapters/NN-slug/ (read from the current
 * directory: suites run from the repository root, or from a snapshot's), each built to
 * build/bin/NAME next to the suite's own build tree, so a sanitizer build checks the
 * sanitizer build of the demos. A snapshot holds only the chapters up to its own, so a
 * suite that checks the demos of its chapter never meets a later chapter's.
 *
 * The conventions checked (CONTRIBUTING.md, "Tests"): `NAME --help` prints the usage
 * on standard output, starting with "usage: NAME", writes nothing on standard error and
 * exits 0; an option the program does not know prints the usage on standard error,
 * nothing on standard output, and exits 2.
 */
#ifndef AXT_PROGRAMS_H
#define AXT_PROGRAMS_H

#include "axtest.h"

enum { AXT_NAME_MAX = 64, AXT_OUTPUT_MAX = 4096 };

/* How a program ended: its exit status (or 128 + the signal that killed it) and the
 * start of what it wrote on each stream, NUL-terminated. */
struct axt_exit {
    int status;
    char out[AXT_OUTPUT_MAX];
    char err[AXT_OUTPUT_MAX];
};

/* The demos of chapter nn ("01"): the names of chapters/nn-slug/ *.c without ".c",
 * sorted, into names[0..max); returns how many there are: none while the chapter
 * has no folder yet. */
int axt_chapter_demos(const char *nn, char names[][AXT_NAME_MAX], int max);

/* Runs build/bin/NAME with the one argument arg and standard input from /dev/null, and
 * waits for it to exit; fails the test if it is missing or still running after 5 s
 * (times CK_TIMEOUT_MULTIPLIER), and kills it then. */
void axt_run_program(const char *name, const char *arg, struct axt_exit *result);

/* Every program of chapter nn (its demos, and the benchmarks whose `//@ nn` line names
 * it, built as bench-NAME) answers --help with its usage on standard output. */
void axt_assert_demos_answer_help(const char *nn);

/* Every program of chapter nn refuses an unknown option with its usage on standard
 * error and exit status 2. */
void axt_assert_demos_refuse_unknown_options(const char *nn);

/* A chapter's whole help suite, named `name`: the two checks above for every chapter
 * in chapters[0..count), which must outlive the suite run. */
Suite *axt_help_suite(const char *name, const char *const *chapters, int count);

#endif
