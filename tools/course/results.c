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
#include <unistd.h>

#include "proc.h"
#include "style.h"

/* A whole suite gets this long. Check already limits each test (10 s by default);
 * this only catches a test binary that hangs outside any test. */
#define SUITE_TIMEOUT_MS (5 * 60 * 1000)
/* valgrind runs the tests one after another, each many times slower. */
#define VALGRIND_TIMEOUT_MS (15 * 60 * 1000)

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

const char *course_checker_name(enum course_checker checker)
{
    switch (checker) {
    case COURSE_CHECK_ASAN:
        return "AddressSanitizer and UBSan";
    case COURSE_CHECK_VALGRIND:
        return "valgrind";
    case COURSE_CHECK_PLAIN:
        break;
    }
    return "";
}

const char *course_checker_flag(enum course_checker checker)
{
    switch (checker) {
    case COURSE_CHECK_ASAN:
        return "--asan";
    case COURSE_CHECK_VALGRIND:
        return "--valgrind";
    case COURSE_CHECK_PLAIN:
        break;
    }
    return "";
}

/* The sanitizer build lives beside the ordinary one, as `make asan` has it. */
static const char build_dir[] = "build/";
static const char asan_dir[] = "build/asan/";

char *course_checker_binary(const struct course_exercise *ex, enum course_checker checker)
{
    const char *bin = ex->reader_bin;
    if (checker != COURSE_CHECK_ASAN)
        return strdup(bin);
    if (strncmp(bin, build_dir, sizeof build_dir - 1) == 0)
        bin += sizeof build_dir - 1;
    char *path = NULL;
    if (asprintf(&path, "%s%s", asan_dir, bin) < 0)
        return NULL;
    return path;
}

bool course_have_program(const char *name)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t len = strcspn(path, ":");
        char *candidate = NULL;
        if (asprintf(&candidate, "%.*s/%s", (int)len, len ? path : ".", name) >= 0) {
            bool found = access(candidate, X_OK) == 0;
            free(candidate);
            if (found)
                return true;
        }
        path += len;
        if (*path == ':')
            path++;
    }
    return false;
}

/* Adds "NAME=value" to env unless the reader set NAME already (their choice wins). */
static void default_env(char **env, size_t *n, const char *setting)
{
    size_t name_len = strcspn(setting, "=");
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)name_len, setting);
    if (!getenv(name))
        env[(*n)++] = (char *)setting;
}

/* Step 1: make builds the binary. 0 when built; 1 when it did not build (r says why). */
static int build(const char *bin, enum course_checker checker, struct course_result *r, char *err,
                 size_t errlen)
{
    /* O and SAN are given even for the plain build: a value of either in the
     * environment (exported by an outer make, say) must not move or change it. */
    char *plain_argv[] = {
        "make", "-s", "--no-print-directory", "O=build", "SAN=", (char *)bin, NULL};
    char *asan_argv[] = {"make",      "-s", "--no-print-directory", "O=build/asan", "SAN=1",
                         (char *)bin, NULL};
    struct course_capture cap;
    int rc =
        course_capture_run(checker == COURSE_CHECK_ASAN ? asan_argv : plain_argv, NULL, 0, 0, &cap);
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
        return 1;
    }
    course_capture_free(&cap);
    return 0;
}

/* Keeps a checker's whole output beside its binary (its reports are cut short on
 * screen). Returns the path (malloc'd), or NULL when it could not be written. */
static char *save_log(const char *bin, enum course_checker checker, const char *text)
{
    char *path = NULL;
    if (asprintf(&path, "%s.%s.log", bin, checker == COURSE_CHECK_ASAN ? "asan" : "valgrind") < 0)
        return NULL;
    FILE *f = fopen(path, "w");
    if (!f || fputs(text ? text : "", f) < 0 || fclose(f) != 0) {
        if (f)
            fclose(f);
        free(path);
        return NULL;
    }
    return path;
}

int course_verify(const struct course_exercise *ex, struct course_result *r, char *err,
                  size_t errlen)
{
    return course_verify_with(ex, COURSE_CHECK_PLAIN, r, err, errlen);
}

int course_verify_with(const struct course_exercise *ex, enum course_checker checker,
                       struct course_result *r, char *err, size_t errlen)
{
    *r = (struct course_result){.checker = checker};

