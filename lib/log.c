//@ 01
/* Logging to standard error; see ax/log.h. */
#include "ax/log.h"
#include "ax/clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const level_names[] = {"debug", "info", "warn", "error"};

static pthread_once_t log_once = PTHREAD_ONCE_INIT;
static enum ax_log_level log_threshold = AX_LOG_INFO;
static uint64_t log_start_ns;

static void log_setup(void)
{
    const char *env = getenv("AX_LOG");
    for (int level = AX_LOG_DEBUG; env && level <= AX_LOG_ERROR; level++)
        if (strcmp(env, level_names[level]) == 0)
            log_threshold = (enum ax_log_level)level;
    log_start_ns = ax_now_ns();
}

void ax_log(enum ax_log_level level, const char *fmt, ...)
{
    int saved_errno = errno; /* logging must not disturb a caller's errno */
    pthread_once(&log_once, log_setup);
    if (level < log_threshold) {
        errno = saved_errno;
        return;
    }
    /* One fprintf per line: stdio locks the stream, so threads never interleave. */
    char message[1024];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof message, fmt, args);
    va_end(args);
    double seconds = (double)(ax_now_ns() - log_start_ns) / 1e9;
    fprintf(stderr, "%s %7.3f %-5s %s\n", program_invocation_short_name, seconds,
            level_names[level], message);
    errno = saved_errno;
}
