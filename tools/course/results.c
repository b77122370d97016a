/*
 * results: build, run and report one exercise (see results.h).
 *
 * Parsing is deliberately forgiving: any line that is not one of Check's is kept as
 * the reader's own output and shown back to them, since printf debugging is the
 * first tool everyone reaches for.
 */
#include "results.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "proc.h"
#include "style.h"

/* A whole suite gets this long. Check already limits each test (10 s by default);
 * this only catches a test binary that hangs outside any test. */
#define SUITE_TIMEOUT_MS (5 * 60 * 1000)

char *course_test_words(const char *name)
{
    char *words = strdup(name);
    for (char *c = words; c && *c; c++)
        if (*c == '_')
            *c = ' ';
    return words;
}

/* Reads "123:" at *s into *value and moves past the colon. */
static bool take_number(const char **s, int *value)
{
    const char *c = *s;
    long n = 0;
    if (*c < '0' || *c > '9')
        return false;
    while (*c >= '0' && *c <= '9' && n < 100000000)
        n = n * 10 + (*c++ - '0');
    if (*c != ':')
        return false;
    *value = (int)n;
    *s = c + 1;
    return true;
}

/* Copies the text up to the next ':' (which must be there) and moves past it. */
static char *take_field(const char **s)
{
    const char *colon = strchr(*s, ':');
    if (!colon || colon == *s)
        return NULL;
    char *field = strndup(*s, (size_t)(colon - *s));
    *s = colon + 1;
    return field;
}

/*
 * Recognises file:line:K:tcase:name:iteration: message. Returns 1 and fills t when
 * the line is one, 0 when it is not, -ENOMEM.
 */
static int parse_test_line(const char *line, struct course_test *t)
{
    *t = (struct course_test){0};
    const char *s = line;
    int iteration;

    /* Cheap checks first, so ordinary text is rejected without allocating. */
    const char *colon = strchr(s, ':');
    if (!colon || colon == s)
        return 0;
    const char *k = colon + 1;
    while (*k >= '0' && *k <= '9')
        k++;
    if (k == colon + 1 || k[0] != ':' || !strchr("PFE", k[1]) || k[1] == '\0' || k[2] != ':')
        return 0;

    t->file = take_field(&s);
    if (!t->file)
        return -ENOMEM;
    take_number(&s, &t->line);
    t->kind = s[0];
    s += 2;
    t->tcase = take_field(&s);
    t->name = t->tcase ? take_field(&s) : NULL;
    if (!t->name || !take_number(&s, &iteration)) {
        free(t->file);
        free(t->tcase);
        free(t->name);
        *t = (struct course_test){0};
        return 0;
    }
    if (*s == ' ')
        s++;
    t->message = strdup(s);
    return t->message ? 1 : -ENOMEM;
}

static int add_test(struct course_result *r, const struct course_test *t)
{
    struct course_test *grown = realloc(r->tests, (r->ntests + 1) * sizeof *grown);
    if (!grown)
        return -ENOMEM;
    r->tests = grown;
    r->tests[r->ntests++] = *t;
    return 0;
}

static int add_other(struct course_result *r, const char *start, size_t len)
{
    char **grown = realloc(r->other, (r->nother + 1) * sizeof *grown);
    if (!grown)
        return -ENOMEM;
    r->other = grown;
    if (!(r->other[r->nother] = strndup(start, len)))
        return -ENOMEM;
    r->nother++;
    return 0;
}

/* Handles one line of output (without its newline, NUL-terminated). */
static int parse_line(char *line, struct course_result *r)
{
    int percent, used = 0;
    if (sscanf(line, "%d%%: Checks: %d, Failures: %d, Errors: %d%n", &percent, &r->checks,
               &r->failures, &r->errors, &used) == 4 &&
        used > 0) {
        r->has_summary = true;
        return 0;
    }
    if (strncmp(line, "Running suite(s):", 17) == 0)
        return 0;

    struct course_test t;
    int rc = parse_test_line(line, &t);
    if (rc > 0)
        return add_test(r, &t);
    if (rc < 0)
        return rc;

    if (line[strspn(line, " \t\r")] == '\0')
        return 0; /* blank lines carry nothing */
    return add_other(r, line, strlen(line));
}

int course_parse_check_output(const char *text, struct course_result *r)
{
    char *copy = strdup(text ? text : "");
    if (!copy)
        return -ENOMEM;
    int rc = 0;
    char *save = NULL;
    /* strtok_r skips empty lines, which parse_line would drop anyway. */
    for (char *line = strtok_r(copy, "\n", &save); line && rc == 0;
         line = strtok_r(NULL, "\n", &save))
        rc = parse_line(line, r);
    free(copy);
    return rc;
}

