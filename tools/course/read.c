/*
 * read: renders one chapter as text with the book's filters and pages it (see
 * read.h).
 *
 * pandoc writes the text to a temporary file and its messages (the book's notes,
 * and on failure the reason) into the captured output, so the notes never mix with
 * the chapter and a failure can be shown on its own. The metadata passed is that of
 * tools/book/rules.mk (figure cache, results file, draft mode): keep them in step.
 */
#include "read.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chapters.h"
#include "commands.h"
#include "proc.h"
#include "results.h"
#include "style.h"

static const char chapters_dir[] = "chapters";
static const char book_md[] = "book.md";
static const char chapter_filter[] = "tools/book/chapter.lua";
static const char default_results[] = "build/bench/results.tsv";
static const char figure_cache[] = "build/book/cache";
static const char chapter_pages[] = "build/book/chapters";

static void list_chapters(FILE *out, const struct course_chapters *c)
{
    for (size_t i = 0; i < c->n; i++)
        fprintf(out, "  %-2s  %s\n", c->ch[i].key, c->ch[i].title);
}

/* The tools the book's filters run. Fills `missing` ("pandoc, dot") and returns
 * whether anything is. */
static bool missing_tools(char *missing, size_t len)
{
    static const char *const tools[] = {"pandoc", "dot", "gnuplot"};
    missing[0] = '\0';
    for (size_t i = 0; i < sizeof tools / sizeof tools[0]; i++) {
        if (course_have_program(tools[i]))
            continue;
        size_t used = strlen(missing);
        snprintf(missing + used, len - used, "%s%s", used ? ", " : "", tools[i]);
    }
    return missing[0] != '\0';
}

/* Text width: the terminal's, up to 100 columns; 80 in a pipe. */
static int columns(void)
{
    struct winsize ws;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
        return ws.ws_col > 100 ? 100 : ws.ws_col - 1;
    return 80;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *text = NULL;
    FILE *mem = open_memstream(&text, len);
    char chunk[8192];
    size_t got;
    while (mem && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, got, mem);
    bool bad = ferror(f);
    fclose(f);
    if (!mem || fclose(mem) != 0 || bad) {
        free(text);
        return NULL;
    }
    return text;
}

/* Shows pandoc's complaint: the book's own messages ("book: ...") when there are any. */
static void show_failure(const char *key, const struct course_capture *cap)
{
    char how[128];
    course_describe_status(cap->status, how, sizeof how);
    fprintf(stderr, "course: the book's filters could not render chapter %s (pandoc: %s):\n", key,
            how);
    const char *text = cap->text ? cap->text : "";
    bool any = false;
    for (const char *line = text; *line;) {
        size_t len = strcspn(line, "\n");
        if (strncmp(line, "book: ", 6) == 0 && strncmp(line, "book: note:", 11) != 0) {
            fprintf(stderr, "  %.*s\n", (int)len, line);
            any = true;
        }
        line += len + (line[len] == '\n');
    }
    if (!any)
        fprintf(stderr, "%s\n", text);
}

/* Writes all of text to fd; false when the reader closed it first (quit the pager). */
static bool write_all(int fd, const char *text, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, text, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        text += n;
        len -= (size_t)n;
    }
    return true;
}

/*
 * Pages text: $PAGER, else `less -R`, else (or when standard output is no terminal)
 * plain standard output. While the pager runs, Ctrl-C belongs to it: the course tool
 * ignores SIGINT and SIGQUIT, as git does, so it does not die under the pager.
 */
static int page(const char *text, size_t len)
{
    const char *pager = getenv("PAGER");
    if (!pager || !*pager)
        pager = course_have_program("less") ? "less -R" : NULL;
    if (!isatty(STDOUT_FILENO) || !pager || strcmp(pager, "cat") == 0) {
        fflush(stdout);
        return write_all(STDOUT_FILENO, text, len) || errno == EPIPE ? COURSE_EXIT_OK
                                                                     : COURSE_EXIT_FAIL;
    }

    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        fprintf(stderr, "course: pipe: %s\n", strerror(errno));
        return COURSE_EXIT_FAIL;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "course: fork: %s\n", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return COURSE_EXIT_FAIL;
    }
    if (pid == 0) {
        dup2(fds[0], STDIN_FILENO);
        signal(SIGINT, SIG_DFL);
        signal(SIGQUIT, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        execl("/bin/sh", "sh", "-c", pager, (char *)NULL);
        _exit(127);
    }
    close(fds[0]);

    struct sigaction ignore = {.sa_handler = SIG_IGN}, old_int, old_quit, old_pipe;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGINT, &ignore, &old_int);
    sigaction(SIGQUIT, &ignore, &old_quit);
    sigaction(SIGPIPE, &ignore, &old_pipe);
    write_all(fds[1], text, len); /* stops early when the reader quits: that is fine */
    close(fds[1]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);

    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        fprintf(stderr, "course: the pager '%s' could not be started; showing the text here\n",
                pager);
        return write_all(STDOUT_FILENO, text, len) ? COURSE_EXIT_OK : COURSE_EXIT_FAIL;
    }
    return COURSE_EXIT_OK;
}

