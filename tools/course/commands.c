/*
 * commands: the course tool's subcommands (see commands.h), all but watch.
 *
 * Every command that needs to know what is done runs the tests to find out; they
 * are quick, and a stored "done" flag would go stale the moment a reader edits a
 * file that already passed.
 */
#include "commands.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chapters.h"
#include "proc.h"
#include "style.h"

const struct course_exercise *course_lookup(const struct course_manifest *m, const char *id)
{
    const struct course_exercise *ex = course_manifest_find(m, id);
    if (!ex)
        fprintf(stderr, "unknown exercise '%s'; `./course list` shows them\n", id);
    return ex;
}

/* Builds and runs exercise i, with a "checking..." line on a terminal meanwhile. */
static int check(const struct course_manifest *m, size_t i, struct course_result *r)
{
    course_transient("checking %s (%zu/%zu)...", m->ex[i].id, i + 1, m->n);
    char err[256];
    int rc = course_verify(&m->ex[i], r, err, sizeof err);
    course_transient_clear();
    if (rc < 0)
        fprintf(stderr, "course: %s\n", err);
    return rc;
}

/* Checks every exercise; passed[i] says whether exercise i passes. */
static int check_all(const struct course_manifest *m, bool *passed, size_t *done)
{
    *done = 0;
    for (size_t i = 0; i < m->n; i++) {
        struct course_result r;
        int rc = check(m, i, &r);
        if (rc < 0)
            return rc;
        passed[i] = r.verdict == COURSE_PASSED;
        *done += passed[i];
        course_result_free(&r);
    }
    return 0;
}

int course_find_unsolved(const struct course_manifest *m, size_t from, size_t skip, size_t *found,
                         struct course_result *r)
{
    for (size_t step = 0; step < m->n; step++) {
        size_t i = (from + step) % m->n;
        if (i == skip)
            continue;
        int rc = check(m, i, r);
        if (rc < 0)
            return rc;
        if (r->verdict != COURSE_PASSED) {
            *found = i;
            return 1;
        }
        course_result_free(r);
    }
    return 0;
}

void course_print_next(FILE *out, const struct course_exercise *ex)
{
    const char *bold = course_colour(COURSE_BOLD), *dim = course_colour(COURSE_DIM);
    const char *cyan = course_colour(COURSE_CYAN), *reset = course_colour(COURSE_RESET);

    fprintf(out, "Next up: %s%s%s  %s  %s(chapter %s)%s\n", bold, ex->id, reset,
            course_stars(ex->difficulty), dim, ex->chapter, reset);
    for (size_t i = 0; i < ex->nedit; i++)
        fprintf(out, "  %sedit%s    %s%s%s\n", dim, reset, cyan, ex->edit[i], reset);
    fprintf(out, "  %sread%s    %s#%s\n", dim, reset, ex->doc, ex->section);
    fprintf(out, "  %scheck%s   ./course verify %s   %s(or ./course watch: re-checks on save)%s\n",
            dim, reset, ex->id, dim, reset);
    fprintf(out, "  %sstuck?%s  ./course hint %s\n", dim, reset, ex->id);
}

/* Prints text word-wrapped at `width` columns, each line indented by two spaces. */
static void print_wrapped(FILE *out, const char *text, int width)
{
    int col = 0;
    while (*text) {
        text += strspn(text, " ");
        int word = (int)strcspn(text, " ");
        if (word == 0)
            break;
        if (col > 0 && col + 1 + word > width) {
            fputc('\n', out);
            col = 0;
        }
        fputs(col == 0 ? "  " : " ", out);
        fwrite(text, 1, (size_t)word, out);
        col += (col == 0 ? 2 : 1) + word;
        text += word;
    }
    fputc('\n', out);
}

void course_print_hint(FILE *out, const struct course_exercise *ex)
{
    fprintf(out, "%sHint for %s%s %s\n", course_colour(COURSE_YELLOW), ex->id,
            course_colour(COURSE_RESET), course_stars(ex->difficulty));
    print_wrapped(out, ex->hint, 80);
    fprintf(out, "%sRead%s %s#%s\n", course_colour(COURSE_DIM), course_colour(COURSE_RESET),
            ex->doc, ex->section);
}

