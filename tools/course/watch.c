/*
 * watch: the watch loop (see watch.h).
 *
 * One poll() waits on two things at once: the file-change detector (an inotify
 * descriptor, or a timeout when polling) and standard input for keys. Checking an
 * exercise runs to completion before the next event is looked at; saves made in the
 * meantime are queued by the kernel and cause one more check afterwards.
 *
 * The terminal: keys must arrive one at a time without Enter and without being
 * echoed, so ICANON and ECHO are switched off while watching. Every way out puts
 * the saved settings back: normal return (atexit), SIGINT/SIGTERM/SIGHUP (the
 * handler from proc.c calls restore_terminal), and Ctrl-Z (SIGTSTP restores,
 * SIGCONT switches keys on again).
 */
#include "watch.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "changes.h"
#include "commands.h"
#include "proc.h"
#include "results.h"
#include "style.h"

static const char watched_dir[] = "exercises";

/* ---------------------------------------------------------------------------------
 * The terminal */

static struct termios saved_termios, keys_termios;
static volatile sig_atomic_t keys_on; /* the terminal is in keys_termios mode */

/* Async-signal-safe: tcsetattr is, and nothing else happens here. */
static void restore_terminal(void)
{
    if (keys_on) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
        keys_on = 0;
    }
}

static void on_stop(int sig)
{
    (void)sig;
    int was_on = keys_on;
    restore_terminal();
    keys_on = was_on ? -1 : 0; /* remember to switch back on SIGCONT */
    raise(SIGSTOP);
}

static void on_continue(int sig)
{
    (void)sig;
    if (keys_on == -1) {
        tcsetattr(STDIN_FILENO, TCSANOW, &keys_termios);
        keys_on = 1;
    }
}

/* Switches the terminal to single keys without echo. False if stdin is no terminal. */
static bool keys_start(void)
{
    if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_termios) < 0)
        return false;
    keys_termios = saved_termios;
    keys_termios.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
    keys_termios.c_cc[VMIN] = 1;
    keys_termios.c_cc[VTIME] = 0;
    if (tcsetattr(STDIN_FILENO, TCSANOW, &keys_termios) < 0)
        return false;
    keys_on = 1;
    atexit(restore_terminal);

    struct sigaction sa = {.sa_handler = on_stop};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTSTP, &sa, NULL);
    sa.sa_handler = on_continue;
    sigaction(SIGCONT, &sa, NULL);
    return true;
}

/* ---------------------------------------------------------------------------------
 * What the watcher shows */

struct watch {
    const struct course_manifest *m;
    size_t cur; /* the exercise being watched */
    struct course_changes *changes;
    bool keys; /* reading single keys from the terminal */
    bool quit; /* the reader pressed q */
};

/* Starts a new screen: a clear screen on a terminal, a dated rule in a log. */
static void new_screen(const char *why)
{
    char when[16];
    time_t now = time(NULL);
    struct tm tm;
    strftime(when, sizeof when, "%H:%M:%S", localtime_r(&now, &tm));
    if (course_interactive())
        printf("\033[H\033[2J"); /* cursor home, clear screen */
    printf("%s── %s  %s ──%s\n\n", course_colour(COURSE_DIM), when, why,
           course_colour(COURSE_RESET));
}

static void footer(const struct watch *w)
{
    const char *dim = course_colour(COURSE_DIM), *reset = course_colour(COURSE_RESET);
    printf("\n%sWatching %s/ for saves (%s).", dim, watched_dir, course_changes_method(w->changes));
    if (w->keys)
        printf(" Keys: n next exercise · h hint · l list · q quit");
    else
        printf(" Ctrl-C stops.");
    printf("%s\n", reset);
    fflush(stdout);
}

/* Shows the current exercise and its latest result. */
static void show_current(const struct watch *w, const struct course_result *r)
{
    const struct course_exercise *ex = &w->m->ex[w->cur];
    course_print_next(stdout, ex);
    printf("\n");
    course_print_result(stdout, ex, r);
    footer(w);
}

/*
 * Moves to the first exercise after `from` (wrapping, leaving out `skip`) that does
 * not pass yet, and shows it, on a new screen if `why` is given. Returns 1 when
 * there is one, 0 when every exercise passes, or a negative errno value.
 */
static int move_to_unsolved(struct watch *w, size_t from, size_t skip, const char *why)
{
    struct course_result r;
    size_t found;
    int rc = course_find_unsolved(w->m, from, skip, &found, &r);
    if (rc <= 0)
        return rc;
    w->cur = found;
    if (why)
        new_screen(why);
    show_current(w, &r);
    course_result_free(&r);
    return 1;
}

/*
 * A file was saved: check the current exercise again. Returns 1 to keep watching,
 * 0 when every exercise passes, or a negative errno value.
 */
