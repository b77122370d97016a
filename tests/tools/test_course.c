/*
 * Tests for the course tool (tools/course): the manifest parser, the reading of
 * Check's output, the derived paths, and the built program itself run against a
 * small fake course in a temporary folder; `verify --asan` and `--valgrind` against
 * a fake course of real C; and `read` against this repository's own book.
 *
 * The fake course has the same shape as the real one (exercises/manifest, a
 * Makefile that builds build/exercises/<chapter>/ex_<name>), but its "test
 * binaries" are shell scripts that print Check-style lines according to a word in
 * the exercise file: PASS, CRASH, BROKEN (does not compile) or anything else
 * (fails). Each run appends a line to build/runs.log, so a test can count runs.
 */
#include "axtest.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "manifest.h"
#include "results.h"

/* ---------------------------------------------------------------------------------
 * Manifest */

static const char good_manifest[] = "# The exercises, in order.\n"
                                    "\n"
                                    "[01-writev-all]\n"
                                    "chapter    = 01-blocking\n"
                                    "section    = short-writes\n"
                                    "  # an indented comment\n"
                                    "edit       = exercises/01-blocking/writev_all.c\n"
                                    "suite      = tests/01-blocking/ex_writev_all.c\n"
                                    "difficulty = 1\n"
                                    "hint       = Keep going until nothing is left = done.\n"
                                    "\n"
                                    "[02-loop]\r\n"
                                    "chapter=02-select\n"
                                    "section=the-loop\n"
                                    "edit=exercises/02-select/loop.c   exercises/02-select/loop.h\n"
                                    "suite=tests/02-select/ex_loop.c\n"
                                    "difficulty=3\n"
                                    "hint=#include <sys/select.h> first\n";

START_TEST(manifest_reads_every_field_of_every_block)
{
    struct course_manifest m;
    char err[256];
    ck_assert_int_eq(course_manifest_parse(good_manifest, "manifest", &m, err, sizeof err), 0);
    ck_assert_uint_eq(m.n, 2);

    const struct course_exercise *a = &m.ex[0];
    ck_assert_str_eq(a->id, "01-writev-all");
    ck_assert_str_eq(a->chapter, "01-blocking");
    ck_assert_str_eq(a->section, "short-writes");
    ck_assert_uint_eq(a->nedit, 1);
    ck_assert_str_eq(a->edit[0], "exercises/01-blocking/writev_all.c");
    ck_assert_str_eq(a->suite, "tests/01-blocking/ex_writev_all.c");
    ck_assert_int_eq(a->difficulty, 1);
    ck_assert_str_eq(a->hint, "Keep going until nothing is left = done.");
    ck_assert_int_eq(a->line, 3);

    const struct course_exercise *b = &m.ex[1];
    ck_assert_str_eq(b->id, "02-loop");
    ck_assert_uint_eq(b->nedit, 2);
    ck_assert_str_eq(b->edit[1], "exercises/02-select/loop.h");
    ck_assert_int_eq(b->difficulty, 3);
    ck_assert_str_eq(b->hint, "#include <sys/select.h> first");

    ck_assert_ptr_eq(course_manifest_find(&m, "02-loop"), b);
    ck_assert_ptr_null(course_manifest_find(&m, "03-nope"));
    course_manifest_free(&m);
}
END_TEST

START_TEST(manifest_derives_the_reader_binary_and_chapter_paths)
{
    struct course_manifest m;
    char err[256];
    ck_assert_int_eq(course_manifest_parse(good_manifest, "manifest", &m, err, sizeof err), 0);
    ck_assert_str_eq(m.ex[0].reader_bin, "build/exercises/01-blocking/ex_writev_all");
    ck_assert_str_eq(m.ex[0].doc, "chapters/01-blocking/01-blocking.md");
    ck_assert_str_eq(m.ex[1].reader_bin, "build/exercises/02-select/ex_loop");
    course_manifest_free(&m);

    char *path = course_reader_binary("03-epoll", "tests/03-epoll/ex_reactor.c");
    ck_assert_str_eq(path, "build/exercises/03-epoll/ex_reactor");
    free(path);
}
END_TEST

START_TEST(manifest_of_only_comments_has_no_exercises)
{
    struct course_manifest m;
    char err[256];
    ck_assert_int_eq(
        course_manifest_parse("# nothing yet\n\n   \n# really\n", "manifest", &m, err, sizeof err),
        0);
    ck_assert_uint_eq(m.n, 0);
    course_manifest_free(&m);
}
END_TEST

/* Parses text that must fail; returns the error message (static). */
static const char *parse_error(const char *text)
{
    static char err[256];
    struct course_manifest m;
    ck_assert_int_eq(course_manifest_parse(text, "exercises/manifest", &m, err, sizeof err),
                     -EINVAL);
    ck_assert_uint_eq(m.n, 0);
    return err;
}

START_TEST(manifest_missing_key_names_the_block_and_its_line)
{
    const char *err = parse_error("# comment\n"
                                  "[01-a]\n"
                                  "chapter = 01-x\nsection = s\nedit = exercises/01-x/a.c\n"
                                  "suite = tests/01-x/ex_a.c\ndifficulty = 2\n");
    ck_assert_str_eq(err, "exercises/manifest:2: [01-a] has no 'hint' line");
}
END_TEST

START_TEST(manifest_unknown_key_names_the_line)
{
    const char *err = parse_error("[01-a]\n"
                                  "chapter = 01-x\n"
                                  "sectoin = s\n");
    ck_assert_msg(strncmp(err, "exercises/manifest:3: unknown key 'sectoin'", 43) == 0, "got: %s",
                  err);
}
END_TEST

START_TEST(manifest_rejects_malformed_lines)
{
    ck_assert_msg(strstr(parse_error("chapter = 01-x\n"), ":1: ") != NULL, "key before a block");
    ck_assert_msg(strstr(parse_error("[01-a]\njust words\n"), ":2: expected 'key = value'"),
                  "no '='");
    ck_assert_msg(strstr(parse_error("[01-a]\ndifficulty = 4\n"), ":2: difficulty is '4'"),
                  "difficulty out of range");
    ck_assert_msg(strstr(parse_error("[01-a]\nhint = a\nhint = b\n"), ":3: 'hint' is set twice"),
                  "duplicate key");
    ck_assert_msg(strstr(parse_error("[01-a]\nsuite = tests/01-x/ex_a.h\n"), ":2: suite"),
                  "suite not a .c file");
    ck_assert_msg(strstr(parse_error("[01 a]\n"), ":1: exercise id"), "space in id");

    char twice[1024];
    const char *block = "chapter = c\nsection = s\nedit = e.c\nsuite = t/ex.c\n"
                        "difficulty = 1\nhint = h\n";
    snprintf(twice, sizeof twice, "[x]\n%s[x]\n%s", block, block);
    ck_assert_msg(strstr(parse_error(twice), ":8: [x] appears twice"), "duplicate id");
}
END_TEST

