//@ 05
/*
 * What the suites that run on virtual time share (ax/timer.h): an executor whose clock
 * is paused at a known time, and a way to let every task queued so far run once.
 */
#ifndef AXT_VIRTUAL_TIME_H
#define AXT_VIRTUAL_TIME_H

#include "ax/task.h"

#include <stdint.h>

/* Where paused time starts: 1,000 s, far from zero so that "a second ago" exists. */
#define AXT_START ((uint64_t)1000 * 1000 * 1000 * 1000)

/* A new executor with its clock paused at AXT_START; the test fails if there is none. */
struct ax_executor *axt_paused_executor(void);

/* Polls once every task queued now: spawns one more task, which finishes at its first
 * poll, and runs the executor until it has. */
void axt_run_turn(struct ax_executor *executor);

#endif
