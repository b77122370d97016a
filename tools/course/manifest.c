/*
 * manifest: parses exercises/manifest into a list of exercises (see manifest.h for
 * the format).
 *
 * The parser walks the text one line at a time and keeps one block open: the
 * exercise whose [id] line it saw last. A block is checked when the next one starts
 * and at the end of the file, so a missing key is reported at the block's [id]
 * line, and a bad line is reported at that line.
 */
#include "manifest.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The keys a block must have, in the order the error message lists them. */
static const char *const required_keys[] = {"chapter", "section",    "edit",
                                            "suite",   "difficulty", "hint"};
#define NKEYS (sizeof required_keys / sizeof required_keys[0])

/* The parser's state while it reads one file. */
struct parser {
    const char *name; /* file name for messages */
    int line; /* current line number, from 1 */
    char *err;
    size_t errlen;
    struct course_manifest *m;
    bool seen[NKEYS]; /* which keys the open block has set */
};

static int fail(struct parser *p, int line, const char *fmt, ...)
{
    int used = snprintf(p->err, p->errlen, "%s:%d: ", p->name, line);
    if (used >= 0 && (size_t)used < p->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err + used, p->errlen - (size_t)used, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

/* Copies [start, end) without the blanks at either end into a new string. */
static char *trimmed_copy(const char *start, const char *end)
{
    while (start < end && isspace((unsigned char)*start))
        start++;
    while (end > start && isspace((unsigned char)end[-1]))
        end--;
    return strndup(start, (size_t)(end - start));
}

static bool valid_id(const char *id)
{
    if (*id == '\0')
        return false;
    for (const char *c = id; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.')
            return false;
    return true;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

char *course_reader_binary(const char *chapter, const char *suite)
{
    const char *base = strrchr(suite, '/');
    base = base ? base + 1 : suite;
    size_t len = strlen(base);
    if (ends_with(base, ".c"))
        len -= 2;

    char *path = NULL;
    if (asprintf(&path, "build/exercises/%s/%.*s", chapter, (int)len, base) < 0)
        return NULL;
    return path;
}

/* Splits "a.c  b.c" into the block's edit list. */
static int set_edit(struct course_exercise *ex, const char *value)
{
    const char *s = value;
    while (*s) {
        while (isspace((unsigned char)*s))
            s++;
        if (!*s)
            break;
        const char *end = s;
        while (*end && !isspace((unsigned char)*end))
            end++;
        char **grown = realloc(ex->edit, (ex->nedit + 1) * sizeof *grown);
        if (!grown)
            return -ENOMEM;
        ex->edit = grown;
        if (!(ex->edit[ex->nedit] = strndup(s, (size_t)(end - s))))
            return -ENOMEM;
        ex->nedit++;
        s = end;
    }
    return 0;
}

/* Stores one `key = value` line in the open block. Takes ownership of value. */
static int set_key(struct parser *p, struct course_exercise *ex, const char *key, char *value)
{
    size_t k = 0;
    while (k < NKEYS && strcmp(key, required_keys[k]) != 0)
        k++;
    if (k == NKEYS) {
        free(value);
        return fail(p, p->line,
                    "unknown key '%s' (the keys are chapter, section, edit, suite, difficulty "
                    "and hint)",
                    key);
    }
    if (p->seen[k]) {
        free(value);
        return fail(p, p->line, "'%s' is set twice in [%s]", key, ex->id);
    }
    if (*value == '\0') {
        free(value);
        return fail(p, p->line, "'%s' has no value", key);
    }
    p->seen[k] = true;

    int rc = 0;
    if (strcmp(key, "chapter") == 0) {
        ex->chapter = value;
        if (strchr(value, '/') || strchr(value, ' '))
            rc = fail(p, p->line, "chapter '%s' should be a folder name like 01-blocking", value);
    } else if (strcmp(key, "section") == 0) {
        ex->section = value;
    } else if (strcmp(key, "edit") == 0) {
        rc = set_edit(ex, value);
        free(value);
    } else if (strcmp(key, "suite") == 0) {
        ex->suite = value;
        if (!ends_with(value, ".c") || strchr(value, ' '))
            rc = fail(p, p->line, "suite '%s' should be one .c file", value);
    } else if (strcmp(key, "difficulty") == 0) {
        if (strlen(value) != 1 || value[0] < '1' || value[0] > '3')
            rc = fail(p, p->line, "difficulty is '%s'; it should be 1, 2 or 3", value);
        else
            ex->difficulty = value[0] - '0';
        free(value);
    } else {
        ex->hint = value;
    }
    return rc;
}

/* Checks that the open block has every key, then fills in its derived paths. */
static int close_block(struct parser *p)
{
    if (p->m->n == 0)
        return 0;
    struct course_exercise *ex = &p->m->ex[p->m->n - 1];
    for (size_t k = 0; k < NKEYS; k++)
        if (!p->seen[k])
            return fail(p, ex->line, "[%s] has no '%s' line", ex->id, required_keys[k]);

    ex->reader_bin = course_reader_binary(ex->chapter, ex->suite);
    if (!ex->reader_bin || asprintf(&ex->doc, "chapters/%s/%s.md", ex->chapter, ex->chapter) < 0)
        return -ENOMEM;
    return 0;
}

/* Starts a new block for an [id] line. Takes ownership of id. */
static int open_block(struct parser *p, char *id)
{
    if (!valid_id(id)) {
        int rc =
            fail(p, p->line, "exercise id '[%s]' should use only letters, digits, '-' and '_'", id);
        free(id);
        return rc;
    }
    if (course_manifest_find(p->m, id)) {
        int rc = fail(p, p->line, "[%s] appears twice", id);
        free(id);
        return rc;
    }
    struct course_exercise *grown = realloc(p->m->ex, (p->m->n + 1) * sizeof *grown);
    if (!grown) {
        free(id);
        return -ENOMEM;
    }
    p->m->ex = grown;
    p->m->ex[p->m->n++] = (struct course_exercise){.id = id, .line = p->line};
    memset(p->seen, 0, sizeof p->seen);
    return 0;
}

/* Handles one line of text, given without its newline. */
static int parse_line(struct parser *p, const char *start, const char *end)
{
    while (start < end && isspace((unsigned char)*start))
        start++;
    while (end > start && isspace((unsigned char)end[-1]))
        end--;
    if (start == end || *start == '#')
        return 0;

    if (*start == '[') {
        if (end[-1] != ']')
            return fail(p, p->line, "an exercise line looks like [01-writev-all]");
        int rc = close_block(p);
        if (rc < 0)
            return rc;
        char *id = trimmed_copy(start + 1, end - 1);
        return id ? open_block(p, id) : -ENOMEM;
    }

    const char *eq = memchr(start, '=', (size_t)(end - start));
    if (!eq)
        return fail(p, p->line, "expected 'key = value' or an [exercise-id] line");
    if (p->m->n == 0)
        return fail(p, p->line, "this line comes before the first [exercise-id] line");

    char *key = trimmed_copy(start, eq);
    char *value = trimmed_copy(eq + 1, end);
    int rc = -ENOMEM;
    if (key && value) {
        rc = set_key(p, &p->m->ex[p->m->n - 1], key, value);
        value = NULL; /* set_key took it */
    }
    free(key);
    free(value);
    return rc;
}

int course_manifest_parse(const char *text, const char *name, struct course_manifest *m, char *err,
                          size_t errlen)
{
    *m = (struct course_manifest){0};
    struct parser p = {.name = name, .err = err, .errlen = errlen, .m = m};
    if (errlen > 0)
        err[0] = '\0';

    int rc = 0;
    const char *line = text;
    while (rc == 0 && *line) {
        const char *nl = strchr(line, '\n');
        const char *end = nl ? nl : line + strlen(line);
        p.line++;
        rc = parse_line(&p, line, end);
        line = nl ? nl + 1 : end;
    }
    if (rc == 0)
        rc = close_block(&p);

    if (rc < 0) {
        if (rc == -ENOMEM && errlen > 0)
            snprintf(err, errlen, "%s: out of memory", name);
        course_manifest_free(m);
    }
    return rc;
}

int course_manifest_load(const char *path, struct course_manifest *m, char *err, size_t errlen)
{
    *m = (struct course_manifest){0};
    FILE *f = fopen(path, "r");
    if (!f) {
        int rc = -errno;
        snprintf(err, errlen, "%s: %s", path, strerror(-rc));
        return rc;
    }

    /* Read the whole file: manifests are a few kilobytes. */
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    char chunk[4096];
    size_t got;
    while (mem && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, got, mem);
    bool read_error = ferror(f);
    fclose(f);
    if (!mem || fclose(mem) != 0 || read_error) {
        free(text);
        snprintf(err, errlen, "%s: could not read the file", path);
        return -EIO;
    }

    int rc = course_manifest_parse(text, path, m, err, errlen);
    free(text);
    return rc;
}

const struct course_exercise *course_manifest_find(const struct course_manifest *m, const char *id)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->ex[i].id, id) == 0)
            return &m->ex[i];
    return NULL;
}

void course_manifest_free(struct course_manifest *m)
{
    for (size_t i = 0; i < m->n; i++) {
        struct course_exercise *ex = &m->ex[i];
        free(ex->id);
        free(ex->chapter);
        free(ex->section);
        for (size_t e = 0; e < ex->nedit; e++)
            free(ex->edit[e]);
        free(ex->edit);
        free(ex->suite);
        free(ex->hint);
        free(ex->reader_bin);
        free(ex->doc);
    }
    free(m->ex);
    *m = (struct course_manifest){0};
}