/* ---------------------------------------------------------------------------------
 * Check's output */

static const char failing_output[] =
    "Running suite(s): writev_all\n"
    "debug: wrote 3 bytes\n"
    "33%: Checks: 3, Failures: 1, Errors: 1\n"
    "tests/01-blocking/ex_writev_all.c:20:P:core:writev_all_writes_one_piece:0: Passed\n"
    "tests/01-blocking/ex_writev_all.c:42:F:core:writev_all_survives_short_writes:0: "
    "Assertion 'x == y' failed: x == 3, y == 5\n"
    "tests/01-blocking/ex_writev_all.c:50:E:core:writev_all_retries_eintr:0: (after this point) "
    "Received signal 11 (Segmentation fault)\n";

START_TEST(check_output_failures_and_errors_are_read)
{
    struct course_result r = {0};
    ck_assert_int_eq(course_parse_check_output(failing_output, &r), 0);
    ck_assert(r.has_summary);
    ck_assert_int_eq(r.checks, 3);
    ck_assert_int_eq(r.failures, 1);
    ck_assert_int_eq(r.errors, 1);
    ck_assert_uint_eq(r.ntests, 3);

    ck_assert_int_eq(r.tests[0].kind, 'P');
    ck_assert_str_eq(r.tests[0].name, "writev_all_writes_one_piece");

    const struct course_test *f = &r.tests[1];
    ck_assert_int_eq(f->kind, 'F');
    ck_assert_str_eq(f->file, "tests/01-blocking/ex_writev_all.c");
    ck_assert_int_eq(f->line, 42);
    ck_assert_str_eq(f->tcase, "core");
    ck_assert_str_eq(f->name, "writev_all_survives_short_writes");
    ck_assert_str_eq(f->message, "Assertion 'x == y' failed: x == 3, y == 5");

    const struct course_test *e = &r.tests[2];
    ck_assert_int_eq(e->kind, 'E');
    ck_assert_int_eq(e->line, 50);
    ck_assert_str_eq(e->message, "(after this point) Received signal 11 (Segmentation fault)");

    /* The reader's own print is kept; Check's banner is not. */
    ck_assert_uint_eq(r.nother, 1);
    ck_assert_str_eq(r.other[0], "debug: wrote 3 bytes");
    course_result_free(&r);
}
END_TEST

START_TEST(check_output_passing_summary_is_read)
{
    struct course_result r = {0};
    ck_assert_int_eq(course_parse_check_output("Running suite(s): x\n"
                                               "100%: Checks: 7, Failures: 0, Errors: 0\n",
                                               &r),
                     0);
    ck_assert(r.has_summary);
    ck_assert_int_eq(r.checks, 7);
    ck_assert_int_eq(r.failures + r.errors, 0);
    ck_assert_uint_eq(r.ntests, 0);
    ck_assert_uint_eq(r.nother, 0);
    course_result_free(&r);
}
END_TEST

START_TEST(check_output_without_summary_is_noticed)
{
    struct course_result r = {0};
    ck_assert_int_eq(course_parse_check_output("Segmentation fault (core dumped)\n", &r), 0);
    ck_assert(!r.has_summary);
    ck_assert_uint_eq(r.nother, 1);
    course_result_free(&r);
}
END_TEST

START_TEST(compiler_errors_are_not_mistaken_for_test_lines)
{
    struct course_result r = {0};
    ck_assert_int_eq(course_parse_check_output(
                         "exercises/01-blocking/writev_all.c:12:5: error: expected ';' before '}'\n"
                         "make: *** [Makefile:81: build/obj/x.o] Error 1\n",
                         &r),
                     0);
    ck_assert_uint_eq(r.ntests, 0);
    ck_assert_uint_eq(r.nother, 2);
    course_result_free(&r);
}
END_TEST

START_TEST(test_names_become_words)
{
    char *words = course_test_words("writev_all_survives_short_writes");
    ck_assert_str_eq(words, "writev all survives short writes");
    free(words);
}
END_TEST

/* Prints a result into a string (colour is off: the style was never switched on). */
static char *printed(const struct course_result *r)
{
    static struct course_exercise ex = {.id = "01-writev-all"};
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(out);
    course_print_result(out, &ex, r);
    fclose(out);
    return text;
}

START_TEST(failures_are_shown_as_expected_and_got)
{
    struct course_result r = {.verdict = COURSE_FAILED};
    ck_assert_int_eq(course_parse_check_output(failing_output, &r), 0);
    char *text = printed(&r);

    ck_assert_msg(strstr(text, "✘ 01-writev-all: 2 of 3 tests fail"), "%s", text);
    ck_assert_msg(strstr(text, "✔ writev all writes one piece"), "%s", text);
    ck_assert_msg(strstr(text, "✘ writev all survives short writes"), "%s", text);
    ck_assert_msg(strstr(text, "expected  x == y\n"), "%s", text);
    ck_assert_msg(strstr(text, "but got   x == 3, y == 5\n"), "%s", text);
    ck_assert_msg(strstr(text, "at        tests/01-blocking/ex_writev_all.c:42"), "%s", text);
    ck_assert_msg(strstr(text, "crashed   Segmentation fault (signal 11)"), "%s", text);
    ck_assert_msg(strstr(text, "after     tests/01-blocking/ex_writev_all.c:50"), "%s", text);
    ck_assert_msg(strstr(text, "│ debug: wrote 3 bytes"), "%s", text);
    free(text);
    course_result_free(&r);
}
END_TEST

START_TEST(a_literal_side_of_a_comparison_is_not_repeated)
{
    struct course_result r = {.verdict = COURSE_FAILED};
    ck_assert_int_eq(course_parse_check_output("0%: Checks: 1, Failures: 1, Errors: 0\n"
                                               "t.c:9:F:core:counts:0: Assertion 'f(a, b) == 3' "
                                               "failed: f(a, b) == 2, 3 == 3\n",
                                               &r),
                     0);
    char *text = printed(&r);
    ck_assert_msg(strstr(text, "but got   f(a, b) == 2\n"), "%s", text);
    free(text);
    course_result_free(&r);
}
END_TEST

