/*
 * Exercise 07-pipeline: three stages joined by bounded channels.
 *
 * A pipeline splits work into stages that run at the same time: a crawler fetches
 * pages, parses them, stores the links; a log shipper reads, compresses, sends. Each
 * stage takes values from the channel before it and puts results into the channel
 * after it. Run at once, the stages overlap, and the pipeline goes as fast as its
 * slowest stage, not as fast as the sum of them. Joined by bounded channels, a slow
 * stage makes the ones before it wait: however fast the source, the values in flight
 * never pass what the channels hold plus one in each stage's hands, so memory is
 * bounded. (Joined by unbounded queues, the source would run ahead and pile up every
 * value it makes in front of the slowest stage: the queue-growth demo.)
 *
 * Here the source makes 1, 2, ..., count; the middle stage applies `transform`; the
 * sink stores what arrives in out[]. Each stage spends its cost_ns on every value, on
 * the executor's clock, as real work would. The stages are three futures of one
 * pipeline future, polled together by an ax_join_all (ax/combine.h), so that dropping
 * the pipeline drops all three at once, and the two channels can be freed right after.
 *
 * The rules:
 *  1. Every value the source makes arrives at the sink, transformed, in order.
 *  2. An end travels downstream: when the source is done it closes the first channel;
 *     the middle stage, told AX_EOF, closes the second; the sink, told AX_EOF, ends.
 *  3. A stop travels upstream: a sink given a limit closes the second channel once it
 *     has taken `limit` values; the middle stage, whose send is refused (-EPIPE),
 *     closes the first; the source, refused too, stops making values. Nothing waits
 *     forever for a stage that has gone.
 *  4. The pipeline finishes with the number of values the sink took, once all three
 *     stages have finished; -EINVAL when capacity is 0; -ENOMEM. Dropped before that,
 *     it drops its stages and frees its channels: nothing is left behind.
 */
#ifndef PIPELINE_H
#define PIPELINE_H

#include "ax/async.h"
#include "ax/chan.h"
#include "ax/combine.h"
#include "ax/timer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { PIPELINE_SOURCE, PIPELINE_MIDDLE, PIPELINE_SINK, PIPELINE_STAGES };

struct pipeline_config {
    uint64_t count; /* the source makes 1, 2, ..., count */
    size_t capacity; /* of each of the two channels */
    uint64_t cost_ns[PIPELINE_STAGES]; /* what one value costs each stage */
    uint64_t (*transform)(uint64_t value); /* the middle stage's work */
    uint64_t limit; /* the sink stops after this many values; 0: no limit */
};

struct pipeline;

/* One stage: a coroutine over the pipeline's channels. in and out are NULL where the
 * stage has none (the source has no in, the sink no out). */
struct pipeline_stage {
    struct ax_future base;
    struct ax_coroutine co;
    struct pipeline *p;
    struct ax_chan *in, *out;
    uint64_t value; /* the value in the stage's hands */
    ax_result rc;
    struct ax_chan_recv recv;
    struct ax_chan_send send;
    struct ax_sleep work;
};

struct pipeline {
    struct ax_future base;
    struct pipeline_config config;
    uint64_t *out; /* room for config.count values */
    /* what the stages count, for whoever watches */
    uint64_t produced; /* values the source has put into the first channel */
    uint64_t sunk; /* values the sink has stored */
    uint64_t max_in_flight; /* the most produced - sunk has been */
    /* the machinery, from the first poll on */
    bool started;
    struct ax_chan *chan[2]; /* source -> middle, middle -> sink */
    struct pipeline_stage stage[PIPELINE_STAGES];
    struct ax_future *stages[PIPELINE_STAGES];
    ax_result results[PIPELINE_STAGES];
    bool finished[PIPELINE_STAGES];
    struct ax_join_all join;
};

/* Prepares a pipeline; out has room for config->count values and outlives it. */
void pipeline_init(struct pipeline *p, const struct pipeline_config *config, uint64_t *out);

#endif
