/*
 * tools/snapshot: the chapter markers cut the tree back to any chapter.
 *
 * Each test builds a small fixture tree in a temporary folder (with a copy of the
 * snapshot script in its tools/), snapshots it at one chapter and reads the result.
 */
#include "axtest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char root[64];

static void put(const char *path, const char *text)
{
    char full[512], dir[600];
    snprintf(full, sizeof full, "%s/%s", root, path);
    snprintf(dir, sizeof dir, "mkdir -p \"$(dirname '%s')\"", full);
    ck_assert_int_eq(system(dir), 0);
    FILE *f = fopen(full, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* The file's whole content, or NULL when it does not exist. Caller frees. */
static char *get(const char *path)
{
    char full[512];
    snprintf(full, sizeof full, "%s/%s", root, path);
    FILE *f = fopen(full, "r");
    if (f == NULL)
        return NULL;
    static char text[4096];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    return strdup(text);
}

static void expect_file(const char *path, const char *want)
{
    char *got = get(path);
    ck_assert_msg(got != NULL, "%s is missing from the snapshot", path);
    ck_assert_str_eq(got, want);
    free(got);
}

static void expect_absent(const char *path)
{
    char *got = get(path);
    ck_assert_msg(got == NULL, "%s should not be in the snapshot", path);
}

/* Runs the fixture's snapshot script; returns its exit status, output in *out. */
static int snapshot(const char *chapter, char *out, size_t out_len)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cd %s && tools/snapshot %s snap/%s 2>&1", root, chapter, chapter);
    FILE *p = popen(cmd, "r");
    size_t n = fread(out, 1, out_len - 1, p);
    out[n] = '\0';
    return WEXITSTATUS(pclose(p));
}

static void make_fixture(void)
{
    strcpy(root, "/tmp/test_snapshot.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
    char cmd[256];
    snprintf(cmd, sizeof cmd, "mkdir -p %s/tools && cp tools/snapshot %s/tools/", root, root);
    ck_assert_int_eq(system(cmd), 0);
    put("lib/core.c", "//@ 01\n"
                      "int from_one;\n"
                      "//> 02\n"
                      "int added_by_two;\n"
                      "//< 02\n"
                      "//> 01..03\n"
                      "//| int replaced_in_three;\n"
                      "//< 01\n"
                      "//> 03\n"
                      "int added_by_three;\n"
                      "//< 03\n"
                      "// snippet shown-in-book\n"
                      "int in_a_snippet;\n"
                      "// end snippet\n");
    put("lib/later.c", "//@ 03\nint later;\n");
    put("tests/01-one/test_a.c", "int t1;\n");
    put("tests/02-two/test_b.c", "int t2;\n");
    put("tests/03-three/test_c.c", "int t3;\n");
    put("exercises/manifest", "# header comment\n\n"
                              "[01-a]\nchapter = 01-one\n\n"
                              "[02-b]\nchapter = 02-two\n\n"
                              "[03-c]\nchapter = 03-three\n");
    put("README.md", "not a chapter file\n");
}

static void remove_fixture(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(snapshot_keeps_lines_of_earlier_chapters_and_drops_later_ones)
{
    make_fixture();
    char out[1024];
    ck_assert_msg(snapshot("02-two", out, sizeof out) == 0, "snapshot failed: %s", out);
    expect_file("snap/02-two/lib/core.c", "int from_one;\n"
                                          "int added_by_two;\n"
                                          "int replaced_in_three;\n"
                                          "int in_a_snippet;\n");
    expect_absent("snap/02-two/lib/later.c");
    expect_file("snap/02-two/tests/02-two/test_b.c", "int t2;\n");
    expect_absent("snap/02-two/tests/03-three/test_c.c");
    expect_file("snap/02-two/README.md", "not a chapter file\n");
    remove_fixture();
}
END_TEST

START_TEST(snapshot_applies_replacements_from_their_chapter_on)
{
    make_fixture();
    char out[1024];
    ck_assert_msg(snapshot("03-three", out, sizeof out) == 0, "snapshot failed: %s", out);
    expect_file("snap/03-three/lib/core.c", "int from_one;\n"
                                            "int added_by_two;\n"
                                            "int added_by_three;\n"
                                            "int in_a_snippet;\n");
    expect_file("snap/03-three/lib/later.c", "int later;\n");
    remove_fixture();
}
END_TEST

START_TEST(snapshot_keeps_only_earlier_exercises_in_the_manifest)
{
    make_fixture();
    char out[1024];
    ck_assert_msg(snapshot("02-two", out, sizeof out) == 0, "snapshot failed: %s", out);
    expect_file("snap/02-two/exercises/manifest", "# header comment\n\n"
                                                  "[01-a]\nchapter = 01-one\n\n"
                                                  "[02-b]\nchapter = 02-two\n\n");
    remove_fixture();
}
END_TEST

START_TEST(snapshot_refuses_a_library_file_without_a_chapter)
{
    make_fixture();
    put("lib/orphan.c", "int orphan;\n");
    char out[1024];
    ck_assert_int_ne(snapshot("01-one", out, sizeof out), 0);
    ck_assert_msg(strstr(out, "lib/orphan.c") != NULL, "the error does not name the file: %s", out);
    remove_fixture();
}
END_TEST

START_TEST(snapshot_refuses_a_marker_that_is_never_closed)
{
    make_fixture();
    put("lib/open.c", "//@ 01\n//> 02\nint never_closed;\n");
    char out[1024];
    ck_assert_int_ne(snapshot("01-one", out, sizeof out), 0);
    ck_assert_msg(strstr(out, "lib/open.c") != NULL && strstr(out, "never closed") != NULL,
                  "unexpected message: %s", out);
    remove_fixture();
}
END_TEST

START_TEST(snapshot_refuses_live_code_in_a_retired_region)
{
    make_fixture();
    put("lib/live.c", "//@ 01\n//> 01..02\nint still_compiled;\n//< 01\n");
    char out[1024];
    ck_assert_int_ne(snapshot("01-one", out, sizeof out), 0);
    ck_assert_msg(strstr(out, "lib/live.c") != NULL && strstr(out, "//|") != NULL,
                  "unexpected message: %s", out);
    remove_fixture();
}
END_TEST

static Suite *snapshot_suite(void)
{
    Suite *s = suite_create("snapshot");
    TCase *tc = axt_tcase("snapshot");
    tcase_add_test(tc, snapshot_keeps_lines_of_earlier_chapters_and_drops_later_ones);
    tcase_add_test(tc, snapshot_applies_replacements_from_their_chapter_on);
    tcase_add_test(tc, snapshot_keeps_only_earlier_exercises_in_the_manifest);
    tcase_add_test(tc, snapshot_refuses_a_library_file_without_a_chapter);
    tcase_add_test(tc, snapshot_refuses_a_marker_that_is_never_closed);
    tcase_add_test(tc, snapshot_refuses_live_code_in_a_retired_region);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(snapshot_suite)