START_TEST(a_compile_error_is_shown_verbatim)
{
    const char *log = "exercises/01-blocking/writev_all.c:12:5: error: expected ';' before '}'\n"
                      "   12 |     return 0\n"
                      "      |             ^\n";
    struct course_result r = {.verdict = COURSE_BUILD_ERROR, .build_log = strdup(log)};
    char *text = printed(&r);
    ck_assert_msg(strstr(text, "01-writev-all does not build yet"), "%s", text);
    ck_assert_msg(strstr(text, log), "%s", text);
    free(text);
    course_result_free(&r);
}
END_TEST

/* ---------------------------------------------------------------------------------
 * The built program, against a fake course */

static const char fake_manifest[] = "# A fake course for the course tool's tests.\n"
                                    "[01-first]\n"
                                    "chapter = 01-fake\n"
                                    "section = first-steps\n"
                                    "edit = exercises/01-fake/first.c\n"
                                    "suite = tests/01-fake/ex_first.c\n"
                                    "difficulty = 1\n"
                                    "hint = Write PASS into the file.\n"
                                    "\n"
                                    "[01-second]\n"
                                    "chapter = 01-fake\n"
                                    "section = second-steps\n"
                                    "edit = exercises/01-fake/second.c\n"
                                    "suite = tests/01-fake/ex_second.c\n"
                                    "difficulty = 3\n"
                                    "hint = The second hint.\n";

/* Builds build/exercises/01-fake/ex_NAME from exercises/01-fake/NAME.c. */
static const char fake_makefile[] =
    "build/exercises/01-fake/ex_%: exercises/01-fake/%.c suite.sh\n"
    "\t@mkdir -p $(@D)\n"
    "\t@if grep -q BROKEN $<; then echo \"$<:1:1: error: BROKEN is not C\" >&2; exit 1; fi\n"
    "\t@sed 's|@SRC@|$<|' suite.sh > $@\n"
    "\t@chmod +x $@\n";

/* The fake test binary: Check-style output chosen by a word in the exercise file. */
static const char fake_suite[] =
    "#!/bin/sh\n"
    "echo \"$0\" >> build/runs.log\n"
    "echo 'Running suite(s): fake'\n"
    "if grep -q CRASH @SRC@; then\n"
    "  echo '50%: Checks: 2, Failures: 0, Errors: 1'\n"
    "  echo 'tests/01-fake/ex.c:5:P:core:it_builds:0: Passed'\n"
    "  echo 'tests/01-fake/ex.c:12:E:core:it_does_not_crash:0: (after this point) Received "
    "signal 11 (Segmentation fault)'\n"
    "  exit 1\n"
    "fi\n"
    "if grep -q PASS @SRC@; then\n"
    "  echo '100%: Checks: 2, Failures: 0, Errors: 0'\n"
    "  echo 'tests/01-fake/ex.c:5:P:core:it_builds:0: Passed'\n"
    "  echo 'tests/01-fake/ex.c:9:P:core:it_counts_to_three:0: Passed'\n"
    "  exit 0\n"
    "fi\n"
    "echo 'debug: n is 2'\n"
    "echo '50%: Checks: 2, Failures: 1, Errors: 0'\n"
    "echo 'tests/01-fake/ex.c:5:P:core:it_builds:0: Passed'\n"
    "echo \"tests/01-fake/ex.c:9:F:core:it_counts_to_three:0: Assertion 'n == 3' failed: n == "
    "2, 3 == 3\"\n"
    "exit 1\n";

/* The course binary sits beside this test's: $(O)/tests/tools/.. -> $(O)/bin/course. */
static const char *course_binary(void)
{
    static char path[PATH_MAX];
    char self[PATH_MAX - 32]; /* leaves room for the suffix below */
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    ck_assert_int_gt(n, 0);
    self[n] = '\0';
    *strrchr(self, '/') = '\0'; /* .../tests/tools */
    snprintf(path, sizeof path, "%s/../../bin/course", self);
    ck_assert_msg(access(path, X_OK) == 0, "%s is not built", path);
    return path;
}

/* Writes text to root/rel, making folders on the way. */
static void put(const char *root, const char *rel, const char *text)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *slash = strchr(path + strlen(root) + 1, '/'); slash;
         slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        mkdir(path, 0755);
        *slash = '/';
    }
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

/* A fake course in a new temporary folder: 01-first passes, 01-second fails. */
static const char *fake_course(void)
{
    static char root[64];
    strcpy(root, "/tmp/test_course.XXXXXX"); /* afresh: mkdtemp fills in the X's */
    ck_assert_ptr_nonnull(mkdtemp(root));
    put(root, "exercises/manifest", fake_manifest);
    put(root, "Makefile", fake_makefile);
    put(root, "suite.sh", fake_suite);
    put(root, "exercises/01-fake/first.c", "PASS\n");
    put(root, "exercises/01-fake/second.c", "TODO\n");

    /* The tool is run from here, not from within make: no inherited make flags. */
    unsetenv("MAKEFLAGS");
    unsetenv("MAKELEVEL");
    unsetenv("MFLAGS");
    return root;
}

static void remove_course(const char *root)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    ck_assert_int_eq(system(cmd), 0);
}

/*
 * Runs `ENV course ARGS` in root (ENV: shell assignments such as "PATH=/x", or "");
 * returns its exit status, and its output in *out: standard output alone when
 * stdout_only, else with standard error.
 */
