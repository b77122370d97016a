/*
 * style: how the course tool dresses its output: colours, the progress bar and the
 * difficulty stars.
 *
 * Colour is used only when standard output is a terminal and NO_COLOR is unset, so
 * piping the tool into a file or a test gives plain text. course_style_init decides
 * once, at start-up; course_colour then returns an escape sequence or "".
 */
#ifndef COURSE_STYLE_H
#define COURSE_STYLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum course_colour {
    COURSE_RESET,
    COURSE_BOLD,
    COURSE_DIM,
    COURSE_RED,
    COURSE_GREEN,
    COURSE_YELLOW,
    COURSE_CYAN,
};

void course_style_init(void);

/* The escape sequence that switches to `c`, or "" when colour is off. */
const char *course_colour(enum course_colour c);

/* Whether standard output is a terminal (for clearing the screen, transient lines). */
bool course_interactive(void);

/* "★☆☆" for difficulty 1, and so on. */
const char *course_stars(int difficulty);

/* A bar like [██████░░░░░░░░]  3/12 exercises done (25%), without a newline. */
void course_print_bar(FILE *out, size_t done, size_t total);

/*
 * A line that the next output overwrites ("checking 01-writev-all (3/12)..."),
 * shown only on a terminal. course_transient_clear erases it.
 */
void course_transient(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void course_transient_clear(void);

#endif
