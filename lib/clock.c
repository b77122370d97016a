//@ 01
/* The monotonic clock and its test hook; see ax/clock.h. */
#include "ax/clock.h"

#include <errno.h>
#include <stddef.h>
#include <time.h>

static ax_clock_fn clock_override;
static void *clock_ctx;

static uint64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * AX_NS_PER_S + (uint64_t)ts.tv_nsec;
}

uint64_t ax_now_ns(void)
{
    return clock_override ? clock_override(clock_ctx) : monotonic_ns();
}

void ax_clock_set(ax_clock_fn now, void *ctx)
{
    clock_override = now;
    clock_ctx = ctx;
}

void ax_sleep_ns(uint64_t ns)
{
    struct timespec left = {.tv_sec = (time_t)(ns / AX_NS_PER_S),
                            .tv_nsec = (long)(ns % AX_NS_PER_S)};
    while (nanosleep(&left, &left) != 0 && errno == EINTR)
        ;
}
