/*
 * results: checks one exercise and tells the reader how it went.
 *
 * Checking is two steps: build the exercise's suite against the reader's files
 * (`make -s build/exercises/<chapter>/ex_<name>`), then run it and read what Check
 * printed. Check's lines look like
 *
 *     100%: Checks: 3, Failures: 0, Errors: 0
 *     tests/01-blocking/ex_writev_all.c:42:F:core:writev_all_survives_short_writes:0: Assertion 'x == y' failed: x == 3, y == 5
 *     tests/01-blocking/ex_writev_all.c:50:E:core:writev_all_retries_eintr:0: (after this point) Received signal 11 (Segmentation fault)
 *
 * (P for a passed test when CK_VERBOSITY=verbose, F for a failed assertion, E for
 * a test that crashed, timed out or exited early). An exercise passes when the
 * binary exits with status 0 and its summary counts no failures and no errors.
 *
 * `verify --asan` and `--valgrind` check the same suite under a memory checker
 * (enum course_checker): the suite built with AddressSanitizer and UBSan in
 * build/asan (make O=build/asan SAN=1, like `make asan`), or the ordinary build run
 * under valgrind with CK_FORK=no (like `make memcheck`). Their reports are read into
 * findings (findings.h), and an exercise passes only when there are none.
 *
 * Ownership: a course_result owns its strings; course_result_free releases them.
 */
#ifndef COURSE_RESULTS_H
#define COURSE_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "findings.h"
#include "manifest.h"

enum course_checker {
    COURSE_CHECK_PLAIN, /* the suite as it is */
    COURSE_CHECK_ASAN, /* built with AddressSanitizer and UBSan, in build/asan */
    COURSE_CHECK_VALGRIND, /* run under valgrind's memcheck, leaks included */
};

enum course_verdict {
    COURSE_PASSED,
    COURSE_FAILED, /* tests ran and some failed, or the binary misbehaved */
    COURSE_BUILD_ERROR, /* make could not build the test binary: usually a compile error */
};

/* One line of Check's report. */
struct course_test {
    char kind; /* 'P' passed, 'F' failed assertion, 'E' error: crash, timeout, exit */
    char *file; /* where the failing check (or the last check before a crash) is */
    int line;
    char *tcase; /* Check's test case, e.g. "core" */
    char *name; /* the test function, e.g. "writev_all_survives_short_writes" */
    char *message; /* Check's message, e.g. "Assertion 'x == y' failed: x == 3, y == 5" */
};

struct course_result {
    enum course_verdict verdict;
    enum course_checker checker; /* how it was checked */
    char *build_log; /* make's output when the build failed */

    char *output; /* everything the test binary printed */
    int status; /* its waitpid status */
    bool timed_out; /* it ran too long and was killed */
    bool has_summary; /* Check's "NN%: Checks: ..." line was seen */
    int checks, failures, errors;
    struct course_test *tests; /* in the order Check reported them */
    size_t ntests;
    char **other; /* lines that are not Check's: the reader's own prints */
    size_t nother;
    struct course_findings findings; /* what the memory checker reported */
    char *log_path; /* where the checker's whole output was saved, or NULL */
};

/*
 * Builds and runs one exercise's suite against the reader's files. Returns 0 with
 * the result filled in (passing or not), or a negative errno value if make or the
 * binary could not be started; `err` then says why.
 */
int course_verify(const struct course_exercise *ex, struct course_result *r, char *err,
                  size_t errlen);

/* The same, under a memory checker. -ENOENT when valgrind is not installed. */
int course_verify_with(const struct course_exercise *ex, enum course_checker checker,
                       struct course_result *r, char *err, size_t errlen);

/* "AddressSanitizer and UBSan", "valgrind"; "" for the plain run. */
const char *course_checker_name(enum course_checker checker);

/* The command-line flag that selects it: "--asan", "--valgrind", "". */
const char *course_checker_flag(enum course_checker checker);

/* The test binary a checker runs: reader_bin, or build/asan/... (malloc'd). */
char *course_checker_binary(const struct course_exercise *ex, enum course_checker checker);

/* Whether a program is found in $PATH. */
bool course_have_program(const char *name);

/* Reads Check's output into r's summary, tests and other lines. 0 or -ENOMEM. */
int course_parse_check_output(const char *text, struct course_result *r);

/* Prints a result for a person: a headline, then a line per test with the details
 * of each failure. */
void course_print_result(FILE *out, const struct course_exercise *ex,
                         const struct course_result *r);

/* "writev_all_survives_short_writes" -> "writev all survives short writes" (malloc'd). */
char *course_test_words(const char *name);

void course_result_free(struct course_result *r);

#endif