    if (checker == COURSE_CHECK_VALGRIND && !course_have_program("valgrind")) {
        snprintf(err, errlen,
                 "verify --valgrind needs valgrind, which is not installed. `make deps` installs "
                 "it (or: apt-get install valgrind)");
        return -ENOENT;
    }
    char *bin = course_checker_binary(ex, checker);
    if (!bin) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }

    /* Step 1: build. make decides what is out of date; -s keeps it quiet on success. */
    int rc = build(bin, checker, r, err, errlen);
    if (rc != 0) {
        free(bin);
        return rc < 0 ? rc : 0;
    }

    /* Step 2: run, in fork mode (a crash is one test's error, not the end of the run)
     * and verbose (so passing tests are listed too). Check's filters are removed:
     * an exercise passes only when all of its tests do. valgrind follows one process,
     * so under valgrind the tests run in it (CK_FORK=no), as `make memcheck` runs them. */
    char *env[16];
    size_t n = 0;
    env[n++] = checker == COURSE_CHECK_VALGRIND ? "CK_FORK=no" : "CK_FORK=yes";
    env[n++] = "CK_VERBOSITY=verbose";
    env[n++] = "CK_RUN_SUITE";
    env[n++] = "CK_RUN_CASE";
    env[n++] = "CK_INCLUDE_TAGS";
    env[n++] = "CK_EXCLUDE_TAGS";
    if (checker == COURSE_CHECK_ASAN) {
        default_env(env, &n, "CK_TIMEOUT_MULTIPLIER=2");
        default_env(env, &n, "UBSAN_OPTIONS=print_stacktrace=1");
    } else if (checker == COURSE_CHECK_VALGRIND) {
        default_env(env, &n, "CK_TIMEOUT_MULTIPLIER=20");
    }
    env[n] = NULL;

    char *plain_argv[] = {bin, NULL};
    char *valgrind_argv[] = {"valgrind",
                             "-q",
                             "--leak-check=full",
                             "--show-leak-kinds=definite,indirect",
                             "--errors-for-leak-kinds=definite,indirect",
                             "--error-exitcode=42",
                             "--fullpath-after=",
                             bin,
                             NULL};
    struct course_capture cap;
    rc = course_capture_run(
        checker == COURSE_CHECK_VALGRIND ? valgrind_argv : plain_argv, env,
        checker == COURSE_CHECK_VALGRIND ? VALGRIND_TIMEOUT_MS : SUITE_TIMEOUT_MS, 0, &cap);
    if (rc < 0) {
        snprintf(err, errlen, "cannot run %s: %s", bin, strerror(-rc));
        free(bin);
        return rc;
    }
    r->output = cap.text;
    r->status = cap.status;
    r->timed_out = cap.timed_out;
    if (checker != COURSE_CHECK_PLAIN)
        r->log_path = save_log(bin, checker, r->output);
    free(bin);

    /* Under a checker, its reports come out first; the rest is Check's. */
    char *checked = r->output;
    if (checker != COURSE_CHECK_PLAIN) {
        char root[4096];
        checked =
            course_findings_parse(r->output, getcwd(root, sizeof root) ? root : "", &r->findings);
        rc = checked ? 0 : -ENOMEM;
    }
    if (checked)
        rc = course_parse_check_output(checked, r);
    if (checked != r->output)
        free(checked);
    if (rc < 0) {
        snprintf(err, errlen, "out of memory");
        course_result_free(r);
        return rc;
    }
    bool exited_ok = WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0;
    bool all_good = r->has_summary && r->failures == 0 && r->errors == 0;
    r->verdict = exited_ok && all_good && !r->timed_out && r->findings.n == 0 ? COURSE_PASSED
                                                                              : COURSE_FAILED;
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

/* Whether a finding belongs to test t. */
static bool found_in(const struct course_finding *f, const struct course_test *t)
{
    return f->test && strcmp(f->test, t->name) == 0;
}

static bool test_has_findings(const struct course_result *r, const struct course_test *t)
{
    for (size_t i = 0; i < r->findings.n; i++)
        if (found_in(&r->findings.f[i], t))
            return true;
    return false;
}

/* A test is shown as failed when Check says so or when the checker found something in it. */
static bool test_ok(const struct course_result *r, const struct course_test *t)
{
    return t->kind == 'P' && !test_has_findings(r, t);
}

