/*
 * Exercise 07-barrier: a barrier for tasks, built on the wait queue.
 *
 * A barrier holds back a group of N tasks until all N have reached it, then lets them
 * all go at once: the phases of a simulation, a batch whose workers must all have
 * loaded their part before any starts, a test that lines up its clients before they
 * connect. Go has sync.WaitGroup for the one-way version, Rust has tokio::sync::Barrier,
 * pthreads has pthread_barrier_t, which blocks threads; this one parks futures.
 *
 * The rules:
 *  1. A wait arrives at the barrier at its first poll. Until `parties` waits have
 *     arrived, each one returns AX_PENDING; the one that arrives last ends the round:
 *     it finishes at once with 1 (it is the round's leader, tokio's is_leader), and
 *     every other wait of that round finishes with 0 at its next poll.
 *  2. The barrier is reusable: the next wait to arrive after a round ended starts the
 *     next round. A wait of the ended round that has not been polled again yet is
 *     still released: it finishes with 0, it does not join the new round.
 *  3. A poll that finds its round still open (a spurious wake) only waits again, in
 *     its place: being polled twice is not arriving twice.
 *  4. A wait dropped before its round ended leaves it: it no longer counts, so the
 *     round needs one more arrival. Dropped after its round ended, it changes nothing.
 *  5. A barrier of 0 or 1 parties lets every wait through at once, as its leader (1).
 * Nothing here allocates: the waiter lives in the wait future (ax/waitq.h).
 */
#ifndef BARRIER_H
#define BARRIER_H

#include "ax/future.h"
#include "ax/waitq.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct barrier {
    size_t parties; /* the waits a round needs */
    size_t arrived; /* in the round now open */
    uint64_t round; /* counts the rounds ended so far */
    struct ax_waitq waiters; /* the waits of the open round */
};

void barrier_init(struct barrier *b, size_t parties);

/* Finishes with 1 for the round's leader, 0 for the others (rule 1). */
struct barrier_wait {
    struct ax_future base;
    struct barrier *barrier;
    struct ax_waiter waiter;
    bool arrived; /* counted in barrier->arrived, or in a round that has ended */
    uint64_t round; /* the round it arrived in */
};

void barrier_wait_init(struct barrier_wait *w, struct barrier *b);

#endif
