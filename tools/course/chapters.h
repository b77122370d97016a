/*
 * chapters: the chapters of the book in this checkout, for `course read` and for
 * the message at the end of the course.
 *
 * A chapter is written when chapters/X/X.md exists, X being NN-slug (a numbered
 * chapter) or appendix-L-slug (an appendix). Its title is the text of the file's
 * first level-1 heading. The chapters the book plans but that are not written yet
 * come from book.md's `chapters: ["00", "01", ...]` line.
 *
 * Ownership: course_chapters_free releases everything course_chapters_load made.
 */
#ifndef COURSE_CHAPTERS_H
#define COURSE_CHAPTERS_H

#include <stddef.h>

struct course_chapter {
    char *key; /* "03" for a numbered chapter, "A" for an appendix */
    char *folder; /* "03-epoll" */
    char *title; /* "The epoll reactor: ...", or the folder name when it has none */
};

struct course_chapters {
    struct course_chapter *ch; /* numbered chapters in order, then the appendices */
    size_t n;
    char **planned; /* numbers book.md lists that are not written yet: "05", "06" */
    size_t nplanned;
};

/*
 * Reads the chapters under `dir` (normally "chapters") and the plan in `book`
 * (normally "book.md"); either may be missing, which gives no chapters or no plan.
 * Returns 0 or -ENOMEM.
 */
int course_chapters_load(const char *dir, const char *book, struct course_chapters *out);

/* The chapter called name: "3", "03", "03-epoll", "a", "A", "appendix-a", or NULL. */
const struct course_chapter *course_chapters_find(const struct course_chapters *c,
                                                  const char *name);

void course_chapters_free(struct course_chapters *c);

#endif