/* Frames: the course's own (up to three), else the first one with a name. */
static void print_stack(FILE *out, const struct course_stack *s)
{
    int shown = 0;
    for (size_t i = 0; i < s->nframes && shown < 3; i++) {
        const struct course_frame *fr = &s->frames[i];
        if (!course_frame_is_ours(fr))
            continue;
        const char *func = fr->func ? fr->func : "";
        int len = (int)strlen(func);
        /* A test's frame is <test>_fn: show the test's own name. */
        if (strncmp(fr->where, "tests/", 6) == 0 && len > 3 && strcmp(func + len - 3, "_fn") == 0)
            len -= 3;
        detail(out, shown == 0 ? s->label : "", "%.*s%s%s", len, func, len ? "  " : "", fr->where);
        shown++;
    }
    for (size_t i = 0; i < s->nframes && shown == 0; i++) {
        const struct course_frame *fr = &s->frames[i];
        if (fr->func && strncmp(fr->func, "__", 2) != 0) {
            detail(out, s->label, "%s%s%s", fr->func, fr->where ? "  " : "",
                   fr->where ? fr->where : "");
            shown++;
        }
    }
}

static void print_finding_details(FILE *out, const struct course_finding *f)
{
    for (size_t i = 0; i < f->nstacks; i++)
        print_stack(out, &f->stacks[i]);
}

/* Where a finding happened in the course's own code: its first stack's first frame. */
static const char *first_place(const struct course_finding *f)
{
    for (size_t i = 0; f->nstacks > 0 && i < f->stacks[0].nframes; i++)
        if (course_frame_is_ours(&f->stacks[0].frames[i]))
            return f->stacks[0].frames[i].where;
    return NULL;
}

/* Two findings of one kind from the same place (leaks of each object in a loop) are
 * shown once. */
static bool alike(const struct course_finding *a, const struct course_finding *b)
{
    const char *pa = first_place(a), *pb = first_place(b);
    size_t kind = strcspn(a->what, ":");
    return strcmp(a->tool, b->tool) == 0 && pa && pb && strcmp(pa, pb) == 0 &&
           strncmp(a->what, b->what, kind) == 0 && b->what[kind] == a->what[kind];
}

/* Which findings a group is: those of test t (or, t NULL, those in no reported test). */
static bool in_group(const struct course_result *r, const struct course_finding *f,
                     const struct course_test *t)
{
    if (t)
        return found_in(f, t);
    for (size_t i = 0; i < r->ntests; i++)
        if (found_in(f, &r->tests[i]))
            return false;
    return true;
}

/* Finding k, unless an alike one of its group was shown before it; *more counts the
 * alike ones after it. */
static bool first_of_kind(const struct course_result *r, size_t k, const struct course_test *t,
                          size_t *more)
{
    const struct course_finding *f = &r->findings.f[k];
    *more = 0;
    for (size_t j = 0; j < r->findings.n; j++) {
        const struct course_finding *g = &r->findings.f[j];
        if (j == k || !in_group(r, g, t) || !alike(f, g))
            continue;
        if (j < k)
            return false;
        (*more)++;
    }
    return true;
}

static void print_headline(FILE *out, const struct course_exercise *ex,
                           const struct course_result *r)
{
    const char *red = course_colour(COURSE_RED), *green = course_colour(COURSE_GREEN);
    const char *bold = course_colour(COURSE_BOLD), *reset = course_colour(COURSE_RESET);
    char how[128];
    course_describe_status(r->status, how, sizeof how);
    char under[64] = "";
    if (r->checker != COURSE_CHECK_PLAIN)
        snprintf(under, sizeof under, " under %s", course_checker_name(r->checker));

    int bad = 0;
    for (size_t i = 0; i < r->ntests; i++)
        bad += !test_ok(r, &r->tests[i]);
    if (r->ntests == 0)
        bad = r->failures + r->errors;
    size_t nfound = r->findings.n;

    if (r->verdict == COURSE_PASSED) {
        fprintf(out, "%s✔%s %s%s%s passes%s: all %d tests%s\n", green, reset, bold, ex->id, reset,
                under, r->checks, *under ? ", no memory errors and no leaks" : "");
    } else if (r->verdict == COURSE_BUILD_ERROR) {
        fprintf(out, "%s✘%s %s%s%s does not build%s yet. make said:\n\n", red, reset, bold, ex->id,
                reset, r->checker == COURSE_CHECK_ASAN ? " with the sanitizers" : "");
    } else if (r->timed_out) {
        fprintf(out, "%s✘%s %s%s%s: the tests ran for too long%s and were stopped\n", red, reset,
                bold, ex->id, reset, under);
    } else if (!r->has_summary) {
        fprintf(out, "%s✘%s %s%s%s: the test program stopped before it reported (%s)%s\n", red,
                reset, bold, ex->id, reset, how, under);
    } else if (bad > 0) {
        fprintf(out, "%s✘%s %s%s%s: %d of %d tests fail%s\n", red, reset, bold, ex->id, reset, bad,
                r->checks, under);
    } else if (nfound > 0) {
        fprintf(out, "%s✘%s %s%s%s: every test passed, but %s found %zu problem%s\n", red, reset,
                bold, ex->id, reset, course_checker_name(r->checker), nfound,
                nfound == 1 ? "" : "s");
    } else {
        fprintf(out, "%s✘%s %s%s%s: every test passed, but the test program ended with %s%s\n", red,
                reset, bold, ex->id, reset, how, under);
    }
}

