//@ 06
/*
 * Structured scopes: a task runs children and does not end before they do.
 *
 * This is the nursery of Trio and libdill, Go's errgroup with its context, tokio's
 * JoinSet with abort-on-drop. A parent makes a scope, spawns children into it, then
 * waits on it (struct ax_scope_wait). The wait finishes only when every child has
 * finished, with 0 if every child returned a result >= 0, otherwise with the first
 * error in the order the children finished. Work never outlives the code that started
 * it, so a parent that stops, for any reason, stops its children too.
 *
 * The rules, which the tests check:
 *  1. A scope owns a cancellation token, a child of the parent token it was made with
 *     (a root when that is NULL). Children get it with ax_scope_token and pass it down
 *     (to a scope of their own, say): cancelling the parent token cancels the scope's,
 *     and every token made under it.
 *  2. The scope closes once, for the first of these: a child returns a negative result
 *     (that result is the scope's error); ax_scope_cancel; its token is cancelled (by
 *     a parent token or a deadline, seen when the wait is next polled while a child
 *     still runs: a token cancelled after the last child changes nothing); the wait
 *     is dropped before it finished; the creator releases the scope while children run.
 *     Closing cancels the token and aborts every child still running (ax_task_abort),
 *     each exactly once, in the order they were spawned. Every cause but a child's
 *     error makes the scope's error -ECANCELED. A closed scope keeps its first error:
 *     the -ECANCELED of the aborted children, or any later failure, does not replace it.
 *  3. What an aborted child sees is ax_task_abort's rule: parked, it is dropped at
 *     once, inside the call that closed the scope; queued, at its turn, without a
 *     poll (so a child that was woken by the token may be dropped before it sees it);
 *     being polled (the scope closed from inside that very poll), when the poll
 *     returns, unless it returned a result, which then stands.
 *  4. Children finish in any order; their results are kept by spawn order, the first
 *     child being 0: ax_scope_result. A child that was aborted reports -ECANCELED.
 *  5. Spawning into a closed scope refuses with -ECANCELED, as does -ENOMEM when the
 *     scope cannot record the child: in both cases the refused future is still
 *     started, aborted and detached, so the executor drops it, unpolled, at its next
 *     turn (or ax_executor_free does). The caller never drops it itself: on every
 *     path, once the future is handed to ax_scope_spawn, the executor drops it.
 *
 * How children report back. A child is the caller's own task, built in ax_task_alloc
 * storage as for ax_task_spawn, so the scope cannot wrap it. Each child gets a watcher,
 * a small task of the scope's that joins it (struct ax_join): the child's end wakes its
 * watcher, and the watcher records the result in the scope. The watcher is spawned
 * just before its child and parks on the join at its first poll, so watchers are
 * woken, and so report, in the order the children finished: that is what makes "the
 * first error" the first in time and not the first in spawn order. A scope with n
 * children counts 2n tasks in ax_executor_tasks while they run.
 *
 * Ownership. A scope is a counted heap object, like a struct ax_source. The creator
 * holds one reference (given back with ax_scope_release, which closes the scope if
 * children still run: dropping a scope stops its work, as tokio's JoinSet does); each
 * watcher holds one until its child has finished and been recorded; a wait holds one
 * from init to drop. So nothing a child or a watcher does can reach freed scope memory,
 * whatever order the parent, its wait and the children go in. The wait is a future of
 * its own, and the scope is not one, because the two have different lives: the wait
 * lives in the parent's future and its drop means "the parent was cancelled", while the
 * scope must live on until the last aborted child has gone, which may be turns later.
 *
 * A deadline (ax_scope_cancel_at) is one on the token (ax_cancel_at): when it fires,
 * the children that watch the token are woken and the wait, woken too, closes the scope
 * and aborts the rest. Set it after ax_executor_pause_time. A scope may outlive its
 * executor: freeing the executor drops every child (each is recorded as -ECANCELED)
 * and disarms the deadline, and the creator then releases the scope as usual.
 *
 * One thread: a scope belongs to the thread that runs its executor.
 */
#ifndef AX_SCOPE_H
#define AX_SCOPE_H

#include "ax/cancel.h"
#include "ax/future.h"

#include <stddef.h>
#include <stdint.h>

struct ax_executor;
struct ax_scope;

/* A new scope in *out for children on executor, its token a child of parent (a root
 * when parent is NULL). 0 or -ENOMEM. */
int ax_scope_new(struct ax_scope **out, struct ax_executor *executor,
                 struct ax_cancel_token *parent);

/* Gives the creator's reference back; closes the scope first if a child still runs. */
void ax_scope_release(struct ax_scope *scope);

/* The scope's token, for its children to watch and pass down. It lives as long as the
 * scope does: take a reference (ax_cancel_ref) to keep it longer. */
struct ax_cancel_token *ax_scope_token(struct ax_scope *scope);

/* Starts the task whose storage (ax_task_alloc) holds future as a child of the scope.
 * 0, or -ECANCELED when the scope is closed, or -ENOMEM; see rule 5 for who drops the
 * future then (the executor, always). Callable from anywhere on the executor's thread,
 * a child's own poll included. */
int ax_scope_spawn(struct ax_scope *scope, struct ax_future *future);

/* Closes the scope from outside (rule 2): the wait then finishes, once every child
 * has, with -ECANCELED unless a child's error came first. Closing twice does nothing. */
void ax_scope_cancel(struct ax_scope *scope);

/* Cancels the scope's token when executor's clock reaches deadline_ns; by ax_cancel_at. */
int ax_scope_cancel_at(struct ax_scope *scope, uint64_t deadline_ns);

/* How many children were spawned (refused ones not counted). */
size_t ax_scope_children(const struct ax_scope *scope);

/* The result of the child spawned index-th (from 0): AX_PENDING while it runs,
 * -EINVAL for an index never given out. */
ax_result ax_scope_result(const struct ax_scope *scope, size_t index);

/* A future that finishes when every child of the scope has: 0, or the scope's first
 * error. One wait per scope at a time. Dropped before it finished, it closes the scope
 * (rule 2), so nothing the parent started outlives it. Holds a reference to the scope. */
struct ax_scope_wait {
    struct ax_future base;
    struct ax_scope *scope;
    struct ax_cancel_wait cancelled; /* wakes the wait when the token is cancelled */
    bool finished;
};

void ax_scope_wait_init(struct ax_scope_wait *wait, struct ax_scope *scope);

#endif
