/*
 * chapters: lists the book's chapters from the folders under chapters/ (see
 * chapters.h).
 */
#include "chapters.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* "03-epoll" -> "03"; "appendix-a-cheat-sheet" -> "A"; anything else -> NULL. */
static char *key_of(const char *folder)
{
    if (isdigit((unsigned char)folder[0]) && isdigit((unsigned char)folder[1]) && folder[2] == '-')
        return strndup(folder, 2);
    if (strncmp(folder, "appendix-", 9) == 0 && isalpha((unsigned char)folder[9]) &&
        (folder[10] == '-' || folder[10] == '\0')) {
        char key[2] = {(char)toupper((unsigned char)folder[9]), '\0'};
        return strdup(key);
    }
    return NULL;
}

/* The first "# Title {#id}" line of path, without the hashes and the attributes. */
static char *title_of(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char line[1024];
    char *title = NULL;
    while (!title && fgets(line, sizeof line, f)) {
        if (line[0] != '#' || line[1] != ' ')
            continue;
        char *start = line + 2;
        char *end = start + strcspn(start, "\r\n");
        char *attrs = strstr(start, " {");
        if (attrs && attrs < end)
            end = attrs;
        while (end > start && end[-1] == ' ')
            end--;
        title = strndup(start, (size_t)(end - start));
    }
    fclose(f);
    return title;
}

/* Numbered chapters first, by number; then the appendices, by letter. */
static int by_key(const void *a, const void *b)
{
    const struct course_chapter *x = a, *y = b;
    bool xn = isdigit((unsigned char)x->key[0]), yn = isdigit((unsigned char)y->key[0]);
    if (xn != yn)
        return xn ? -1 : 1;
    return strcmp(x->key, y->key);
}

static int add_chapter(struct course_chapters *c, const char *dir, const char *folder)
{
    char *key = key_of(folder);
    if (!key)
        return 0;
    char *doc = NULL;
    if (asprintf(&doc, "%s/%s/%s.md", dir, folder, folder) < 0) {
        free(key);
        return -ENOMEM;
    }
    if (access(doc, F_OK) < 0) { /* a folder without its text: not written yet */
        free(doc);
        free(key);
        return 0;
    }
    char *title = title_of(doc);
    free(doc);
    struct course_chapter *grown = realloc(c->ch, (c->n + 1) * sizeof *grown);
    if (!grown) {
        free(key);
        free(title);
        return -ENOMEM;
    }
    c->ch = grown;
    c->ch[c->n] = (struct course_chapter){.key = key, .folder = strdup(folder), .title = title};
    if (!c->ch[c->n].title)
        c->ch[c->n].title = strdup(folder);
    c->n++;
    return c->ch[c->n - 1].folder && c->ch[c->n - 1].title ? 0 : -ENOMEM;
}

/* book.md's `chapters: ["00", "01", ...]`: the numbers without a written chapter. */
static int read_plan(struct course_chapters *c, const char *book)
{
    FILE *f = fopen(book, "r");
    if (!f)
        return 0;
    char line[1024];
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        if (strncmp(line, "chapters:", 9) != 0)
            continue;
        for (char *s = line + 9; *s && rc == 0; s++) {
            if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
                continue;
            char key[3] = {s[0], s[1], '\0'};
            s++;
            bool written = false;
            for (size_t i = 0; i < c->n; i++)
                written = written || strcmp(c->ch[i].key, key) == 0;
            if (written)
                continue;
            char **grown = realloc(c->planned, (c->nplanned + 1) * sizeof *grown);
            if (!grown || !(grown[c->nplanned] = strdup(key))) {
                if (grown)
                    c->planned = grown;
                rc = -ENOMEM;
                break;
            }
            c->planned = grown;
            c->nplanned++;
        }
        break;
    }
    fclose(f);
    return rc;
}

int course_chapters_load(const char *dir, const char *book, struct course_chapters *out)
{
    *out = (struct course_chapters){0};
    DIR *d = opendir(dir);
    int rc = 0;
    if (d) {
        struct dirent *e;
        while (rc == 0 && (e = readdir(d)) != NULL)
            if (e->d_name[0] != '.')
                rc = add_chapter(out, dir, e->d_name);
        closedir(d);
    }
    if (rc == 0 && out->n > 1)
        qsort(out->ch, out->n, sizeof *out->ch, by_key);
    if (rc == 0)
        rc = read_plan(out, book);
    if (rc < 0)
        course_chapters_free(out);
    return rc;
}

const struct course_chapter *course_chapters_find(const struct course_chapters *c, const char *name)
{
    char key[3] = "";
    size_t len = strlen(name);
    if (len == 1 && isdigit((unsigned char)name[0]))
        snprintf(key, sizeof key, "0%c", name[0]);
    else if (len == 2 && isdigit((unsigned char)name[0]) && isdigit((unsigned char)name[1]))
        snprintf(key, sizeof key, "%s", name);
    else if (len == 1 && isalpha((unsigned char)name[0]))
        snprintf(key, sizeof key, "%c", toupper((unsigned char)name[0]));
    else if (len == 10 && strncasecmp(name, "appendix-", 9) == 0)
        snprintf(key, sizeof key, "%c", toupper((unsigned char)name[9]));

    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->ch[i].key, key) == 0 || strcmp(c->ch[i].folder, name) == 0)
            return &c->ch[i];
    return NULL;
}

void course_chapters_free(struct course_chapters *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->ch[i].key);
        free(c->ch[i].folder);
        free(c->ch[i].title);
    }
    free(c->ch);
    for (size_t i = 0; i < c->nplanned; i++)
        free(c->planned[i]);
    free(c->planned);
    *c = (struct course_chapters){0};
}