/* "Chapter 05 is", "Chapters 05 to 11 are", "Chapters 05, 07 and 09 are". */
static void print_planned(FILE *out, char *const *planned, size_t n)
{
    bool run = true;
    for (size_t i = 1; i < n; i++)
        run = run && atoi(planned[i]) == atoi(planned[0]) + (int)i;
    if (n == 1)
        fprintf(out, "Chapter %s is", planned[0]);
    else if (run)
        fprintf(out, "Chapters %s to %s are", planned[0], planned[n - 1]);
    else {
        fprintf(out, "Chapters ");
        for (size_t i = 0; i < n; i++)
            fprintf(out, "%s%s", i == 0 ? "" : i + 1 == n ? " and " : ", ", planned[i]);
        fprintf(out, " are");
    }
}

void course_print_congratulations(FILE *out, const struct course_manifest *m)
{
    fprintf(out, "%s★ Every exercise passes (%zu of %zu).%s\n", course_colour(COURSE_GREEN), m->n,
            m->n, course_colour(COURSE_RESET));

    /* Name what the reader has been through: the chapters that exist, not the course
     * as it is planned. */
    struct course_chapters c;
    if (course_chapters_load("chapters", "book.md", &c) < 0)
        return;
    if (c.n > 0) {
        fprintf(out, "You have worked through every chapter written so far:\n");
        for (size_t i = 0; i < c.n; i++)
            fprintf(out, "  %-2s  %s\n", c.ch[i].key, c.ch[i].title);
    } else {
        fprintf(out, "You have done the exercises of ");
        for (size_t i = 0; i < m->n; i++) {
            bool first = true;
            for (size_t k = 0; k < i && first; k++)
                first = strcmp(m->ex[k].chapter, m->ex[i].chapter) != 0;
            if (first)
                fprintf(out, "%s%s", i == 0 ? "" : ", ", m->ex[i].chapter);
        }
        fprintf(out, ".\n");
    }
    if (c.nplanned > 0) {
        print_planned(out, c.planned, c.nplanned);
        fprintf(out, " not written yet; when they are, `git pull` brings them\n"
                     "and their exercises.\n");
    }
    course_chapters_free(&c);
}

int course_cmd_status(const struct course_manifest *m)
{
    if (m->n == 0) {
        printf("exercises/manifest lists no exercises yet.\n");
        return COURSE_EXIT_OK;
    }
    bool *passed = calloc(m->n, sizeof *passed);
    size_t done;
    if (!passed || check_all(m, passed, &done) < 0) {
        free(passed);
        return COURSE_EXIT_FAIL;
    }

    printf("%saxle course%s  ", course_colour(COURSE_BOLD), course_colour(COURSE_RESET));
    course_print_bar(stdout, done, m->n);
    printf("\n\n");

    size_t next = 0;
    while (next < m->n && passed[next])
        next++;
    if (next == m->n)
        course_print_congratulations(stdout, m);
    else
        course_print_next(stdout, &m->ex[next]);
    free(passed);
    return COURSE_EXIT_OK;
}

int course_cmd_list(const struct course_manifest *m)
{
    bool *passed = calloc(m->n ? m->n : 1, sizeof *passed);
    size_t done;
    if (!passed || check_all(m, passed, &done) < 0) {
        free(passed);
        return COURSE_EXIT_FAIL;
    }

    /* Column widths from the longest id and chapter. */
    int id_w = (int)strlen("exercise"), ch_w = (int)strlen("chapter");
    for (size_t i = 0; i < m->n; i++) {
        if ((int)strlen(m->ex[i].id) > id_w)
            id_w = (int)strlen(m->ex[i].id);
        if ((int)strlen(m->ex[i].chapter) > ch_w)
            ch_w = (int)strlen(m->ex[i].chapter);
    }

    const char *dim = course_colour(COURSE_DIM), *reset = course_colour(COURSE_RESET);
    printf("%s        %-*s  %-*s  difficulty%s\n", dim, id_w, "exercise", ch_w, "chapter", reset);
    for (size_t i = 0; i < m->n; i++) {
        const struct course_exercise *ex = &m->ex[i];
        printf("%s%s %s%s  %-*s  %-*s  %s\n", course_colour(passed[i] ? COURSE_GREEN : COURSE_RED),
               passed[i] ? "✔" : "✘", passed[i] ? "done" : "todo", reset, id_w, ex->id, ch_w,
               ex->chapter, course_stars(ex->difficulty));
    }
    printf("\n");
    course_print_bar(stdout, done, m->n);
    printf("\n");
    free(passed);
    return COURSE_EXIT_OK;
}