static int course_env(const char *root, const char *env, const char *args, bool stdout_only,
                      char **out)
{
    char cmd[3 * PATH_MAX];
    snprintf(cmd, sizeof cmd, "cd '%s' && %s AX_COURSE_ROOT='%s' NO_COLOR=1 '%s' %s %s </dev/null",
             root, env, root, course_binary(), args, stdout_only ? "2>/dev/null" : "2>&1");
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t len = 0, cap = 4096;
    char *text = malloc(cap);
    size_t n;
    while ((n = fread(text + len, 1, cap - len - 1, p)) > 0)
        if ((len += n) + 1 == cap)
            text = realloc(text, cap *= 2);
    text[len] = '\0';
    int status = pclose(p);
    *out = text;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Runs `course ARGS` in root; returns its exit status, and its output in *out. */
static int course(const char *root, const char *args, char **out)
{
    return course_env(root, "", args, false, out);
}

/* Asserts that text contains needle, showing the whole text when not. */
#define ck_assert_has(text, needle)                                                                \
    ck_assert_msg(strstr((text), (needle)) != NULL, "expected \"%s\" in:\n%s", (needle), (text))

/* Asserts that text does not contain needle. */
#define ck_assert_lacks(text, needle)                                                              \
    ck_assert_msg(strstr((text), (needle)) == NULL, "did not expect \"%s\" in:\n%s", (needle),     \
                  (text))

START_TEST(status_shows_progress_and_the_next_exercise)
{
    const char *root = fake_course();
    char *out;
    ck_assert_int_eq(course(root, "", &out), 0);
    ck_assert_has(out, "1/2 exercises done");
    ck_assert_has(out, "Next up: 01-second");
    ck_assert_has(out, "exercises/01-fake/second.c");
    ck_assert_has(out, "chapters/01-fake/01-fake.md#second-steps");
    ck_assert_has(out, "./course verify 01-second");
    free(out);

    put(root, "exercises/01-fake/second.c", "PASS\n");
    ck_assert_int_eq(course(root, "", &out), 0);
    ck_assert_has(out, "2/2 exercises done");
    ck_assert_has(out, "Every exercise passes (2 of 2)");
    free(out);
    remove_course(root);
}
END_TEST

START_TEST(list_shows_every_exercise)
{
    const char *root = fake_course();
    char *out;
    ck_assert_int_eq(course(root, "list", &out), 0);
    ck_assert_has(out, "✔ done  01-first");
    ck_assert_has(out, "✘ todo  01-second");
    ck_assert_has(out, "01-fake");
    ck_assert_has(out, "★☆☆");
    ck_assert_has(out, "★★★");
    free(out);
    remove_course(root);
}
END_TEST

START_TEST(verify_reports_failures_readably_and_exits_1)
{
    const char *root = fake_course();
    char *out;
    ck_assert_int_eq(course(root, "verify 01-second", &out), 1);
    ck_assert_has(out, "✘ 01-second: 1 of 2 tests fail");
    ck_assert_has(out, "✔ it builds");
    ck_assert_has(out, "✘ it counts to three");
    ck_assert_has(out, "expected  n == 3");
    ck_assert_has(out, "but got   n == 2\n");
    ck_assert_has(out, "at        tests/01-fake/ex.c:9");
    ck_assert_has(out, "│ debug: n is 2");
    free(out);

    /* With no id it picks the first exercise that does not pass. */
    ck_assert_int_eq(course(root, "verify", &out), 1);
    ck_assert_has(out, "01-second: 1 of 2 tests fail");
    free(out);
    remove_course(root);
}
END_TEST

START_TEST(verify_passes_and_exits_0)
{
    const char *root = fake_course();
    char *out;
    ck_assert_int_eq(course(root, "verify 01-first", &out), 0);
    ck_assert_has(out, "✔ 01-first passes: all 2 tests");
    free(out);
    remove_course(root);
}
END_TEST

START_TEST(verify_shows_a_compile_error_verbatim)
{
    const char *root = fake_course();
    put(root, "exercises/01-fake/second.c", "BROKEN\n");
    char *out;
    ck_assert_int_eq(course(root, "verify 01-second", &out), 1);
    ck_assert_has(out, "01-second does not build yet");
    ck_assert_has(out, "exercises/01-fake/second.c:1:1: error: BROKEN is not C");
    free(out);
    remove_course(root);
}
END_TEST

START_TEST(verify_explains_a_crash)
{
    const char *root = fake_course();
    put(root, "exercises/01-fake/second.c", "CRASH\n");
    char *out;
    ck_assert_int_eq(course(root, "verify 01-second", &out), 1);
    ck_assert_has(out, "✘ it does not crash");
    ck_assert_has(out, "crashed   Segmentation fault (signal 11)");
    ck_assert_has(out, "after     tests/01-fake/ex.c:12");
    free(out);
    remove_course(root);
}
END_TEST

START_TEST(unknown_exercise_exits_2)
{
    const char *root = fake_course();
    char *out;
    ck_assert_int_eq(course(root, "verify nope", &out), 2);
    ck_assert_has(out, "unknown exercise 'nope'; `./course list` shows them");
    free(out);
    ck_assert_int_eq(course(root, "hint nope", &out), 2);
    free(out);
    ck_assert_int_eq(course(root, "frobnicate", &out), 2);
    ck_assert_has(out, "usage: ./course");
    free(out);
    ck_assert_int_eq(course(root, "help", &out), 0);
    ck_assert_has(out, "usage: ./course");
    free(out);
    remove_course(root);
}
END_TEST

START_TEST(hint_shows_the_hint_and_the_section)
{
    const char *root = fake_course();
    char *out;
    ck_assert_int_eq(course(root, "hint 01-second", &out), 0);
    ck_assert_has(out, "The second hint.");
    ck_assert_has(out, "chapters/01-fake/01-fake.md#second-steps");
    free(out);
    remove_course(root);
}
END_TEST

START_TEST(a_broken_manifest_is_reported_with_its_line)
{
    const char *root = fake_course();
    put(root, "exercises/manifest", "[01-first]\nchapter = 01-fake\ncolour = blue\n");
    char *out;
    ck_assert_int_eq(course(root, "", &out), 2);
    ck_assert_has(out, "exercises/manifest:3: unknown key 'colour'");
    free(out);
    remove_course(root);
}
END_TEST

START_TEST(reset_restores_the_committed_stub)
{
    const char *root = fake_course();
    char *out;

    /* Not a git checkout yet: nothing to restore from. */
    ck_assert_int_eq(course(root, "reset 01-second --yes", &out), 1);
    ck_assert_has(out, "git checkout");
    free(out);

    char cmd[2 * PATH_MAX];
    snprintf(
        cmd, sizeof cmd,
        "cd '%s' && git init -q && git add -A && git -c user.name=t -c user.email=t@example.org"
        " commit -qm stubs",
        root);
    if (system(cmd) != 0) {
        remove_course(root);
        ck_abort_msg("git is needed for this test: %s", cmd);
    }
    put(root, "exercises/01-fake/second.c", "my work in progress\n");
    ck_assert_int_eq(course(root, "reset 01-second --yes", &out), 0);
    ck_assert_has(out, "restored exercises/01-fake/second.c");
    free(out);

    char path[PATH_MAX], text[64] = "";
    snprintf(path, sizeof path, "%s/exercises/01-fake/second.c", root);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(text, sizeof text, f));
    fclose(f);
    ck_assert_str_eq(text, "TODO\n");
    remove_course(root);
}
END_TEST