int course_verify(const struct course_exercise *ex, struct course_result *r, char *err,
                  size_t errlen)
{
    *r = (struct course_result){0};

    /* Step 1: build. make decides what is out of date; -s keeps it quiet on success. */
    char *make_argv[] = {"make", "-s", "--no-print-directory", ex->reader_bin, NULL};
    struct course_capture cap;
    int rc = course_capture_run(make_argv, NULL, 0, 0, &cap);
    if (rc < 0) {
        snprintf(err, errlen, "cannot run make: %s", strerror(-rc));
        return rc;
    }
    if (!WIFEXITED(cap.status) || WEXITSTATUS(cap.status) != 0) {
        if (WIFEXITED(cap.status) && WEXITSTATUS(cap.status) == 127) {
            snprintf(err, errlen,
                     "make is not installed: apt-get install build-essential pkg-config check");
            course_capture_free(&cap);
            return -ENOENT;
        }
        r->verdict = COURSE_BUILD_ERROR;
        r->build_log = cap.text; /* the result owns it now */
        return 0;
    }
    course_capture_free(&cap);

    /* Step 2: run, in fork mode (a crash is one test's error, not the end of the run)
     * and verbose (so passing tests are listed too). Check's filters are removed:
     * an exercise passes only when all of its tests do. */
    char *run_argv[] = {ex->reader_bin, NULL};
    char *env[] = {
        "CK_FORK=yes",     "CK_VERBOSITY=verbose", "CK_RUN_SUITE", "CK_RUN_CASE",
        "CK_INCLUDE_TAGS", "CK_EXCLUDE_TAGS",      NULL,
    };
    rc = course_capture_run(run_argv, env, SUITE_TIMEOUT_MS, 0, &cap);
    if (rc < 0) {
        snprintf(err, errlen, "cannot run %s: %s", ex->reader_bin, strerror(-rc));
        return rc;
    }
    r->output = cap.text;
    r->status = cap.status;
    r->timed_out = cap.timed_out;

    rc = course_parse_check_output(r->output, r);
    if (rc < 0) {
        snprintf(err, errlen, "out of memory");
        course_result_free(r);
        return rc;
    }
    bool exited_ok = WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0;
    bool all_good = r->has_summary && r->failures == 0 && r->errors == 0;
    r->verdict = exited_ok && all_good && !r->timed_out ? COURSE_PASSED : COURSE_FAILED;
    return 0;
}

/* ---------------------------------------------------------------------------------
 * Presenting a result */

/* One "label  text" line of a failure's details, indented under its test. */
__attribute__((format(printf, 3, 4))) static void detail(FILE *out, const char *label,
                                                         const char *fmt, ...)
{
    fprintf(out, "      %s%-9s%s ", course_colour(COURSE_DIM), label, course_colour(COURSE_RESET));
    va_list ap;
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
    fputc('\n', out);
}

/* Whether [s, s+len) reads "X == X": a side of the comparison that is a literal. */
static bool is_literal_echo(const char *s, size_t len)
{
    const char *eq = strstr(s, " == ");
    if (!eq || eq + 4 > s + len)
        return false;
    size_t left = (size_t)(eq - s), right = len - left - 4;
    return left == right && strncmp(s, eq + 4, left) == 0;
}

/*
 * Check's comparisons print both sides, literals too: "n == 2, 3 == 3". Drop a
 * side that only repeats a literal, leaving "n == 2". Writes into buf.
 */
static const char *tidy_got(const char *got, char *buf, size_t len)
{
    snprintf(buf, len, "%s", got);
    char *last = NULL;
    for (char *c = strstr(buf, ", "); c; c = strstr(c + 1, ", "))
        last = c;
    if (last && is_literal_echo(last + 2, strlen(last + 2)))
        *last = '\0';
    /* The literal may be on the left instead: "3 == 3, n == 2". */
    for (char *c = strstr(buf, ", "); c; c = strstr(c + 1, ", "))
        if (is_literal_echo(buf, (size_t)(c - buf)))
            return c + 2;
    return buf;
}