int course_cmd_verify(const struct course_manifest *m, const char *id, enum course_checker checker)
{
    struct course_result r;
    size_t i;
    if (id) {
        const struct course_exercise *ex = course_lookup(m, id);
        if (!ex)
            return COURSE_EXIT_USAGE;
        i = (size_t)(ex - m->ex);
        if (checker == COURSE_CHECK_PLAIN && check(m, i, &r) < 0)
            return COURSE_EXIT_FAIL;
    } else {
        int found = course_find_unsolved(m, 0, m->n, &i, &r);
        if (found < 0)
            return COURSE_EXIT_FAIL;
        if (found == 0) {
            course_print_congratulations(stdout, m);
            return COURSE_EXIT_OK;
        }
        if (checker != COURSE_CHECK_PLAIN)
            course_result_free(&r);
    }

    const struct course_exercise *ex = &m->ex[i];
    if (checker != COURSE_CHECK_PLAIN) {
        if (checker == COURSE_CHECK_ASAN)
            course_transient("building %s with AddressSanitizer and UBSan in build/asan (the first "
                             "time builds the library too)...",
                             ex->id);
        else
            course_transient("running %s's tests under valgrind (slow: a minute or more)...",
                             ex->id);
        char err[256];
        int rc = course_verify_with(ex, checker, &r, err, sizeof err);
        course_transient_clear();
        if (rc < 0) {
            fprintf(stderr, "course: %s\n", err);
            return COURSE_EXIT_FAIL;
        }
    }

    course_print_result(stdout, ex, &r);
    bool ok = r.verdict == COURSE_PASSED;
    const char *dim = course_colour(COURSE_DIM), *reset = course_colour(COURSE_RESET);
    const char *flag = course_checker_flag(checker);
    if (ok)
        printf("\n%s./course shows what is next.%s\n", dim, reset);
    else
        printf("\n%sEdit %s and run ./course verify %s%s%s again. Stuck? ./course hint %s%s\n", dim,
               ex->edit[0], flag, *flag ? " " : "", ex->id, ex->id, reset);
    course_result_free(&r);
    return ok ? COURSE_EXIT_OK : COURSE_EXIT_FAIL;
}

int course_cmd_hint(const struct course_manifest *m, const char *id)
{
    const struct course_exercise *ex;
    if (id) {
        if (!(ex = course_lookup(m, id)))
            return COURSE_EXIT_USAGE;
    } else {
        struct course_result r;
        size_t i;
        int found = course_find_unsolved(m, 0, m->n, &i, &r);
        if (found < 0)
            return COURSE_EXIT_FAIL;
        if (found == 0) {
            course_print_congratulations(stdout, m);
            return COURSE_EXIT_OK;
        }
        course_result_free(&r);
        ex = &m->ex[i];
    }
    course_print_hint(stdout, ex);
    return COURSE_EXIT_OK;
}

/* ---------------------------------------------------------------------------------
 * reset: fetch the committed stub with git and put it back */

/* Runs git with argv, capturing stdout only; returns its exit status or -1. */
static int git(char *const argv[], struct course_capture *cap)
{
    if (course_capture_run(argv, NULL, 0, COURSE_CAPTURE_STDOUT_ONLY, cap) < 0)
        return -1;
    return WIFEXITED(cap->status) ? WEXITSTATUS(cap->status) : -1;
}

static bool git_succeeds(char *const argv[])
{
    struct course_capture cap;
    int status = git(argv, &cap);
    course_capture_free(&cap);
    return status == 0;
}

