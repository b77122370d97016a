/*
 * findings: what AddressSanitizer, LeakSanitizer, UBSan and valgrind report, read out
 * of a test run's output, for `course verify --asan` and `--valgrind`.
 *
 * Their reports are long (stack traces through libc and Check, shadow-byte maps,
 * legends); a reader needs three things from each: what went wrong ("heap-use-after-
 * free: WRITE of size 4", "memory leak: 16 bytes in 1 object"), where in the course's
 * own files (exercises/, lib/, tests/), and in which test. A finding keeps exactly
 * that. The test comes from the stack: Check's START_TEST(name) defines name_fn.
 *
 * The reports recognised:
 *
 *     ==123==ERROR: AddressSanitizer: heap-use-after-free on address ...   to ==123==ABORTING
 *     ==123==ERROR: LeakSanitizer: detected memory leaks                    to SUMMARY: ...
 *     exercises/x.c:12:7: runtime error: signed integer overflow ...        (UBSan)
 *     ==123== Invalid read of size 4                                       (valgrind, up to
 *     ==123==    at 0x10A543: f (/path/x.c:5)                               a blank ==123== line)
 *
 * Check's own lines are never taken, even in the middle of a report, so the results
 * can still be read from what is left.
 *
 * Ownership: course_findings_free releases everything a parse allocated.
 */
#ifndef COURSE_FINDINGS_H
#define COURSE_FINDINGS_H

#include <stddef.h>

struct course_frame {
    char *func; /* the function, or NULL when the report does not name it */
    char *where; /* "exercises/04-tasks/slab.c:57" (relative to the course root when the
                    file is in it), or NULL when there is no source line */
};

struct course_stack {
    const char *label; /* "at", "freed", "allocated", "thread", "created" */
    struct course_frame *frames; /* innermost first, as the tool printed them */
    size_t nframes;
};

struct course_finding {
    const char *tool; /* "AddressSanitizer", "LeakSanitizer", "UBSan" or "valgrind" */
    char *what; /* one line: "heap-use-after-free: WRITE of size 4" */
    char *test; /* the test it happened in, from a frame named <test>_fn, or NULL */
    struct course_stack *stacks;
    size_t nstacks;
};

struct course_findings {
    struct course_finding *f;
    size_t n;
};

/*
 * Takes the reports out of text. `root` is the course root ("/work/course"); paths
 * under it are shown relative to it. Returns the remaining text (malloc'd: Check's
 * lines and the reader's own prints), or NULL when out of memory.
 */
char *course_findings_parse(const char *text, const char *root, struct course_findings *out);

/* Whether a frame is in the course's own sources (a path relative to the root). */
int course_frame_is_ours(const struct course_frame *f);

void course_findings_free(struct course_findings *f);

#endif
