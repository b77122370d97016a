/*
 * findings: reads sanitizer and valgrind reports (see findings.h).
 *
 * One pass over the lines with a small state machine: outside a report, a line that
 * opens one starts a finding; inside, stack frames and the lines that name a stack
 * ("freed by thread T0 here:") fill it in, and everything else the tools print
 * (shadow-byte maps, legends, register dumps) is dropped until the report's last
 * line. Whatever is not part of a report is kept, in order, as the rest.
 */
#include "findings.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum state {
    OUTSIDE,
    ASAN, /* in an AddressSanitizer report, before its SUMMARY line */
    ASAN_TAIL, /* after the SUMMARY: the shadow-byte map, up to ==N==ABORTING */
    LSAN, /* in LeakSanitizer's report: one finding per leak */
    UBSAN, /* after a "runtime error:" line: its stack, if UBSan prints one */
    VALGRIND, /* in a valgrind error, up to a blank ==N== line */
};

struct parser {
    enum state state;
    const char *root; /* "/work/course/", with the slash */
    size_t rootlen;
    struct course_findings *out;
    struct course_finding *cur; /* the finding being filled in, or NULL */
    char *pending_where; /* UBSan's own location, used when no stack follows */
    FILE *rest;
    bool nomem;
};

/* ---------------------------------------------------------------------------------
 * Small string helpers */

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static const char *skip_spaces(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* "==123==" at the start of s: returns what follows, or NULL. */
static const char *after_pid_tag(const char *s, char tag)
{
    if (s[0] != tag || s[1] != tag || !isdigit((unsigned char)s[2]))
        return NULL;
    s += 2;
    while (isdigit((unsigned char)*s))
        s++;
    return s[0] == tag && s[1] == tag ? s + 2 : NULL;
}

/* Check's summary, banner and result lines: never part of a report. */
static bool is_check_line(const char *line)
{
    int percent, used = 0;
    if ((sscanf(line, "%d%%: Checks:%n", &percent, &used) == 1 && used > 0) ||
        starts_with(line, "Running suite(s):"))
        return true;
    const char *colon = strchr(line, ':');
    if (!colon || colon == line || !isdigit((unsigned char)colon[1]))
        return false;
    const char *k = colon + 1;
    while (isdigit((unsigned char)*k))
        k++;
    return k[0] == ':' && k[1] != '\0' && strchr("PFE", k[1]) && k[2] == ':';
}

/* ---------------------------------------------------------------------------------
 * Building findings */

static struct course_finding *add_finding(struct parser *p, const char *tool, const char *what)
{
    struct course_findings *o = p->out;
    struct course_finding *grown = realloc(o->f, (o->n + 1) * sizeof *grown);
    if (!grown) {
        p->nomem = true;
        return NULL;
    }
    o->f = grown;
    struct course_finding *f = &o->f[o->n];
    *f = (struct course_finding){.tool = tool, .what = strdup(what)};
    if (!f->what) {
        p->nomem = true;
        return NULL;
    }
    o->n++;
    p->cur = f;
    return f;
}

static void append_what(struct parser *p, const char *more)
{
    if (!p->cur)
        return;
    char *joined = NULL;
    if (asprintf(&joined, "%s%s", p->cur->what, more) < 0) {
        p->nomem = true;
        return;
    }
    free(p->cur->what);
    p->cur->what = joined;
}

static struct course_stack *add_stack(struct parser *p, const char *label)
{
    struct course_finding *f = p->cur;
    if (!f)
        return NULL;
    struct course_stack *grown = realloc(f->stacks, (f->nstacks + 1) * sizeof *grown);
    if (!grown) {
        p->nomem = true;
        return NULL;
    }
    f->stacks = grown;
    f->stacks[f->nstacks] = (struct course_stack){.label = label};
    return &f->stacks[f->nstacks++];
}

/* A path as the reader should see it: relative to the course root when under it,
 * and without a column number. Returns a malloc'd string. */
static char *tidy_where(struct parser *p, const char *start, size_t len)
{
    if (len > p->rootlen && strncmp(start, p->root, p->rootlen) == 0) {
        start += p->rootlen;
        len -= p->rootlen;
    }
    char *where = strndup(start, len);
    if (!where)
        return NULL;
    /* file:line:col -> file:line */
    char *last = strrchr(where, ':');
    if (last && last != where && isdigit((unsigned char)last[1])) {
        char *prev = last - 1;
        while (prev > where && isdigit((unsigned char)*prev))
            prev--;
        if (*prev == ':' && prev < last - 1)
            *last = '\0';
    }
    return where;
}

/* Adds a frame to the current stack (an "at" stack when there is none yet). */
static void add_frame(struct parser *p, const char *func, size_t funclen, const char *where,
                      size_t wherelen)
{
    if (!p->cur)
        return;
    struct course_finding *f = p->cur;
    struct course_stack *s = f->nstacks ? &f->stacks[f->nstacks - 1] : add_stack(p, "at");
    if (!s)
        return;
    struct course_frame *grown = realloc(s->frames, (s->nframes + 1) * sizeof *grown);
    if (!grown) {
        p->nomem = true;
        return;
    }
    s->frames = grown;
    struct course_frame *fr = &s->frames[s->nframes++];
    fr->func = func ? strndup(func, funclen) : NULL;
    fr->where = where ? tidy_where(p, where, wherelen) : NULL;
    if ((func && !fr->func) || (where && !fr->where))
        p->nomem = true;

    /* The test: Check's START_TEST(name) defines name_fn. */
    if (!f->test && fr->func && ends_with(fr->func, "_fn") && fr->where &&
        starts_with(fr->where, "tests/")) {
        f->test = strndup(fr->func, strlen(fr->func) - 3);
        if (!f->test)
            p->nomem = true;
    }
}

/* ---------------------------------------------------------------------------------
 * The tools' lines */

/* "    #3 0x55c0c557c84b in uaf_fn /tmp/t.c:5" (or "(/tmp/t+0x66da)"). */
static bool sanitizer_frame(struct parser *p, const char *line)
{
    const char *s = skip_spaces(line);
    if (s[0] != '#' || !isdigit((unsigned char)s[1]))
        return false;
    s++;
    while (isdigit((unsigned char)*s))
        s++;
    if (!starts_with(s, " 0x"))
        return false;
    s += 3;
    while (isxdigit((unsigned char)*s))
        s++;
    const char *func = NULL, *where = NULL;
    size_t funclen = 0, wherelen = 0;
    if (starts_with(s, " in ")) {
        func = s + 4;
        funclen = strcspn(func, " ");
        where = skip_spaces(func + funclen);
        wherelen = strlen(where);
        if (*where == '(' || wherelen == 0)
            where = NULL; /* a module and offset: no source line */
    }
    add_frame(p, func, funclen, where, wherelen);
    return true;
}

/* "   at 0x10A543: uaf_fn (/tmp/t.c:5)" or "by 0x10D010: f (in /tmp/t)". */
static bool valgrind_frame(struct parser *p, const char *body)
{
    const char *s = skip_spaces(body);
    if (!starts_with(s, "at 0x") && !starts_with(s, "by 0x"))
        return false;
    s += 5;
    while (isxdigit((unsigned char)*s))
        s++;
    if (!starts_with(s, ": "))
        return false;
    const char *func = s + 2;
    size_t funclen = strcspn(func, " ");
    const char *paren = func + funclen;
    const char *where = NULL;
    size_t wherelen = 0;
    if (starts_with(paren, " (") && !starts_with(paren, " (in ") && ends_with(paren, ")")) {
        where = paren + 2;
        wherelen = strlen(where) - 1;
    }
    add_frame(p, func, funclen, where, wherelen);
    return true;
}

/* The lines that start a named stack inside an ASan report. */
static bool sanitizer_stack_line(struct parser *p, const char *line)
{
    if (starts_with(line, "freed by thread"))
        return add_stack(p, "freed") != NULL;
    if (starts_with(line, "previously allocated by thread"))
        return add_stack(p, "allocated") != NULL;
    if (starts_with(line, "Thread T") && strstr(line, " created by "))
        return add_stack(p, "thread") != NULL;
    return false;
}

/* "Direct leak of 16 byte(s) in 1 object(s) allocated from:" */
static bool leak_line(struct parser *p, const char *line)
{
    bool direct = starts_with(line, "Direct leak of ");
    if (!direct && !starts_with(line, "Indirect leak of "))
        return false;
    unsigned long bytes = 0, objects = 0;
    const char *n = strstr(line, "leak of ") + strlen("leak of ");
    if (sscanf(n, "%lu byte(s) in %lu object(s)", &bytes, &objects) != 2)
        return false;
    char what[160];
    snprintf(what, sizeof what, "memory leak: %lu byte%s in %lu allocation%s, never freed%s", bytes,
             bytes == 1 ? "" : "s", objects, objects == 1 ? "" : "s",
             direct ? "" : " (reachable only from other leaked memory)");
    if (add_finding(p, "LeakSanitizer", what))
        add_stack(p, "allocated");
    return true;
}

/* "==N==ERROR: AddressSanitizer: heap-use-after-free on address 0x... at pc ..." */
static void asan_error(struct parser *p, const char *kind)
{
    char what[256];
    snprintf(what, sizeof what, "%s", kind);
    /* What it is matters; the addresses do not. */
    static const char *const cut[] = {" on address ", " on unknown address", " at pc ", " (pc "};
    for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++) {
        char *c = strstr(what, cut[i]);
        if (c)
            *c = '\0';
    }
    add_finding(p, "AddressSanitizer", what);
    p->state = ASAN;
}