/* Asks "[y/N]" on the terminal; false unless the answer starts with y. */
static bool confirm(const char *question)
{
    FILE *tty = isatty(STDIN_FILENO) ? stdin : fopen("/dev/tty", "r");
    if (!tty) {
        fprintf(stderr,
                "course: reset needs a yes on the terminal; add --yes to skip the question\n");
        return false;
    }
    printf("%s [y/N] ", question);
    fflush(stdout);
    char answer[16] = "";
    bool yes = fgets(answer, sizeof answer, tty) && (answer[0] == 'y' || answer[0] == 'Y');
    if (tty != stdin)
        fclose(tty);
    return yes;
}

/* Replaces path's contents with data, atomically: write a temporary file, rename. */
static int write_file(const char *path, const char *data, size_t len)
{
    char *tmp = NULL;
    if (asprintf(&tmp, "%s.reset-XXXXXX", path) < 0)
        return -ENOMEM;
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int err = errno;
        free(tmp);
        return -err;
    }
    struct stat st;
    fchmod(fd, stat(path, &st) == 0 ? st.st_mode & 07777 : 0644);

    int rc = 0;
    for (size_t off = 0; off < len && rc == 0;) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno != EINTR)
            rc = -errno;
        else if (n > 0)
            off += (size_t)n;
    }
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -errno;
    if (rc < 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

/* The file as committed at rev, into cap. "./" makes the path relative to here. */
static bool git_show(const char *rev, const char *path, struct course_capture *cap)
{
    char *spec = NULL;
    if (asprintf(&spec, "%s:./%s", rev, path) < 0)
        return false;
    char *argv[] = {"git", "show", spec, NULL};
    bool ok = git(argv, cap) == 0;
    free(spec);
    if (!ok)
        course_capture_free(cap);
    return ok;
}

int course_cmd_reset(const struct course_manifest *m, const char *id, bool yes)
{
    const struct course_exercise *ex = course_lookup(m, id);
    if (!ex)
        return COURSE_EXIT_USAGE;

    char *inside[] = {"git", "rev-parse", "--is-inside-work-tree", NULL};
    if (!git_succeeds(inside)) {
        fprintf(stderr,
                "course: reset needs a git checkout of the course, and this is not one (or git "
                "is missing), so there is no original to restore\n");
        return COURSE_EXIT_FAIL;
    }
    /* The stub as it stands upstream; without an upstream branch, the last commit. */
    char *upstream[] = {"git", "rev-parse", "--verify", "-q", "@{upstream}", NULL};
    const char *rev = git_succeeds(upstream) ? "@{upstream}" : "HEAD";

    /* Fetch every original first, so a failure changes nothing. */
    struct course_capture *orig = calloc(ex->nedit, sizeof *orig);
    if (!orig)
        return COURSE_EXIT_FAIL;
    int status = COURSE_EXIT_OK;
    for (size_t i = 0; i < ex->nedit && status == COURSE_EXIT_OK; i++) {
        if (!git_show(rev, ex->edit[i], &orig[i]) &&
            (strcmp(rev, "HEAD") == 0 || !git_show("HEAD", ex->edit[i], &orig[i]))) {
            fprintf(stderr, "course: %s is not in git's %s, so there is no original to restore\n",
                    ex->edit[i], rev);
            status = COURSE_EXIT_FAIL;
        }
    }

    if (status == COURSE_EXIT_OK && !yes) {
        printf("This puts back the original stub of %s:\n", ex->id);
        for (size_t i = 0; i < ex->nedit; i++)
            printf("  %s\n", ex->edit[i]);
        if (!confirm("Your changes to these files will be lost. Go ahead?")) {
            printf("Nothing was changed.\n");
            status = COURSE_EXIT_FAIL;
        }
    }

    for (size_t i = 0; i < ex->nedit && status == COURSE_EXIT_OK; i++) {
        int rc = write_file(ex->edit[i], orig[i].text, orig[i].len);
        if (rc < 0) {
            fprintf(stderr, "course: cannot write %s: %s\n", ex->edit[i], strerror(-rc));
            status = COURSE_EXIT_FAIL;
        } else {
            printf("%s✔%s restored %s\n", course_colour(COURSE_GREEN), course_colour(COURSE_RESET),
                   ex->edit[i]);
        }
    }

    for (size_t i = 0; i < ex->nedit; i++)
        course_capture_free(&orig[i]);
    free(orig);
    return status;
}