/* Turns Check's message for a failed or crashed test into "expected / got" lines. */
static void print_failure(FILE *out, const struct course_test *t)
{
    const char *msg = t->message;
    static const char after[] = "(after this point) ";
    static const char assertion[] = "Assertion '";

    if (strncmp(msg, after, sizeof after - 1) == 0) {
        /* A test that did not finish: Check names the last check it passed. */
        msg += sizeof after - 1;
        int signo;
        if (sscanf(msg, "Received signal %d", &signo) == 1)
            detail(out, "crashed", "%s (signal %d)", strsignal(signo), signo);
        else if (strstr(msg, "timeout"))
            detail(out, "timed out", "the test ran past its time limit: does it wait forever?");
        else if (strncmp(msg, "Early exit", 10) == 0)
            detail(out, "exited", "%s: the test process ended before the test did", msg);
        else
            detail(out, "error", "%s", msg);
        detail(out, "after", "%s:%d  (the last check it reached)", t->file, t->line);
        return;
    }

    const char *close = NULL;
    if (strncmp(msg, assertion, sizeof assertion - 1) == 0)
        close = strstr(msg + sizeof assertion - 1, "' failed");
    if (close) {
        const char *expr = msg + sizeof assertion - 1;
        const char *got = close + strlen("' failed");
        detail(out, "expected", "%.*s", (int)(close - expr), expr);
        if (*got == ':') {
            got++;
            got += strspn(got, " ");
            char tidy[1024];
            detail(out, "but got", "%s", tidy_got(got, tidy, sizeof tidy));
        } else {
            detail(out, "but", "it was false");
        }
    } else if (t->kind == 'E') {
        detail(out, "error", "%s", msg);
    } else {
        detail(out, "failed", "%s", msg);
    }
    detail(out, "at", "%s:%d", t->file, t->line);
}

static void print_headline(FILE *out, const struct course_exercise *ex,
                           const struct course_result *r)
{
    const char *red = course_colour(COURSE_RED), *green = course_colour(COURSE_GREEN);
    const char *bold = course_colour(COURSE_BOLD), *reset = course_colour(COURSE_RESET);
    char how[128];
    course_describe_status(r->status, how, sizeof how);

    if (r->verdict == COURSE_PASSED) {
        fprintf(out, "%s✔%s %s%s%s passes: all %d tests\n", green, reset, bold, ex->id, reset,
                r->checks);
    } else if (r->verdict == COURSE_BUILD_ERROR) {
        fprintf(out, "%s✘%s %s%s%s does not build yet. make said:\n\n", red, reset, bold, ex->id,
                reset);
    } else if (r->timed_out) {
        fprintf(out, "%s✘%s %s%s%s: the tests ran for too long and were stopped\n", red, reset,
                bold, ex->id, reset);
    } else if (!r->has_summary) {
        fprintf(out, "%s✘%s %s%s%s: the test program stopped before it reported (%s)\n", red, reset,
                bold, ex->id, reset, how);
    } else if (r->failures + r->errors > 0) {
        fprintf(out, "%s✘%s %s%s%s: %d of %d tests fail\n", red, reset, bold, ex->id, reset,
                r->failures + r->errors, r->checks);
    } else {
        fprintf(out, "%s✘%s %s%s%s: every test passed, but the test program ended with %s\n", red,
                reset, bold, ex->id, reset, how);
    }
}

void course_print_result(FILE *out, const struct course_exercise *ex, const struct course_result *r)
{
    print_headline(out, ex, r);

    if (r->verdict == COURSE_BUILD_ERROR) {
        /* Verbatim: the compiler's own words, file:line and all, are what to act on. */
        const char *log = r->build_log ? r->build_log : "";
        fputs(log, out);
        if (*log && log[strlen(log) - 1] != '\n')
            fputc('\n', out);
        return;
    }

    if (r->ntests > 0)
        fputc('\n', out);
    for (size_t i = 0; i < r->ntests; i++) {
        const struct course_test *t = &r->tests[i];
        char *words = course_test_words(t->name);
        bool ok = t->kind == 'P';
        fprintf(out, "  %s%s%s %s\n", course_colour(ok ? COURSE_GREEN : COURSE_RED), ok ? "✔" : "✘",
                course_colour(COURSE_RESET), words ? words : t->name);
        free(words);
        if (!ok)
            print_failure(out, t);
    }

    if (r->nother > 0) {
        /* With no Check lines at all, this is the only clue to what went wrong. */
        fprintf(out, "\n  %s%s%s\n", course_colour(COURSE_DIM),
                r->ntests > 0 ? "The tests also printed:" : "The test program printed:",
                course_colour(COURSE_RESET));
        for (size_t i = 0; i < r->nother; i++)
            fprintf(out, "    │ %s\n", r->other[i]);
    }
}

void course_result_free(struct course_result *r)
{
    free(r->build_log);
    free(r->output);
    for (size_t i = 0; i < r->ntests; i++) {
        free(r->tests[i].file);
        free(r->tests[i].tcase);
        free(r->tests[i].name);
        free(r->tests[i].message);
    }
    free(r->tests);
    for (size_t i = 0; i < r->nother; i++)
        free(r->other[i]);
    free(r->other);
    *r = (struct course_result){0};
}