/* Renders the chapter into *text. Returns 0, or an exit status after saying why not. */
static int render(const struct course_chapter *ch, const char *results, char **text, size_t *len)
{
    char out[] = "/tmp/course-read-XXXXXX";
    int fd = mkstemp(out);
    if (fd < 0) {
        fprintf(stderr, "course: cannot make a temporary file: %s\n", strerror(errno));
        return COURSE_EXIT_FAIL;
    }
    close(fd);

    char chapter[256], results_meta[4096], cache_meta[256], width[32];
    snprintf(chapter, sizeof chapter, "book-chapter=%s", ch->folder);
    snprintf(results_meta, sizeof results_meta, "bench-results=%s", results);
    snprintf(cache_meta, sizeof cache_meta, "book-cache=%s", figure_cache);
    snprintf(width, sizeof width, "--columns=%d", columns());
    /* book-draft: a chapter in progress elsewhere in the book must not stop this one. */
    char *argv[] = {
        "pandoc",
        (char *)book_md,
        "--from",
        "markdown",
        "--lua-filter",
        (char *)chapter_filter,
        "--metadata",
        chapter,
        "--metadata",
        cache_meta,
        "--metadata",
        results_meta,
        "--metadata",
        "bench-missing=mark",
        "--metadata",
        "book-draft=true",
        "--resource-path=.",
        "--to",
        "plain",
        width,
        "-o",
        out,
        NULL,
    };

    course_transient("rendering chapter %s with the book's filters...", ch->key);
    struct course_capture cap;
    int rc = course_capture_run(argv, NULL, 0, 0, &cap);
    course_transient_clear();
    if (rc < 0) {
        fprintf(stderr, "course: cannot run pandoc: %s\n", strerror(-rc));
        unlink(out);
        return COURSE_EXIT_FAIL;
    }
    int status = COURSE_EXIT_OK;
    if (!WIFEXITED(cap.status) || WEXITSTATUS(cap.status) != 0) {
        show_failure(ch->key, &cap);
        status = COURSE_EXIT_FAIL;
    } else if (!(*text = read_all(out, len))) {
        fprintf(stderr, "course: cannot read pandoc's output %s\n", out);
        status = COURSE_EXIT_FAIL;
    }
    course_capture_free(&cap);
    unlink(out);
    return status;
}

int course_cmd_read(const char *name)
{
    struct course_chapters c;
    if (course_chapters_load(chapters_dir, book_md, &c) < 0) {
        fprintf(stderr, "course: out of memory\n");
        return COURSE_EXIT_FAIL;
    }
    if (!name) {
        printf("usage: ./course read NN   shows chapter NN as text. The chapters:\n");
        list_chapters(stdout, &c);
        course_chapters_free(&c);
        return COURSE_EXIT_OK;
    }
    const struct course_chapter *ch = course_chapters_find(&c, name);
    if (!ch) {
        fprintf(stderr, "course: there is no chapter '%s' to read. The chapters are:\n", name);
        list_chapters(stderr, &c);
        course_chapters_free(&c);
        return COURSE_EXIT_USAGE;
    }

    int status = COURSE_EXIT_FAIL;
    char missing[64];
    char *text = NULL;
    size_t len = 0;
    if (access(book_md, R_OK) < 0 || access(chapter_filter, R_OK) < 0) {
        fprintf(stderr, "course: %s or %s is missing, so there is no book to render\n", book_md,
                chapter_filter);
    } else if (missing_tools(missing, sizeof missing)) {
        fprintf(stderr,
                "course: reading a chapter renders it with the book's tools (pandoc, graphviz's "
                "dot, gnuplot), and these are not installed: %s.\n"
                "Install them with:\n"
                "    make deps-book\n",
                missing);
    } else {
        const char *results = getenv("AX_COURSE_RESULTS");
        if (!results || !*results)
            results = default_results;
        bool have_results = access(results, R_OK) == 0;
        status = render(ch, results, &text, &len);
        if (status == COURSE_EXIT_OK) {
            char *page_text = NULL;
            size_t page_len = 0;
            FILE *mem = open_memstream(&page_text, &page_len);
            if (mem) {
                if (!have_results)
                    fprintf(mem,
                            "Note: %s does not exist yet, so every number\n"
                            "this chapter measures shows as [not measured]. Run `make bench`\n"
                            "(a few minutes), then ./course read %s again.\n\n",
                            results, ch->key);
                if (strstr(text, "[Figure:") || strstr(text, "[Chart:")) {
                    char html[512];
                    snprintf(html, sizeof html, "%s/%s.html", chapter_pages, ch->folder);
                    if (access(html, R_OK) == 0)
                        fprintf(mem, "Diagrams and charts: %s\n\n", html);
                    else
                        fprintf(mem,
                                "Diagrams and charts: %s\n"
                                "(`make book-chapters` writes it)\n\n",
                                html);
                }
                fwrite(text, 1, len, mem);
            }
            if (!mem || fclose(mem) != 0) {
                fprintf(stderr, "course: out of memory\n");
                status = COURSE_EXIT_FAIL;
            } else {
                status = page(page_text, page_len);
            }
            free(page_text);
        }
    }
    free(text);
    course_chapters_free(&c);
    return status;
}
