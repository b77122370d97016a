/*
 * course: the command-line tool that walks a reader through the exercises, like
 * rustlings does for Rust. This file only reads the command line and hands over to
 * the subcommand; ./course (a shell script at the repository root) builds this
 * program and runs it.
 *
 *     course               progress and the next exercise
 *     course list          every exercise, done or not
 *     course verify [ID]   build and test one exercise (default: the next one)
 *     course hint [ID]     a hint, and the section to read
 *     course reset ID      put the original stub back (asks first; --yes does not)
 *     course watch         re-check the current exercise on every save
 *
 * Paths are relative to the repository root: the current directory, or
 * $AX_COURSE_ROOT when set (the tests point it at a small fake course).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "manifest.h"
#include "proc.h"
#include "style.h"
#include "watch.h"

static const char manifest_path[] = "exercises/manifest";

static void usage(FILE *out)
{
    fputs("usage: ./course [command]\n"
          "\n"
          "  (no command)   your progress and the next exercise to solve\n"
          "  list           every exercise: done or not, chapter, difficulty\n"
          "  verify [ID]    build and test an exercise (default: the next unsolved one)\n"
          "  watch          re-check the current exercise every time you save a file\n"
          "                 (keys: n next exercise, h hint, l list, q quit)\n"
          "  hint [ID]      a hint for an exercise, and the section to read\n"
          "  reset ID       put an exercise's original stub back (--yes: don't ask)\n"
          "  help           this text\n",
          out);
}

/* Runs a subcommand that takes at most one exercise id. */
static int one_id_command(int argc, char **argv, const struct course_manifest *m,
                          int (*cmd)(const struct course_manifest *, const char *))
{
    if (argc > 3) {
        usage(stderr);
        return COURSE_EXIT_USAGE;
    }
    return cmd(m, argc == 3 ? argv[2] : NULL);
}

static int reset_command(int argc, char **argv, const struct course_manifest *m)
{
    const char *id = NULL;
    bool yes = false;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--yes") == 0 || strcmp(argv[i], "-y") == 0) {
            yes = true;
        } else if (!id && argv[i][0] != '-') {
            id = argv[i];
        } else {
            usage(stderr);
            return COURSE_EXIT_USAGE;
        }
    }
    if (!id) {
        fprintf(stderr, "usage: ./course reset ID [--yes]   (./course list shows the ids)\n");
        return COURSE_EXIT_USAGE;
    }
    return course_cmd_reset(m, id, yes);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* lines appear promptly even in a pipe */
    course_style_init();

    const char *cmd = argc > 1 ? argv[1] : "status";
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return COURSE_EXIT_OK;
    }

    const char *root = getenv("AX_COURSE_ROOT");
    if (root && *root && chdir(root) < 0) {
        fprintf(stderr, "course: AX_COURSE_ROOT=%s: %s\n", root, strerror(errno));
        return COURSE_EXIT_USAGE;
    }

    struct course_manifest m;
    char err[512];
    if (course_manifest_load(manifest_path, &m, err, sizeof err) < 0) {
        fprintf(stderr, "course: %s\n", err);
        if (access(manifest_path, F_OK) < 0)
            fprintf(stderr, "course: run ./course from the root of the course repository\n");
        return COURSE_EXIT_USAGE;
    }

    /* Ctrl-C stops the test being run along with us. */
    course_proc_handle_signals(NULL);

    int status;
    if (strcmp(cmd, "status") == 0 && argc <= 2)
        status = course_cmd_status(&m);
    else if (strcmp(cmd, "list") == 0 && argc == 2)
        status = course_cmd_list(&m);
    else if (strcmp(cmd, "verify") == 0)
        status = one_id_command(argc, argv, &m, course_cmd_verify);
    else if (strcmp(cmd, "hint") == 0)
        status = one_id_command(argc, argv, &m, course_cmd_hint);
    else if (strcmp(cmd, "reset") == 0)
        status = reset_command(argc, argv, &m);
    else if (strcmp(cmd, "watch") == 0 && argc == 2)
        status = course_cmd_watch(&m);
    else {
        if (strcmp(cmd, "status") != 0 && strcmp(cmd, "list") != 0 && strcmp(cmd, "watch") != 0)
            fprintf(stderr, "course: unknown command '%s'\n\n", cmd);
        usage(stderr);
        status = COURSE_EXIT_USAGE;
    }

    course_manifest_free(&m);
    return status;
}