/* A "==N==..." line of a sanitizer (no space after the tag). */
static void sanitizer_tag_line(struct parser *p, const char *body)
{
    if (starts_with(body, "ERROR: AddressSanitizer: ")) {
        asan_error(p, body + strlen("ERROR: AddressSanitizer: "));
    } else if (starts_with(body, "ERROR: LeakSanitizer:")) {
        p->cur = NULL;
        p->state = LSAN;
    } else if (starts_with(body, "ABORTING")) {
        p->state = OUTSIDE;
        p->cur = NULL;
    } else if (starts_with(body, "The signal is caused by a ")) {
        char access[32] = "";
        if (sscanf(body, "The signal is caused by a %31s", access) == 1) {
            char more[48];
            snprintf(more, sizeof more, ": a %s", access);
            append_what(p, more);
        }
    } else if (starts_with(body, "Hint: address points to the zero page")) {
        append_what(p, " of address 0 (a NULL pointer)");
    }
    /* Anything else (register dumps, notes) is dropped. */
}

/* A "==N== ..." line of valgrind. */
static void valgrind_line(struct parser *p, const char *body)
{
    static const char *const noise[] = {
        "For lists of",   "For counts of",    "Use --",        "Rerun with",
        "HEAP SUMMARY",   "LEAK SUMMARY",     "ERROR SUMMARY", "All heap blocks",
        "in use at exit", "total heap usage", "Memcheck",      "Copyright",
        "Using Valgrind", "Command:",         "Warning:",      "WARNING",
    };
    if (*body == ' ')
        body++;
    if (*skip_spaces(body) == '\0') { /* a blank line ends an error */
        p->cur = NULL;
        p->state = OUTSIDE;
        return;
    }
    if (*body != ' ') { /* a headline: a new error */
        for (size_t i = 0; i < sizeof noise / sizeof noise[0]; i++)
            if (starts_with(body, noise[i])) {
                p->cur = NULL;
                return;
            }
        unsigned long bytes, blocks;
        char kind[32];
        char what[256], plain[256]; /* plain: without valgrind's thousands separators */
        size_t n = 0;
        for (const char *c = body; *c && n + 1 < sizeof plain; c++)
            if (!(*c == ',' && c > body && isdigit((unsigned char)c[-1]) &&
                  isdigit((unsigned char)c[1])))
                plain[n++] = *c;
        plain[n] = '\0';
        if (sscanf(plain, "%lu bytes in %lu blocks are %31s lost", &bytes, &blocks, kind) == 3)
            snprintf(what, sizeof what, "memory leak: %lu byte%s in %lu allocation%s, %s lost",
                     bytes, bytes == 1 ? "" : "s", blocks, blocks == 1 ? "" : "s", kind);
        else
            snprintf(what, sizeof what, "%s", body);
        if (add_finding(p, "valgrind", what))
            add_stack(p, strstr(what, "memory leak") ? "allocated" : "at");
        p->state = VALGRIND;
        return;
    }
    if (!p->cur || valgrind_frame(p, body))
        return;
    const char *text = skip_spaces(body);
    if (strstr(text, "not stack'd")) {
        char more[160];
        snprintf(more, sizeof more, " (%s)", text);
        append_what(p, more);
    } else if (strstr(text, "free'd")) {
        add_stack(p, "freed");
    } else if (strstr(text, "alloc'd")) {
        add_stack(p, "allocated");
    } else if (strstr(text, "was created by")) {
        add_stack(p, "created");
    }
}