static int recheck(struct watch *w)
{
    const struct course_exercise *ex = &w->m->ex[w->cur];
    char why[160];
    snprintf(why, sizeof why, "saved: checking %s", ex->id);
    new_screen(why);

    struct course_result r;
    char err[256];
    int rc = course_verify(ex, &r, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "course: %s\n", err);
        return rc;
    }
    if (r.verdict != COURSE_PASSED) {
        show_current(w, &r);
        course_result_free(&r);
        return 1;
    }

    course_print_result(stdout, ex, &r);
    course_result_free(&r);
    printf("\n%s★ %s is done.%s\n\n", course_colour(COURSE_GREEN), ex->id,
           course_colour(COURSE_RESET));
    fflush(stdout);
    return move_to_unsolved(w, w->cur + 1, w->cur, NULL);
}

/* The `n` key: leave this exercise for later. */
static int skip(struct watch *w)
{
    size_t was = w->cur;
    printf("\nSkipping %s for now...\n", w->m->ex[was].id);
    int rc = move_to_unsolved(w, was + 1, was, "skipped to the next exercise");
    if (rc == 0) {
        printf("%s is the only exercise left to solve.\n", w->m->ex[was].id);
        footer(w);
        return 1;
    }
    return rc;
}

/* Reacts to one key. Returns 1 to keep watching, 0 to stop, or a negative errno. */
static int key(struct watch *w, char c)
{
    switch (c) {
    case 'n':
    case 'N':
        return skip(w);
    case 'h':
    case 'H':
        printf("\n");
        course_print_hint(stdout, &w->m->ex[w->cur]);
        footer(w);
        return 1;
    case 'l':
    case 'L':
        printf("\n");
        course_cmd_list(w->m);
        footer(w);
        return 1;
    case 'q':
    case 'Q':
        w->quit = true;
        return 0;
    default:
        return 1;
    }
}

/* Shows exercise `start` first, whether it passes or not (the reader asked for it).
 * Returns 1 to keep watching, or a negative errno value. */
static int start_at(struct watch *w, size_t start)
{
    w->cur = start;
    const struct course_exercise *ex = &w->m->ex[start];
    struct course_result r;
    char err[256];
    course_transient("checking %s...", ex->id);
    int rc = course_verify(ex, &r, err, sizeof err);
    course_transient_clear();
    if (rc < 0) {
        fprintf(stderr, "course: %s\n", err);
        return rc;
    }
    if (r.verdict == COURSE_PASSED)
        printf("%s%s passes already; watching it anyway (n moves to the next exercise).%s\n\n",
               course_colour(COURSE_DIM), ex->id, course_colour(COURSE_RESET));
    show_current(w, &r);
    course_result_free(&r);
    return 1;
}

int course_cmd_watch(const struct course_manifest *m, const char *id)
{
    if (m->n == 0) {
        printf("exercises/manifest lists no exercises yet.\n");
        return COURSE_EXIT_OK;
    }
    const struct course_exercise *first = NULL;
    if (id && !(first = course_lookup(m, id)))
        return COURSE_EXIT_USAGE;

    struct watch w = {.m = m};
    bool force_polling = getenv("AX_COURSE_POLL") != NULL; /* to test the fallback */
    int rc = course_changes_open(watched_dir, force_polling, &w.changes);
    if (rc < 0) {
        fprintf(stderr, "course: cannot watch %s/: %s\n", watched_dir, strerror(-rc));
        return COURSE_EXIT_FAIL;
    }
    w.keys = keys_start();
    course_proc_handle_signals(restore_terminal);

    new_screen("watching");
    rc = first ? start_at(&w, (size_t)(first - m->ex)) : move_to_unsolved(&w, 0, m->n, NULL);
    while (rc > 0) {
        struct pollfd fds[2] = {{.fd = course_changes_fd(w.changes), .events = POLLIN},
                                {.fd = w.keys ? STDIN_FILENO : -1, .events = POLLIN}};
        int ready = poll(fds, 2, course_changes_timeout_ms(w.changes));
        if (ready < 0) {
            if (errno == EINTR)
                continue; /* e.g. SIGCONT after Ctrl-Z and fg */
            rc = -errno;
            fprintf(stderr, "course: poll: %s\n", strerror(errno));
            break;
        }

        if (fds[1].revents) {
            char c;
            ssize_t n = read(STDIN_FILENO, &c, 1);
            if (n == 1)
                rc = key(&w, c);
            else if (n == 0 || (errno != EINTR && errno != EAGAIN))
                w.keys = false; /* the terminal went away; keep watching */
            if (rc <= 0)
                break;
        }

        int saved = course_changes_check(w.changes);
        if (saved > 0)
            rc = recheck(&w);
        else if (saved < 0) {
            fprintf(stderr, "course: watching %s/: %s\n", watched_dir, strerror(-saved));
            rc = saved;
        }
    }

    /* rc is 0 after q or when every exercise passes, negative after an error that
     * has been reported already. */
    if (rc == 0 && w.quit)
        printf("\nBye. Progress lives in your files: ./course watch picks up from here.\n");
    else if (rc == 0)
        course_print_congratulations(stdout, m);
    restore_terminal();
    course_changes_close(w.changes);
    return rc < 0 ? COURSE_EXIT_FAIL : COURSE_EXIT_OK;
}