START_TEST(help_is_usage_on_stdout_and_exit_0)
{
    const char *root = fake_course();
    char *out;
    ck_assert_int_eq(course_env(root, "", "--help", true, &out), 0);
    ck_assert_has(out, "usage: ./course");
    ck_assert_has(out, "read [NN]");
    ck_assert_has(out, "--asan");
    free(out);
    /* After a command too, and without a manifest to read. */
    ck_assert_int_eq(course_env(root, "", "verify --help", true, &out), 0);
    ck_assert_has(out, "usage: ./course");
    free(out);
    put(root, "exercises/manifest", "[broken\n");
    ck_assert_int_eq(course_env(root, "", "-h", true, &out), 0);
    ck_assert_has(out, "usage: ./course");
    free(out);
    remove_course(root);
}
END_TEST

START_TEST(verify_rejects_a_bad_flag_with_usage)
{
    const char *root = fake_course();
    char *out;
    ck_assert_int_eq(course(root, "verify --asna 01-first", &out), 2);
    ck_assert_has(out, "verify has no option '--asna'");
    ck_assert_has(out, "usage: ./course");
    free(out);
    ck_assert_int_eq(course(root, "verify --asan --valgrind 01-first", &out), 2);
    ck_assert_has(out, "one checker at a time");
    free(out);
    ck_assert_int_eq(course(root, "verify 01-first 01-second", &out), 2);
    ck_assert_has(out, "usage: ./course");
    free(out);
    ck_assert_int_eq(course(root, "verify --asan nope", &out), 2);
    ck_assert_has(out, "unknown exercise 'nope'");
    free(out);
    remove_course(root);
}
END_TEST

START_TEST(the_closing_message_names_the_chapters_that_exist)
{
    const char *root = fake_course();
    put(root, "exercises/01-fake/second.c", "PASS\n");
    char *out;

    /* No chapters/ folder: the chapters the exercises came from. */
    ck_assert_int_eq(course(root, "", &out), 0);
    ck_assert_has(out, "Every exercise passes (2 of 2)");
    ck_assert_has(out, "You have done the exercises of 01-fake.");
    ck_assert_lacks(out, "async runtime");
    free(out);

    put(root, "chapters/00-intro/00-intro.md", "Some words.\n\n# What it is about {#about}\n");
    put(root, "chapters/01-fake/01-fake.md", "# The fake chapter\n\nText.\n");
    put(root, "chapters/02-unwritten/notes.txt", "a folder without its text\n");
    put(root, "chapters/appendix-a-sheet/appendix-a-sheet.md", "# Cheat sheet\n");
    put(root, "book.md", "---\ntitle: x\nchapters: [\"00\", \"01\", \"02\", \"03\"]\n---\n");
    ck_assert_int_eq(course(root, "", &out), 0);
    ck_assert_has(out, "every chapter written so far:\n"
                       "  00  What it is about\n"
                       "  01  The fake chapter\n"
                       "  A   Cheat sheet\n");
    ck_assert_has(out, "Chapters 02 to 03 are not written yet");
    ck_assert_lacks(out, "async runtime");
    free(out);

    /* verify with nothing left to do says the same. */
    ck_assert_int_eq(course(root, "verify", &out), 0);
    ck_assert_has(out, "  01  The fake chapter\n");
    free(out);
    remove_course(root);
}
END_TEST

/* ---------------------------------------------------------------------------------
 * verify --asan and --valgrind, against a small course of real C */

static const char c_manifest[] = "[01-counter]\n"
                                 "chapter = 01-fake\n"
                                 "section = counting\n"
                                 "edit = exercises/01-fake/counter.c\n"
                                 "suite = tests/01-fake/ex_counter.c\n"
                                 "difficulty = 1\n"
                                 "hint = Free what you allocate, once.\n";

/* Builds the suite as the course's Makefile does: O= and SAN=1 for the sanitizer build. */
static const char c_makefile[] =
    "O ?= build\n"
    "ifeq ($(SAN),1)\n"
    "SANITIZE = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer\n"
    "endif\n"
    "$(O)/exercises/01-fake/ex_%: tests/01-fake/ex_%.c exercises/01-fake/%.c\n"
    "\t@mkdir -p $(@D)\n"
    "\t@cc -std=c11 -g -O0 $(SANITIZE) $$(pkg-config --cflags check) $^ "
    "$$(pkg-config --libs check) -o $@\n";

static const char c_suite[] = "#include <check.h>\n"
                              "#include <stdlib.h>\n"
                              "int *counter_new(void);\n"
                              "int counter_get(const int *c);\n"
                              "void counter_drop(int *c);\n"
                              "START_TEST(counters_start_at_zero)\n"
                              "{\n"
                              "    int *c = counter_new();\n"
                              "    ck_assert_ptr_nonnull(c);\n"
                              "    ck_assert_int_eq(counter_get(c), 0);\n"
                              "    counter_drop(c);\n"
                              "}\n"
                              "END_TEST\n"
                              "START_TEST(counters_can_be_dropped)\n"
                              "{\n"
                              "    counter_drop(counter_new());\n"
                              "}\n"
                              "END_TEST\n"
                              "int main(void)\n"
                              "{\n"
                              "    Suite *s = suite_create(\"counter\");\n"
                              "    TCase *tc = tcase_create(\"core\");\n"
                              "    tcase_add_test(tc, counters_start_at_zero);\n"
                              "    tcase_add_test(tc, counters_can_be_dropped);\n"
                              "    suite_add_tcase(s, tc);\n"
                              "    SRunner *r = srunner_create(s);\n"
                              "    srunner_run_all(r, CK_ENV);\n"
                              "    int failed = srunner_ntests_failed(r);\n"
                              "    srunner_free(r);\n"
                              "    return failed == 0 ? 0 : 1;\n"
                              "}\n";

/* The exercise, solved and wrong in three ways (counter_new is on line 3). */
static const char counter_solved[] = "#include <stdlib.h>\n"
                                     "int *counter_new(void)\n"
                                     "{ return calloc(1, sizeof(int)); }\n"
                                     "int counter_get(const int *c) { return *c; }\n"
                                     "void counter_drop(int *c) { free(c); }\n";
static const char counter_stub[] = "#include <stdlib.h>\n"
                                   "int *counter_new(void)\n"
                                   "{ return NULL; /* TODO */ }\n"
                                   "int counter_get(const int *c) { return *c; }\n"
                                   "void counter_drop(int *c) { free(c); }\n";
static const char counter_leaks[] = "#include <stdlib.h>\n"
                                    "int *counter_new(void)\n"
                                    "{ return calloc(1, sizeof(int)); }\n"
                                    "int counter_get(const int *c) { return *c; }\n"
                                    "void counter_drop(int *c) { (void)c; }\n";
