/*
 * read-file: reads a whole file with blocking read() calls and says what it cost.
 *
 *     build/bin/read-file PATH
 *
 * This is the first row of the chapter's table, "read from disk", done the blocking
 * way. It prints how many bytes arrived, in how many read() calls, how long that took,
 * and how many times the thread was put to sleep waiting (its voluntary context
 * switches): zero when the file sits in the page cache, many when the disk had to be
 * asked. Run it twice on a large file that has not been read lately to see both.
 *
 * A regular file is always "ready" as far as the kernel's readiness APIs go:
 * O_NONBLOCK does nothing for it and epoll refuses it. Chapter 08 returns to this.
 */
#include "ax/clock.h"
#include "ax/error.h"
#include "ax/net.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* Times this thread gave up the CPU to wait for something. */
static long times_blocked(void)
{
    struct rusage usage;
    getrusage(RUSAGE_THREAD, &usage);
    return usage.ru_nvcsw;
}

static void usage(FILE *to, int status)
{
    fprintf(to, "usage: read-file PATH\n"
                "  reads the file to its end and reports the bytes, the read() calls, the\n"
                "  time taken and how often the thread slept\n");
    exit(status);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--help") == 0)
        usage(stdout, 0);
    if (argc != 2 || argv[1][0] == '-')
        usage(stderr, 2);
    const char *path = argv[1];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "read-file: open %s: %s\n", path, ax_strerror(ax__errno()));
        return 1;
    }

    // snippet read-file-loop
    static char buf[64 * 1024];
    unsigned long long total = 0, calls = 0;
    long blocked_before = times_blocked();
    uint64_t start = ax_now_ns();
    for (;;) {
        ssize_t got = ax_read_some(fd, buf, sizeof buf); /* may sleep until the disk answers */
        calls++;
        if (got == 0)
            break; /* end of file */
        if (got < 0) {
            fprintf(stderr, "read-file: read %s: %s\n", path, ax_strerror((int)got));
            ax_close(fd);
            return 1;
        }
        total += (unsigned long long)got;
    }
    double ms = (double)(ax_now_ns() - start) / (double)AX_NS_PER_MS;
    long blocked = times_blocked() - blocked_before;
    // end snippet
    ax_close(fd);

    printf("read %llu bytes from %s in %llu read() calls, %.3f ms; the thread blocked %ld times\n",
           total, path, calls, ms, blocked);
    return 0;
}
