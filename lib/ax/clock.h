//@ 01
/*
 * The one clock the runtime reads.
 *
 * Everything that needs the time (timeouts, timers, deadlines, benchmarks) calls
 * ax_now_ns(), a monotonic clock in nanoseconds: it never jumps when the wall clock is
 * set, so a deadline computed as "now + 500 ms" stays 500 ms away. Tests replace the
 * clock with their own (ax_clock_set) so that timer code runs on virtual time
 * instead of sleeping.
 */
#ifndef AX_CLOCK_H
#define AX_CLOCK_H

#include <stdint.h>

#define AX_NS_PER_US UINT64_C(1000)
#define AX_NS_PER_MS UINT64_C(1000000)
#define AX_NS_PER_S  UINT64_C(1000000000)

/* Nanoseconds on the monotonic clock (or on the clock a test installed). */
uint64_t ax_now_ns(void);

/* Replaces the clock: ax_now_ns() returns now(ctx) from here on. NULL restores
 * CLOCK_MONOTONIC. Not thread-safe: install a clock before starting threads. */
typedef uint64_t (*ax_clock_fn)(void *ctx);
void ax_clock_set(ax_clock_fn now, void *ctx);

/* Sleeps the calling thread for ns nanoseconds of real time, resuming after signals. */
void ax_sleep_ns(uint64_t ns);

#endif