static const char counter_reads_freed[] = "#include <stdlib.h>\n"
                                          "int *counter_new(void)\n"
                                          "{ return calloc(1, sizeof(int)); }\n"
                                          "int counter_get(const int *c) { return *c; }\n"
                                          "void counter_drop(int *c)\n"
                                          "{\n"
                                          "    free(c);\n"
                                          "    if (counter_get(c) == 12345)\n"
                                          "        abort();\n"
                                          "}\n";

/* A course with one real C exercise, its file set to `code`. */
static const char *c_course(const char *code)
{
    const char *root = fake_course();
    put(root, "exercises/manifest", c_manifest);
    put(root, "Makefile", c_makefile);
    put(root, "tests/01-fake/ex_counter.c", c_suite);
    put(root, "exercises/01-fake/counter.c", code);
    return root;
}

START_TEST(verify_asan_passes_a_sound_exercise)
{
    const char *root = c_course(counter_solved);
    char *out;
    ck_assert_int_eq(course(root, "verify --asan 01-counter", &out), 0);
    ck_assert_has(out, "✔ 01-counter passes under AddressSanitizer and UBSan: all 2 tests");
    free(out);
    remove_course(root);
}
END_TEST

START_TEST(verify_asan_fails_a_stub)
{
    const char *root = c_course(counter_stub);
    char *out;
    ck_assert_int_eq(course(root, "verify --asan 01-counter", &out), 1);
    ck_assert_has(out, "✘ 01-counter: 1 of 2 tests fail under AddressSanitizer and UBSan");
    ck_assert_has(out, "✘ counters start at zero");
    ck_assert_has(out, "./course verify --asan 01-counter again");
    free(out);
    remove_course(root);
}
END_TEST

START_TEST(verify_asan_finds_a_leak_the_plain_tests_miss)
{
    const char *root = c_course(counter_leaks);
    char *out;
    ck_assert_int_eq(course(root, "verify 01-counter", &out), 0);
    free(out);

    ck_assert_int_eq(course(root, "verify --asan 01-counter", &out), 1);
    ck_assert_has(out, "2 of 2 tests fail under AddressSanitizer and UBSan");
    ck_assert_has(out, "✘ counters start at zero\n"
                       "      found     LeakSanitizer: memory leak: 4 bytes in 1 allocation, never "
                       "freed\n"
                       "      allocated counter_new  exercises/01-fake/counter.c:3\n"
                       "                counters_start_at_zero  tests/01-fake/ex_counter.c:8\n");
    /* The same leak in the next test is named, not shown again. */
    ck_assert_has(out, "✘ counters can be dropped\n"
                       "      found     LeakSanitizer: memory leak: 4 bytes in 1 allocation, never "
                       "freed, as in a test above\n");
    ck_assert_has(out, "The full report: build/asan/exercises/01-fake/ex_counter.asan.log");
    /* The tools' own noise stays out of the reader's prints. */
    ck_assert_lacks(out, "The tests also printed");
    ck_assert_lacks(out, "==ERROR");
    free(out);
    remove_course(root);
}
END_TEST

START_TEST(verify_asan_finds_a_use_after_free)
{
    const char *root = c_course(counter_reads_freed);
    char *out;
    ck_assert_int_eq(course(root, "verify --asan 01-counter", &out), 1);
    ck_assert_has(out, "✘ counters start at zero\n"
                       "      found     AddressSanitizer: heap-use-after-free: READ of size 4\n"
                       "      at        counter_get  exercises/01-fake/counter.c:4\n"
                       "                counter_drop  exercises/01-fake/counter.c:8\n");
    ck_assert_has(out, "      freed     counter_drop  exercises/01-fake/counter.c:7\n");
    ck_assert_has(out, "      allocated counter_new  exercises/01-fake/counter.c:3\n");
    ck_assert_lacks(out, "Shadow byte");
    ck_assert_lacks(out, "The tests also printed");
    free(out);
    remove_course(root);
}
END_TEST

START_TEST(verify_valgrind_finds_a_leak)
{
    const char *root = c_course(counter_solved);
    char *out;
    int status = course(root, "verify --valgrind 01-counter", &out);
    if (strstr(out, "needs valgrind")) { /* a machine without valgrind: that is the answer */
        ck_assert_int_eq(status, 1);
        ck_assert_has(out, "make deps");
        free(out);
        remove_course(root);
        return;
    }
    ck_assert_msg(status == 0, "%s", out);
    ck_assert_has(out, "✔ 01-counter passes under valgrind: all 2 tests, no memory errors");
    free(out);

    put(root, "exercises/01-fake/counter.c", counter_leaks);
    ck_assert_int_eq(course(root, "verify --valgrind 01-counter", &out), 1);
    ck_assert_has(out, "under valgrind");
    ck_assert_has(out, "✘ counters start at zero\n"
                       "      found     valgrind: memory leak: 4 bytes in 1 allocation, definitely "
                       "lost\n"
                       "      allocated counter_new  exercises/01-fake/counter.c:3\n");
    ck_assert_has(out, "./course verify --valgrind 01-counter again");
    free(out);
    remove_course(root);
}
END_TEST

/* ---------------------------------------------------------------------------------
 * course read, on this repository's own book */

/* Whether the book's tools are installed; without them, read must say so. */
static bool have_book_tools(void)
{
    return system("command -v pandoc >/dev/null && command -v dot >/dev/null && "
                  "command -v gnuplot >/dev/null") == 0;
}

/*
 * A line chapter 01 shows from lib/: the first long line of the first snippet it
 * includes from lib/, outside chapter markers. Returns it trimmed (static).
 */
static const char *a_listing_line(void)
{
    static char found[256];
    FILE *f = fopen("chapters/01-blocking/01-blocking.md", "r");
    ck_assert_msg(f != NULL, "run from the repository root");
    char line[1024], path[256] = "", snippet[128] = "";
    while (!*snippet && fgets(line, sizeof line, f)) {
        const char *inc = strstr(line, "include=\"lib/");
        const char *snip = strstr(line, "snippet=\"");
        if (inc && snip) {
            sscanf(inc, "include=\"%255[^\"]\"", path);
            sscanf(snip, "snippet=\"%127[^\"]\"", snippet);
        }
    }
    fclose(f);
    ck_assert_msg(*snippet, "chapter 01 includes no snippet from lib/");

    f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    char open[160];
    snprintf(open, sizeof open, "// snippet %s", snippet);
    bool in = false;
    int depth = 0;
    while (!*found && fgets(line, sizeof line, f)) {
        char *t = line + strspn(line, " \t");
        t[strcspn(t, "\r\n")] = '\0';
        if (!in) {
            in = strcmp(t, open) == 0;
            continue;
        }
        if (strncmp(t, "//>", 3) == 0)
            depth++;
        else if (strncmp(t, "//<", 3) == 0)
            depth--;
        else if (depth == 0 && strncmp(t, "//", 2) != 0 && strlen(t) >= 16)
            snprintf(found, sizeof found, "%s", t);
    }
    fclose(f);
    ck_assert_msg(*found, "no line found in snippet %s of %s", snippet, path);
    return found;
}

