//@ 06
/*
 * Cancellation tokens: a tree of "stop" flags that work can watch and wait on.
 *
 * A token says whether the work it is handed to should stop. Tokens form a tree: a
 * root (ax_cancel_new) for a whole program or request, a child (ax_cancel_child) for
 * each piece of work under it. Cancelling a token cancels its whole subtree; it never
 * reaches the token's parent or its siblings, so a part can be stopped without
 * stopping the whole. A child made from a token already cancelled is born cancelled.
 * This is Go's context tree, and tokio-util's CancellationToken and child_token.
 *
 * The ordering rules, which the tests check:
 *  1. ax_cancel runs synchronously. When it returns, every token of the subtree reports
 *     cancelled, and every task waiting on any of them has been woken.
 *  2. Woken means queued: the tasks run later, at the executor's next turn, not inside
 *     ax_cancel. A token has no callbacks, on purpose: ax_cancel runs no user code, so
 *     it is safe to call from anywhere, a task's poll included (even the poll of a task
 *     waiting on that very token, which is then simply polled again).
 *  3. Parents before children: the subtree is marked in pre-order (a token, then each
 *     of its children in the order they were made, each with its own subtree), and a
 *     token's waiting tasks are woken in the order they began to wait. The run queue is
 *     first in, first out, so the tasks run in that order too.
 *  4. Cancelling a cancelled token does nothing; there is no way back.
 *
 * Ownership. A token is a counted heap object, as a struct ax_source is. Whoever
 * creates it holds one reference and gives it back with ax_cancel_release;
 * ax_cancel_ref takes another, for a second owner. Each wait future and each guard
 * holds one while it lives. A child holds a reference to its parent, so a parent lives
 * as long as any child does, and a parent keeps its live children on an intrusive list
 * (the only way to reach them when it is cancelled) without owning them. The other
 * direction, a parent owning its children, would keep every child a long-lived root
 * ever made until the root went. With this one, releasing tokens in any order is safe:
 * the memory of a token goes with its last reference, which first unlinks it from its
 * parent and gives back its reference to the parent.
 *
 * Waiting is a future (struct ax_cancel_wait): it finishes with 0 once its token is
 * cancelled, by ax_cancel on it or on any ancestor, or by a deadline. Waiters sit on the
 * token's intrusive list, as an event's do (ax/event.h): waiting allocates nothing. Raced
 * against other work in ax_select (ax/combine.h), it is how a task stops a wait.
 *
 * A deadline (ax_cancel_at) is a chapter-05 timer in an executor's wheel that cancels
 * the token when it fires. It lives as long as the token: it is removed when the token
 * is cancelled otherwise or when its last reference goes. The executor counts a pending
 * timer as something that can still wake a task, so while a token's deadline is pending
 * the executor waits for it (on virtual time, jumps to it) instead of reporting a
 * deadlock. A token may outlive its executor: freeing the executor disarms the deadline
 * (it will never fire), and the token can still be cancelled and released. Set
 * deadlines after ax_executor_pause_time, which starts a fresh wheel.
 *
 * One thread: tokens belong to the thread that runs their executor.
 */
#ifndef AX_CANCEL_H
#define AX_CANCEL_H

#include "ax/future.h"
#include "ax/list.h"
#include "ax/wheel.h"

#include <stdbool.h>
#include <stdint.h>

// snippet cancel-token-struct
struct ax_cancel_token {
    struct ax_cancel_token *parent; /* holds a reference to it; NULL for a root */
    struct ax_list children; /* live children, oldest first, by sibling */
    struct ax_list sibling; /* in the parent's children */
    struct ax_list waiters; /* struct ax_cancel_wait, by link, in the order they came */
    struct ax_executor *executor; /* whose wheel holds `deadline`, while it is pending */
    struct ax_timer deadline;
    uint32_t refs; /* the creator's, one per ax_cancel_ref, wait, guard and child */
    bool cancelled;
};
// end snippet

/* A new root token in *out, not cancelled. 0 or -ENOMEM. */
int ax_cancel_new(struct ax_cancel_token **out);

/* A new child of parent in *out, cancelled already if parent is. 0 or -ENOMEM. */
int ax_cancel_child(struct ax_cancel_token *parent, struct ax_cancel_token **out);

/* Another reference to token, for a second owner; returns token. */
struct ax_cancel_token *ax_cancel_ref(struct ax_cancel_token *token);

/* Gives a reference back. The last one removes the token's deadline, unlinks it from
 * its parent and gives back its reference to the parent. */
void ax_cancel_release(struct ax_cancel_token *token);

/* Cancels token and its whole subtree, by the rules above. */
void ax_cancel(struct ax_cancel_token *token);

static inline bool ax_cancelled(const struct ax_cancel_token *token)
{
    return token->cancelled;
}

/* Cancels token when executor's clock reaches deadline_ns (at once if it has already).
 * A token that has a deadline keeps the earlier of the two; a cancelled token ignores
 * it. 0, or -EINVAL when the token's deadline is pending in another executor. */
int ax_cancel_at(struct ax_cancel_token *token, struct ax_executor *executor, uint64_t deadline_ns);

/* A future that finishes with 0 once token is cancelled. It holds a reference to the
 * token from init to drop; polled again and again it stays registered once; dropped
 * before the cancel, it leaves nothing behind on the token. */
struct ax_cancel_wait {
    struct ax_future base;
    struct ax_cancel_token *token;
    struct ax_list link; /* in token->waiters while registered */
    struct ax_waker waker;
};

void ax_cancel_wait_init(struct ax_cancel_wait *wait, struct ax_cancel_token *token);

/*
 * A guard cancels its token when it is dropped, unless disarmed first. It is for a scope
 * that starts helpers on a token and must stop them however it is left: every return
 * path calls ax_cancel_guard_drop, and only the path that hands the helpers on (to a
 * caller that will stop them itself) disarms first. Rust gets this from Drop
 * (tokio-util's DropGuard); in C the drop is a call, and the guard keeps the decision to
 * cancel in one place instead of at every return. It holds its own reference.
 */
struct ax_cancel_guard {
    struct ax_cancel_token *token; /* NULL once dropped */
    bool armed;
};

void ax_cancel_guard_init(struct ax_cancel_guard *guard, struct ax_cancel_token *token);
void ax_cancel_guard_disarm(struct ax_cancel_guard *guard);

/* Cancels the token unless disarmed, then gives the guard's reference back. */
void ax_cancel_guard_drop(struct ax_cancel_guard *guard);

#endif