/* Whether a finding alike f was shown under one of the tests before test i. */
static bool shown_before(const struct course_result *r, size_t i, const struct course_finding *f)
{
    for (size_t j = 0; j < r->findings.n; j++)
        for (size_t t = 0; t < i; t++)
            if (found_in(&r->findings.f[j], &r->tests[t]) && alike(&r->findings.f[j], f))
                return true;
    return false;
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
        bool ok = test_ok(r, t);
        fprintf(out, "  %s%s%s %s\n", course_colour(ok ? COURSE_GREEN : COURSE_RED), ok ? "✔" : "✘",
                course_colour(COURSE_RESET), words ? words : t->name);
        free(words);
        if (ok)
            continue;
        /* The checker's report says more than "the test process ended early". */
        bool found = test_has_findings(r, t);
        if (!found || t->kind == 'F')
            print_failure(out, t);
        /* The first problems matter most: the rest often follow from them (valgrind
         * carries on after an invalid access). */
        size_t shown = 0, skipped = 0;
        for (size_t k = 0; k < r->findings.n; k++) {
            const struct course_finding *f = &r->findings.f[k];
            size_t more;
            if (!found_in(f, t) || !first_of_kind(r, k, t, &more))
                continue;
            if (shown == 2) {
                skipped += 1 + more;
                continue;
            }
            shown++;
            char also[48] = "";
            if (more)
                snprintf(also, sizeof also, " (and %zu more like it)", more);
            if (shown_before(r, i, f)) { /* the same bug, met by another test */
                detail(out, "found", "%s: %s%s, as in a test above", f->tool, f->what, also);
                continue;
            }
            detail(out, "found", "%s: %s%s", f->tool, f->what, also);
            print_finding_details(out, f);
        }
        if (skipped)
            detail(out, "and", "%zu more problem%s in this test: see the full report", skipped,
                   skipped == 1 ? "" : "s");
    }

    /* Findings outside any test Check reported (a crash under valgrind ends the run
     * before Check reports; a leak may be in no test at all). */
    bool header = false;
    for (size_t k = 0; k < r->findings.n; k++) {
        const struct course_finding *f = &r->findings.f[k];
        size_t more;
        if (!in_group(r, f, NULL) || !first_of_kind(r, k, NULL, &more))
            continue;
        if (!header) {
            fprintf(out, "\n  %s%s%s found:%s\n", course_colour(COURSE_DIM),
                    course_checker_name(r->checker), r->ntests > 0 ? " also" : "",
                    course_colour(COURSE_RESET));
            header = true;
        }
        char *words = f->test ? course_test_words(f->test) : NULL;
        char also[48] = "";
        if (more)
            snprintf(also, sizeof also, " (and %zu more like it)", more);
        fprintf(out, "  %s✘%s %s: %s%s%s%s%s\n", course_colour(COURSE_RED),
                course_colour(COURSE_RESET), f->tool, f->what, also, words ? ", in the test " : "",
                words ? words : "", "");
        free(words);
        print_finding_details(out, f);
    }
    if (r->findings.n > 0 && r->log_path)
        fprintf(out, "\n  %sThe full report: %s%s\n", course_colour(COURSE_DIM), r->log_path,
                course_colour(COURSE_RESET));

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
    free(r->log_path);
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
    course_findings_free(&r->findings);
    *r = (struct course_result){0};
}
