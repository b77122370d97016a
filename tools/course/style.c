/*
 * style: colours, stars and the progress bar (see style.h). The glyphs are UTF-8;
 * the escape sequences are the ANSI ones every terminal emulator understands.
 */
#include "style.h"

#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

static bool use_colour;
static bool interactive;
static bool transient_shown;

void course_style_init(void)
{
    interactive = isatty(STDOUT_FILENO);
    use_colour = interactive && getenv("NO_COLOR") == NULL;
}

const char *course_colour(enum course_colour c)
{
    static const char *const codes[] = {
        [COURSE_RESET] = "\033[0m", [COURSE_BOLD] = "\033[1m",   [COURSE_DIM] = "\033[2m",
        [COURSE_RED] = "\033[31m",  [COURSE_GREEN] = "\033[32m", [COURSE_YELLOW] = "\033[33m",
        [COURSE_CYAN] = "\033[36m",
    };
    return use_colour ? codes[c] : "";
}

bool course_interactive(void)
{
    return interactive;
}

const char *course_stars(int difficulty)
{
    switch (difficulty) {
    case 1:
        return "★☆☆";
    case 2:
        return "★★☆";
    default:
        return "★★★";
    }
}

void course_print_bar(FILE *out, size_t done, size_t total)
{
    enum { WIDTH = 30 };
    size_t filled = total ? done * WIDTH / total : 0;

    fprintf(out, "[%s", course_colour(COURSE_GREEN));
    for (size_t i = 0; i < WIDTH; i++) {
        if (i == filled) {
            fputs(course_colour(COURSE_RESET), out); /* the rest: plain and faint */
            fputs(course_colour(COURSE_DIM), out);
        }
        fputs(i < filled ? "█" : "░", out);
    }
    fprintf(out, "%s]  %zu/%zu exercises done (%zu%%)", course_colour(COURSE_RESET), done, total,
            total ? done * 100 / total : 0);
}

void course_transient(const char *fmt, ...)
{
    if (!interactive)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("\r\033[K", stdout); /* back to column 0, erase the line */
    fputs(course_colour(COURSE_DIM), stdout);
    vprintf(fmt, ap);
    fputs(course_colour(COURSE_RESET), stdout);
    va_end(ap);
    fflush(stdout);
    transient_shown = true;
}

void course_transient_clear(void)
{
    if (!transient_shown)
        return;
    fputs("\r\033[K", stdout);
    fflush(stdout);
    transient_shown = false;
}