/* "file:12:7: runtime error: message" */
static bool ubsan_line(struct parser *p, const char *line)
{
    const char *marker = strstr(line, ": runtime error: ");
    if (!marker)
        return false;
    char what[320];
    snprintf(what, sizeof what, "undefined behaviour: %s", marker + strlen(": runtime error: "));
    if (!add_finding(p, "UBSan", what))
        return true;
    free(p->pending_where);
    p->pending_where = tidy_where(p, line, (size_t)(marker - line));
    p->state = UBSAN;
    return true;
}

/* Leaving a UBSan report: without a stack, its own location is the place. */
static void end_ubsan(struct parser *p)
{
    if (p->cur && p->cur->nstacks == 0 && p->pending_where)
        add_frame(p, NULL, 0, p->pending_where, strlen(p->pending_where));
    free(p->pending_where);
    p->pending_where = NULL;
    p->cur = NULL;
    p->state = OUTSIDE;
}

static void keep(struct parser *p, const char *line)
{
    fputs(line, p->rest);
    fputc('\n', p->rest);
}

static void parse_line(struct parser *p, const char *line)
{
    if (is_check_line(line)) {
        keep(p, line);
        return;
    }
    const char *body;
    if ((body = after_pid_tag(line, '=')) != NULL) {
        if (*body == ' ' || *body == '\0') {
            if (p->state == UBSAN)
                end_ubsan(p);
            valgrind_line(p, body);
        } else {
            sanitizer_tag_line(p, body);
        }
        return;
    }
    if (after_pid_tag(line, '-'))
        return; /* valgrind's own warnings (--N--) */

    const char *trimmed = skip_spaces(line);
    switch (p->state) {
    case ASAN:
        if (sanitizer_frame(p, line) || sanitizer_stack_line(p, trimmed))
            return;
        if (starts_with(trimmed, "READ of size ") || starts_with(trimmed, "WRITE of size ")) {
            /* "READ of size 4 at 0x602000000310 thread T0": the address does not matter */
            size_t keep_len = strcspn(trimmed, "@");
            const char *at = strstr(trimmed, " at ");
            if (at)
                keep_len = (size_t)(at - trimmed);
            char more[64];
            snprintf(more, sizeof more, ": %.*s", (int)keep_len, trimmed);
            append_what(p, more);
        } else if (starts_with(trimmed, "Address ") && strstr(trimmed, "is located in stack")) {
            add_stack(p, "frame"); /* the function whose local variable it was */
        } else if (starts_with(trimmed, "SUMMARY:")) {
            p->state = ASAN_TAIL;
        }
        return; /* descriptions of the address, blank lines */
    case ASAN_TAIL:
        return;
    case LSAN:
        if (sanitizer_frame(p, line) || leak_line(p, trimmed) || *trimmed == '\0')
            return;
        p->cur = NULL;
        p->state = OUTSIDE;
        if (starts_with(trimmed, "SUMMARY:"))
            return;
        break;
    case UBSAN:
        if (sanitizer_frame(p, line) || *trimmed == '\0')
            return;
        end_ubsan(p);
        if (starts_with(trimmed, "SUMMARY: UndefinedBehaviorSanitizer"))
            return;
        break;
    case VALGRIND:
    case OUTSIDE:
        break;
    }

    if (ubsan_line(p, line))
        return;
    size_t len = strlen(line);
    if (len >= 20 && strspn(line, "=") == len)
        return; /* the rule ASan draws above a report */
    keep(p, line);
}

