/*
 * read: `course read NN`, a chapter of the book as text in the terminal.
 *
 * The chapter's source (chapters/NN-slug/NN-slug.md) shows include stubs and
 * placeholders; the reader needs what the book shows. So the chapter goes through
 * the book's own pandoc filters (tools/book/chapter.lua, which runs book.lua and keeps
 * one chapter): listings cut from the code, numbers from build/bench/results.tsv,
 * links as text. The text goes to $PAGER, else `less -R`, and straight to standard
 * output when that is not a terminal.
 *
 * Without pandoc (or graphviz and gnuplot, which the filters run for the figures) it
 * says to run `make deps-book` and fails. Without results.tsv it shows the chapter
 * with every measured number marked "[not measured]", and says to run `make bench`.
 * $AX_COURSE_RESULTS names another results file (the tests use it).
 */
#ifndef COURSE_READ_H
#define COURSE_READ_H

/* Shows chapter `name` ("03", "3", "03-epoll", "A"); NULL lists the chapters.
 * Returns the exit status: 2 for a chapter that does not exist. */
int course_cmd_read(const char *name);

#endif
