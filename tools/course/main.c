/*
 * course: the command-line tool that walks a reader through the exercises, like
 * rustlings does for Rust. This file only reads the command line and hands over to
 * the subcommand; ./course (a shell script at the repository root) builds this
 * program and runs it.
 *
 *     course               progress and the next exercise
 *     course list          every exercise, done or not
 *     course verify [ID]   build and test one exercise (default: the next one);
 *                          --asan or --valgrind: under a memory checker
 *     course hint [ID]     a hint, and the section to read
 *     course reset ID      put the original stub back (asks first; --yes does not)
 *     course watch [ID]    re-check the current exercise (or ID) on every save
 *     course read NN       chapter NN of the book as text, in a pager
 *
 * `--help` anywhere prints the usage on standard output and exits 0; a command line
 * the tool does not understand prints it on standard error and exits 2.
 *
 * Paths are relative to the repository root: the current directory, or
 * $AX_COURSE_ROOT when set (the tests point it at a small fake course).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "manifest.h"
#include "proc.h"
#include "read.h"
#include "results.h"
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
          "    --asan       ... built with AddressSanitizer and UBSan (in build/asan)\n"
          "    --valgrind   ... run under valgrind, leaks included\n"
          "  watch [ID]     re-check an exercise every time you save a file (default: the\n"
          "                 next unsolved one; keys: n next exercise, h hint, l list, q quit)\n"
          "  hint [ID]      a hint for an exercise, and the section to read\n"
          "  reset ID       put an exercise's original stub back (--yes: don't ask)\n"
          "  read [NN]      read chapter NN of the book in the terminal, listings and\n"
          "                 numbers filled in (no NN: the list of chapters)\n"
          "  help           this text (so does --help)\n",
          out);
}

static int bad_command_line(const char *problem, const char *what)
{
    if (problem)
        fprintf(stderr, "course: %s '%s'\n\n", problem, what);
    usage(stderr);
    return COURSE_EXIT_USAGE;
}

/* Runs a subcommand that takes at most one exercise id. */
static int one_id_command(int argc, char **argv, const struct course_manifest *m,
                          int (*cmd)(const struct course_manifest *, const char *))
{
    if (argc > 3)
        return bad_command_line("too many arguments after", argv[1]);
    if (argc == 3 && argv[2][0] == '-')
        return bad_command_line("unknown option", argv[2]);
    return cmd(m, argc == 3 ? argv[2] : NULL);
}

/* verify [--asan | --valgrind] [ID] */
static int verify_command(int argc, char **argv, const struct course_manifest *m)
{
    const char *id = NULL;
    enum course_checker checker = COURSE_CHECK_PLAIN;
    for (int i = 2; i < argc; i++) {
        enum course_checker flag = COURSE_CHECK_PLAIN;
        if (strcmp(argv[i], "--asan") == 0)
            flag = COURSE_CHECK_ASAN;
        else if (strcmp(argv[i], "--valgrind") == 0)
            flag = COURSE_CHECK_VALGRIND;
        else if (argv[i][0] == '-')
            return bad_command_line("verify has no option", argv[i]);
        else if (id)
            return bad_command_line("verify takes one exercise, and got another:", argv[i]);
        else
            id = argv[i];
        if (flag != COURSE_CHECK_PLAIN) {
            if (checker != COURSE_CHECK_PLAIN)
                return bad_command_line("verify runs one checker at a time, and got", argv[i]);
            checker = flag;
        }
    }
    return course_cmd_verify(m, id, checker);
}

static int watch_command(int argc, char **argv, const struct course_manifest *m)
{
    return one_id_command(argc, argv, m, course_cmd_watch);
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

static bool asks_for_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return argc > 1 && strcmp(argv[1], "help") == 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* lines appear promptly even in a pipe */
    course_style_init();

    if (asks_for_help(argc, argv)) {
        usage(stdout);
        return COURSE_EXIT_OK;
    }
    const char *cmd = argc > 1 ? argv[1] : "status";

    const char *root = getenv("AX_COURSE_ROOT");
    if (root && *root && chdir(root) < 0) {
        fprintf(stderr, "course: AX_COURSE_ROOT=%s: %s\n", root, strerror(errno));
        return COURSE_EXIT_USAGE;
    }

    /* Reading needs the book, not the exercises. */
    if (strcmp(cmd, "read") == 0) {
        if (argc > 3)
            return bad_command_line("read takes one chapter, and got another:", argv[3]);
        if (argc == 3 && argv[2][0] == '-')
            return bad_command_line("read has no option", argv[2]);
        return course_cmd_read(argc == 3 ? argv[2] : NULL);
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
        status = verify_command(argc, argv, &m);
    else if (strcmp(cmd, "hint") == 0)
        status = one_id_command(argc, argv, &m, course_cmd_hint);
    else if (strcmp(cmd, "reset") == 0)
        status = reset_command(argc, argv, &m);
    else if (strcmp(cmd, "watch") == 0)
        status = watch_command(argc, argv, &m);
    else if (strcmp(cmd, "status") == 0 || strcmp(cmd, "list") == 0)
        status = bad_command_line("too many arguments after", cmd);
    else
        status = bad_command_line("unknown command", cmd);

    course_manifest_free(&m);
    return status;
}