char *course_findings_parse(const char *text, const char *root, struct course_findings *out)
{
    *out = (struct course_findings){0};
    char *rest = NULL;
    size_t restlen = 0;
    char *rootslash = NULL;
    struct parser p = {.out = out};
    if (asprintf(&rootslash, "%s/", root ? root : "") < 0)
        return NULL;
    p.root = rootslash;
    p.rootlen = root && *root ? strlen(rootslash) : 0;
    p.rest = open_memstream(&rest, &restlen);
    char *copy = strdup(text ? text : "");
    if (!p.rest || !copy) {
        if (p.rest)
            fclose(p.rest);
        free(rest);
        free(copy);
        free(rootslash);
        return NULL;
    }

    for (char *line = copy; line && !p.nomem;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (nl || *line)
            parse_line(&p, line);
        line = nl ? nl + 1 : NULL;
    }
    if (p.state == UBSAN)
        end_ubsan(&p);
    free(p.pending_where);
    free(copy);
    free(rootslash);
    if (fclose(p.rest) != 0 || p.nomem) {
        free(rest);
        course_findings_free(out);
        return NULL;
    }
    return rest;
}

int course_frame_is_ours(const struct course_frame *f)
{
    return f->where && f->where[0] != '/' && f->where[0] != '.' && f->where[0] != '<';
}

void course_findings_free(struct course_findings *fs)
{
    for (size_t i = 0; i < fs->n; i++) {
        struct course_finding *f = &fs->f[i];
        free(f->what);
        free(f->test);
        for (size_t s = 0; s < f->nstacks; s++) {
            for (size_t k = 0; k < f->stacks[s].nframes; k++) {
                free(f->stacks[s].frames[k].func);
                free(f->stacks[s].frames[k].where);
            }
            free(f->stacks[s].frames);
        }
        free(f->stacks);
    }
    free(fs->f);
    *fs = (struct course_findings){0};
}
