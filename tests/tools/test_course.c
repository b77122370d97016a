/*
 * Tests for the course tool (tools/course): the manifest parser, the reading of
 * Check's output, the derived paths, and the built program itself run against a
 * small fake course in a temporary folder.
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

/* Runs `course ARGS` in root; returns its exit status, and its output in *out. */
static int course(const char *root, const char *args, char **out)
{
    char cmd[2 * PATH_MAX];
    snprintf(cmd, sizeof cmd, "cd '%s' && AX_COURSE_ROOT='%s' NO_COLOR=1 '%s' %s 2>&1 </dev/null",
             root, root, course_binary(), args);
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

/* Asserts that text contains needle, showing the whole text when not. */
#define ck_assert_has(text, needle)                                                                \
    ck_assert_msg(strstr((text), (needle)) != NULL, "expected \"%s\" in:\n%s", (needle), (text))

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

/* Starts `course watch` on the fake course, output into root/watch.out. */
static pid_t start_watch(const char *root, bool polling)
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
        execl(bin, bin, "watch", (char *)NULL);
        _exit(127);
    }
    /* Ready once it has checked both exercises and says it is watching. */
    wait_for_runs(root, 2);
    long long deadline = now_ms() + 5000;
    while (!output_has(root, "Watching exercises/") && now_ms() < deadline)
        poll(NULL, 0, 20);
    ck_assert_msg(output_has(root, "Watching exercises/"), "watch did not start");
    return pid;
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
    suite_add_tcase(s, tool);

    TCase *watch = axt_tcase("watch");
    tcase_add_test(watch, watch_reruns_on_save_with_inotify);
    tcase_add_test(watch, watch_reruns_on_save_when_polling);
    tcase_add_test(watch, watch_stops_on_sigterm);
    suite_add_tcase(s, watch);

    return s;
}

AXT_MAIN(course_suite)