static const char *repo_root(void)
{
    static char root[PATH_MAX];
    ck_assert_ptr_nonnull(getcwd(root, sizeof root));
    return root;
}

START_TEST(read_shows_a_chapter_with_its_listings_filled_in)
{
    char *out;
    int status = course_env(repo_root(), "", "read 01", false, &out);
    if (!have_book_tools()) {
        ck_assert_int_eq(status, 1);
        ck_assert_has(out, "make deps-book");
        free(out);
        return;
    }
    ck_assert_msg(status == 0, "%s", out);
    ck_assert_has(out, "1 Blocking I/O\n==============\n");
    ck_assert_has(out, a_listing_line());
    ck_assert_lacks(out, "include=");
    ck_assert_lacks(out, "{.bench");
    ck_assert_lacks(out, "](ch:");
    ck_assert_lacks(out, "book: note"); /* pandoc's notes stay out of the text */
    free(out);
}
END_TEST

START_TEST(read_without_results_marks_the_numbers)
{
    if (!have_book_tools())
        return; /* read_shows_a_chapter... checks what happens without the tools */
    char *out;
    int status = course_env(repo_root(), "AX_COURSE_RESULTS=/nonexistent/results.tsv", "read 01",
                            false, &out);
    ck_assert_msg(status == 0, "%s", out);
    ck_assert_has(out, "/nonexistent/results.tsv does not exist yet");
    ck_assert_has(out, "Run `make bench`");
    ck_assert_has(out, "[not measured]");
    ck_assert_has(out, a_listing_line());
    free(out);
}
END_TEST

START_TEST(read_says_what_to_install_without_pandoc)
{
    char *out;
    ck_assert_int_eq(course_env(repo_root(), "PATH=/nonexistent", "read 03", false, &out), 1);
    ck_assert_has(out, "pandoc");
    ck_assert_has(out, "make deps-book");
    free(out);
}
END_TEST

START_TEST(read_an_unknown_chapter_exits_2)
{
    char *out;
    ck_assert_int_eq(course_env(repo_root(), "", "read 99", false, &out), 2);
    ck_assert_has(out, "there is no chapter '99'");
    ck_assert_has(out, "  01  Blocking I/O");
    free(out);
    ck_assert_int_eq(course_env(repo_root(), "", "read 01 02", false, &out), 2);
    ck_assert_has(out, "usage: ./course");
    free(out);
    /* Without a number: the chapters there are. */
    ck_assert_int_eq(course_env(repo_root(), "", "read", true, &out), 0);
    ck_assert_has(out, "  03  The epoll reactor");
    free(out);
}
END_TEST

/* ---------------------------------------------------------------------------------
 * course watch, with standard input not a terminal */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* How many times the fake suites have run. */
static int runs(const char *root)
{
    char path[PATH_MAX], line[PATH_MAX];
    snprintf(path, sizeof path, "%s/build/runs.log", root);
    FILE *f = fopen(path, "r");
    int n = 0;
    while (f && fgets(line, sizeof line, f))
        n++;
    if (f)
        fclose(f);
    return n;
}

static bool output_has(const char *root, const char *needle)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/watch.out", root);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    return strstr(text, needle) != NULL;
}

/* Waits up to 5 s for the suites to have run at least `want` times. */
static void wait_for_runs(const char *root, int want)
{
    long long deadline = now_ms() + 5000;
    while (runs(root) < want && now_ms() < deadline)
        poll(NULL, 0, 20);
    ck_assert_int_ge(runs(root), want);
}

/* Starts `course watch [id]` on the fake course, output into root/watch.out. It is
 * ready once it has run `runs` suites and says it is watching. */
static pid_t start_watch_at(const char *root, bool polling, const char *id, int want_runs)
{
    const char *bin = course_binary();
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        char out[PATH_MAX];
        snprintf(out, sizeof out, "%s/watch.out", root);
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int null_fd = open("/dev/null", O_RDONLY);
        dup2(null_fd, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        setenv("AX_COURSE_ROOT", root, 1);
        setenv("NO_COLOR", "1", 1);
        if (polling)
            setenv("AX_COURSE_POLL", "1", 1);
        execl(bin, bin, "watch", id, (char *)NULL);
        _exit(127);
    }
    wait_for_runs(root, want_runs);
    long long deadline = now_ms() + 5000;
    while (!output_has(root, "Watching exercises/") && now_ms() < deadline)
        poll(NULL, 0, 20);
    ck_assert_msg(output_has(root, "Watching exercises/"), "watch did not start");
    return pid;
}

/* `course watch`: ready once it has checked both exercises. */
static pid_t start_watch(const char *root, bool polling)
{
    return start_watch_at(root, polling, NULL, 2);
}

