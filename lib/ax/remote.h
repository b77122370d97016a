//@ 08
/*
 * Waking the loop from another thread: the executor's inbox.
 *
 * Until chapter 08 everything ran on the loop's thread, and wakers were built for
 * that: a waker's reference count is a plain integer and waking one links the task
 * into the run queue, which nothing guards. A thread pool breaks that assumption: a
 * worker finishes a job and must put the waiting task back on the run queue, from its
 * own thread. Two ways to allow it:
 *
 *   make every waker thread-safe   tokio's way: a task's state and reference count
 *                                  share one atomic word, and every clone, drop and
 *                                  wake is an atomic read-modify-write, even on the
 *                                  thread that owns the task (about 5 ns each, and a
 *                                  contended cache line when two threads share it).
 *   one thread-safe door           libuv's way (uv_async_send): wakers stay plain and
 *                                  loop-only; another thread hands a small record,
 *                                  struct ax_remote, to the executor's inbox, a list
 *                                  behind a mutex, and the loop takes the records out
 *                                  and acts on them on its own thread.
 *
 * axle takes the second. A single-threaded runtime wakes tasks on its own thread
 * millions of times a second (tasks.switch_ns) and from other threads a few thousand
 * times (once per offloaded job), so only the rare path pays for synchronisation. The
 * price is a rule: a plain ax_waker must never leave the loop's thread; the loop makes
 * a remote handle first (ax_remote_expect, ax_remote_waker_init) and hands that over.
 * tokio needs no such rule because its wakers are Send; C cannot enforce one either
 * way, so the rule is written here and ThreadSanitizer (`make tsan`) checks it.
 *
 * The inbox is made when the executor first expects a remote post: a mutex, the list,
 * and an eventfd registered once with the reactor for reading. A post appends its
 * record under the mutex; only the first post since the loop last drained the inbox
 * writes the eventfd, so a burst of a thousand completions costs one write and one
 * wake-up of epoll_wait (coalescing). The reactor reports the eventfd readable, and the
 * inbox's callback reads it (which resets it), takes the whole list under the mutex and
 * runs each record's `arrived` function, in the order they were posted, on the loop's
 * thread: that is where the record may wake a task, since it is the loop's thread. The
 * mutex is held for a few instructions; tokio's own queue for tasks woken from other
 * threads (its "inject" queue) is also a linked list behind a mutex.
 *
 * The deadlock check. The executor reports -EDEADLK when every task waits and nothing
 * registered can wake one. The eventfd is always watched, so by itself it would hide
 * every deadlock; it is counted with the descriptors registered for good, which wake
 * nobody, and the executor counts instead the posts it expects: ax_remote_expect adds
 * one, and its arrival (or ax_remote_forget) takes it away. While a post is expected
 * the loop waits for it, however idle it looks; with none expected and nothing else to
 * wait for, a stuck task is reported as before. Paused (virtual) time does not jump
 * ahead while a post is expected either, as tokio's paused clock waits for blocking
 * tasks: work on another thread takes real time.
 *
 * Rules:
 *  1. ax_remote_expect, ax_remote_forget, ax_remote_waker_init and the rest of the
 *     executor run on the loop's thread; ax_remote_post (and ax_remote_waker_wake) may
 *     run on any thread, once per expect.
 *  2. A record stays valid from its post until its `arrived` has run: the loop owns it
 *     then. After posting, the posting thread must not touch it again.
 *  3. ax_executor_free waits for every expected post to arrive (work still running on
 *     another thread must finish first, as a tokio runtime's drop waits for its
 *     blocking tasks), then closes the inbox. A post expected and never made would make
 *     it wait forever: forget what will not be posted.
 */
#ifndef AX_REMOTE_H
#define AX_REMOTE_H

#include "ax/future.h"

#include <stddef.h>
#include <stdint.h>

struct ax_executor;

/* One message from another thread to the loop. */
struct ax_remote {
    struct ax_remote *next; /* in the inbox, from its post until the loop takes it */
    void (*arrived)(struct ax_remote *self); /* run on the loop's thread, once per post */
    struct ax_executor *executor;
};

/* On the loop's thread: records that one post of `remote` will come, and what to do
 * when it arrives. The executor stays alive for it (rule 3). 0, or -errno when the
 * inbox could not be made (-EMFILE, -ENOMEM). */
int ax_remote_expect(struct ax_remote *remote, struct ax_executor *executor,
                     void (*arrived)(struct ax_remote *self));

/* From any thread: hands `remote` to its executor's loop, which runs its `arrived`. */
void ax_remote_post(struct ax_remote *remote);

/* On the loop's thread: the post that was expected will not be made after all (the
 * work was withdrawn before any thread started it). */
void ax_remote_forget(struct ax_remote *remote);

/*
 * A remote waker: a one-shot wake another thread may send. Made on the loop's thread
 * from a poll's context (it holds a plain waker, which never leaves the loop); woken
 * once from any thread, which queues the task on its own loop and gives the waker's
 * reference back there.
 */
struct ax_remote_waker {
    struct ax_remote remote;
    struct ax_waker waker;
};

/* On the loop's thread, in a poll: 0 or -errno, as ax_remote_expect. */
int ax_remote_waker_init(struct ax_remote_waker *waker, const struct ax_context *cx);

/* From any thread, once: the task will be polled again on its loop. */
void ax_remote_waker_wake(struct ax_remote_waker *waker);

/* On the loop's thread, instead of a wake that will never be sent. */
void ax_remote_waker_cancel(struct ax_remote_waker *waker);

/* Posts expected and not yet arrived. */
size_t ax_executor_remote_expected(const struct ax_executor *executor);

/* How many times a post has written the inbox's eventfd so far: with coalescing, at
 * most once per drain, however many posts came in between. */
uint64_t ax_executor_remote_signals(struct ax_executor *executor);

#endif
