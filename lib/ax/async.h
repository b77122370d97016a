//@ 04
/*
 * async/await for C: stackless coroutines written over a switch statement.
 *
 * A future's poll function is a state machine: where it stopped, what it was waiting
 * for. Written by hand, every wait point becomes a state in an enum and a case in a
 * switch. These macros let the compiler number the states instead: AX_AWAIT records
 * the current line in the coroutine, returns AX_PENDING, and the next poll's
 * AX_ASYNC_BEGIN jumps straight back to that line (a `case __LINE__:` label placed
 * inside the macro). The function reads top to bottom, like async code in Rust.
 *
 * The rules, because this is a trick and not a language feature:
 *  - Locals do not survive an AX_AWAIT: the function returns there. Everything that
 *    must live across a wait goes in the future's struct.
 *  - No `switch` of your own may enclose an AX_AWAIT (its case labels would collide),
 *    and two AX_AWAITs cannot share a line.
 *  - AX_ASYNC_END's result expression stands outside the switch: it may name the
 *    future's fields, not a local declared inside the coroutine's body.
 *  - The awaited future lives in the struct too, is initialised right before the
 *    AX_AWAIT, and is dropped by it when it completes; the drop function calls
 *    AX_ASYNC_DROP so one abandoned mid-wait is dropped as well.
 */
#ifndef AX_ASYNC_H
#define AX_ASYNC_H

#include "ax/future.h"

#include <errno.h>

struct ax_coroutine {
    int resume_at; /* 0: start; a line number: inside that AX_AWAIT; -1: done */
    struct ax_future *awaiting; /* the future being awaited, if any */
};

#define AX_ASYNC_BEGIN(co)                                                                         \
    switch ((co)->resume_at) {                                                                     \
    case -1:                                                                                       \
        return -EINVAL; /* polled after it finished: rule 2 of ax/future.h */                      \
    case 0:

/* Awaits `future` (a struct ax_future *) and stores its result in `out`. */
#define AX_AWAIT(co, cx, future, out)                                                              \
    do {                                                                                           \
        (co)->awaiting = (future);                                                                 \
        (co)->resume_at = __LINE__;                                                                \
        __attribute__((fallthrough)); /* on into the label the next poll resumes at */             \
    case __LINE__:                                                                                 \
        if (((out) = ax_poll((co)->awaiting, (cx))) == AX_PENDING)                                 \
            return AX_PENDING;                                                                     \
        ax_future_drop((co)->awaiting);                                                            \
        (co)->awaiting = NULL;                                                                     \
    } while (0)

/* Ends the coroutine with `result`. */
#define AX_ASYNC_RETURN(co, result)                                                                \
    do {                                                                                           \
        (co)->resume_at = -1;                                                                      \
        return (result);                                                                           \
    } while (0)

#define AX_ASYNC_END(co, result)                                                                   \
    }                                                                                              \
    AX_ASYNC_RETURN(co, result)

/* For a drop function: drops the future the coroutine was waiting on, if any. */
#define AX_ASYNC_DROP(co)                                                                          \
    do {                                                                                           \
        if ((co)->awaiting != NULL)                                                                \
            ax_future_drop((co)->awaiting);                                                        \
        (co)->awaiting = NULL;                                                                     \
    } while (0)

#endif