/* Waits up to 5 s for the watcher to exit; returns its exit status (or kills it). */
static int wait_watch(pid_t pid)
{
    long long deadline = now_ms() + 5000;
    int status;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (now_ms() > deadline) {
            kill(pid, SIGTERM);
            waitpid(pid, &status, 0);
            return -1;
        }
        poll(NULL, 0, 20);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Saves an exercise the way editors do: write a hidden file, rename it into place. */
static void save_by_rename(const char *root, const char *rel, const char *text)
{
    char tmp[PATH_MAX], path[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s/exercises/01-fake/.save.tmp", root);
    snprintf(path, sizeof path, "%s/%s", root, rel);
    put(root, "exercises/01-fake/.save.tmp", text);
    ck_assert_int_eq(rename(tmp, path), 0);
}

/* The scenario both watch tests play: save, rename, pass, done. */
static void watch_scenario(bool polling)
{
    const char *root = fake_course();
    pid_t pid = start_watch(root, polling);
    int before = runs(root);

    /* A plain write (like `echo > file`) re-runs the current exercise. */
    put(root, "exercises/01-fake/second.c", "still TODO\n");
    wait_for_runs(root, before + 1);
    ck_assert(output_has(root, "saved: checking 01-second"));

    if (!polling) {
        /* A new folder gets watched too. */
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s/exercises/01-fake/more", root);
        before = runs(root);
        ck_assert_int_eq(mkdir(dir, 0755), 0);
        wait_for_runs(root, before + 1);
        before = runs(root);
        put(root, "exercises/01-fake/more/notes.c", "x\n");
        wait_for_runs(root, before + 1);
    }

    /* Saving by rename with the fix: it passes, and as the last one, watch ends. */
    save_by_rename(root, "exercises/01-fake/second.c", "PASS\n");
    int status = wait_watch(pid);
    ck_assert_msg(output_has(root, "01-second is done"), "no announcement");
    ck_assert_msg(output_has(root, "Every exercise passes (2 of 2)"), "no congratulations");
    ck_assert_int_eq(status, 0);
    remove_course(root);
}

START_TEST(watch_reruns_on_save_with_inotify)
{
    watch_scenario(false);
}
END_TEST

START_TEST(watch_reruns_on_save_when_polling)
{
    watch_scenario(true);
}
END_TEST

START_TEST(watch_stops_on_sigterm)
{
    const char *root = fake_course();
    pid_t pid = start_watch(root, false);
    kill(pid, SIGTERM);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
    remove_course(root);
}
END_TEST

/* The whole of root/watch.out (malloc'd). */
static char *watch_output(const char *root)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/watch.out", root);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char *text = calloc(1, 65536);
    fread(text, 1, 65535, f);
    fclose(f);
    return text;
}

START_TEST(watch_starts_at_the_exercise_named)
{
    const char *root = fake_course();
    put(root, "exercises/01-fake/first.c", "TODO\n"); /* both fail: 01-first would come first */
    pid_t pid = start_watch_at(root, false, "01-second", 1);
    char *out = watch_output(root);
    ck_assert_has(out, "Next up: 01-second");
    ck_assert_lacks(out, "Next up: 01-first");
    free(out);

    /* Solving it moves on to the one left. */
    int before = runs(root);
    save_by_rename(root, "exercises/01-fake/second.c", "PASS\n");
    wait_for_runs(root, before + 2);
    long long deadline = now_ms() + 5000;
    while (!output_has(root, "Next up: 01-first") && now_ms() < deadline)
        poll(NULL, 0, 20);
    ck_assert(output_has(root, "01-second is done"));
    ck_assert(output_has(root, "Next up: 01-first"));
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    remove_course(root);
}
END_TEST

START_TEST(watch_starts_at_a_solved_exercise_when_asked)
{
    const char *root = fake_course();
    pid_t pid = start_watch_at(root, false, "01-first", 1);
    ck_assert(output_has(root, "01-first passes already; watching it anyway"));
    ck_assert(output_has(root, "Next up: 01-first"));
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);

    char *out;
    ck_assert_int_eq(course(root, "watch nope", &out), 2);
    ck_assert_has(out, "unknown exercise 'nope'");
    free(out);
    remove_course(root);
}
END_TEST

static Suite *course_suite(void)
{
    Suite *s = suite_create("course");

    TCase *manifest = axt_tcase("manifest");
    tcase_add_test(manifest, manifest_reads_every_field_of_every_block);
    tcase_add_test(manifest, manifest_derives_the_reader_binary_and_chapter_paths);
    tcase_add_test(manifest, manifest_of_only_comments_has_no_exercises);
    tcase_add_test(manifest, manifest_missing_key_names_the_block_and_its_line);
    tcase_add_test(manifest, manifest_unknown_key_names_the_line);
    tcase_add_test(manifest, manifest_rejects_malformed_lines);
    suite_add_tcase(s, manifest);

    TCase *results = axt_tcase("results");
    tcase_add_test(results, check_output_failures_and_errors_are_read);
    tcase_add_test(results, check_output_passing_summary_is_read);
    tcase_add_test(results, check_output_without_summary_is_noticed);
    tcase_add_test(results, compiler_errors_are_not_mistaken_for_test_lines);
    tcase_add_test(results, test_names_become_words);
    tcase_add_test(results, failures_are_shown_as_expected_and_got);
    tcase_add_test(results, a_literal_side_of_a_comparison_is_not_repeated);
    tcase_add_test(results, a_compile_error_is_shown_verbatim);
    suite_add_tcase(s, results);

    TCase *tool = axt_tcase("tool");
    tcase_add_test(tool, status_shows_progress_and_the_next_exercise);
    tcase_add_test(tool, list_shows_every_exercise);
    tcase_add_test(tool, verify_reports_failures_readably_and_exits_1);
    tcase_add_test(tool, verify_passes_and_exits_0);
    tcase_add_test(tool, verify_shows_a_compile_error_verbatim);
    tcase_add_test(tool, verify_explains_a_crash);
    tcase_add_test(tool, unknown_exercise_exits_2);
    tcase_add_test(tool, hint_shows_the_hint_and_the_section);
    tcase_add_test(tool, a_broken_manifest_is_reported_with_its_line);
    tcase_add_test(tool, reset_restores_the_committed_stub);
    tcase_add_test(tool, help_is_usage_on_stdout_and_exit_0);
    tcase_add_test(tool, verify_rejects_a_bad_flag_with_usage);
    tcase_add_test(tool, the_closing_message_names_the_chapters_that_exist);
    suite_add_tcase(s, tool);

    /* Each compiles a small suite, with the sanitizers or for valgrind. */
    TCase *checkers = axt_tcase("checkers");
    tcase_set_timeout(checkers, 30);
    tcase_add_test(checkers, verify_asan_passes_a_sound_exercise);
    tcase_add_test(checkers, verify_asan_fails_a_stub);
    tcase_add_test(checkers, verify_asan_finds_a_leak_the_plain_tests_miss);
    tcase_add_test(checkers, verify_asan_finds_a_use_after_free);
    tcase_add_test(checkers, verify_valgrind_finds_a_leak);
    suite_add_tcase(s, checkers);

    /* Each renders the whole book with pandoc, as `make book` does. */
    TCase *read = axt_tcase("read");
    tcase_set_timeout(read, 30);
    tcase_add_test(read, read_shows_a_chapter_with_its_listings_filled_in);
    tcase_add_test(read, read_without_results_marks_the_numbers);
    tcase_add_test(read, read_says_what_to_install_without_pandoc);
    tcase_add_test(read, read_an_unknown_chapter_exits_2);
    suite_add_tcase(s, read);

    TCase *watch = axt_tcase("watch");
    tcase_add_test(watch, watch_reruns_on_save_with_inotify);
    tcase_add_test(watch, watch_reruns_on_save_when_polling);
    tcase_add_test(watch, watch_stops_on_sigterm);
    tcase_add_test(watch, watch_starts_at_the_exercise_named);
    tcase_add_test(watch, watch_starts_at_a_solved_exercise_when_asked);
    suite_add_tcase(s, watch);

    return s;
}

AXT_MAIN(course_suite)
