/* Exercise 01-line-server: a reference solution. */
#include "line_server.h"

#include "ax/error.h"
#include "ax/net.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

enum { SESSION_OVER = 1 };

/* Sends text and its "\n" in one write, so the reply leaves as one piece. */
static int reply(int fd, const char *text)
{
    char out[LINE_SERVER_MAX_LINE + 1];
    size_t len = strlen(text);
    if (len > LINE_SERVER_MAX_LINE) /* the reader bounds lines; stay safe regardless */
        return -EMSGSIZE;
    memcpy(out, text, len);
    out[len] = '\n';
    return ax_write_all(fd, out, len + 1);
}

static int is_command(const char *line, size_t word_len, const char *command)
{
    return word_len == strlen(command) && strncmp(line, command, word_len) == 0;
}

/* Answers one command line: 0 to go on, SESSION_OVER after QUIT, or a write error. */
static int answer(int fd, char *line)
{
    size_t word_len = strcspn(line, " ");
    char *text = line[word_len] == ' ' ? line + word_len + 1 : line + word_len;

    if (is_command(line, word_len, "ECHO"))
        return reply(fd, text);
    if (is_command(line, word_len, "UPPER")) {
        for (char *c = text; *c != '\0'; c++)
            *c = (char)toupper((unsigned char)*c);
        return reply(fd, text);
    }
    if (is_command(line, word_len, "QUIT")) {
        int err = reply(fd, "bye");
        return err < 0 ? err : SESSION_OVER;
    }
    return reply(fd, "error: unknown command");
}

int line_server_serve(int fd)
{
    struct ax_line_reader reader;
    ax_line_reader_init(&reader, fd, LINE_SERVER_MAX_LINE);
    int result = 0;
    while (result == 0) {
        char *line;
        ssize_t len = ax_read_line(&reader, &line);
        if (len == AX_EOF)
            break; /* the client has finished */
        if (len == -EMSGSIZE)
            result = reply(fd, "error: line too long"); /* the reader skips the rest */
        else if (len < 0)
            result = (int)len;
        else
            result = answer(fd, line);
    }
    ax_line_reader_free(&reader);
    return result == SESSION_OVER ? 0 : result;
}
