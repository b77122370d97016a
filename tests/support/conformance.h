//@ 02
/*
 * The backend conformance suite: one set of tests every reactor backend must pass.
 *
 * tests/02-select runs it on select, chapter 03 on epoll, and the poll backend
 * exercise on the reader's own backend. Each test drives a real reactor over real
 * sockets, so a backend passes only if dispatch through it keeps the reactor's rules
 * (see lib/ax/reactor.h).
 */
#ifndef CONFORMANCE_H
#define CONFORMANCE_H

#include "axtest.h"
#include "ax/backend.h"

/* Adds the conformance test case for `backend` to the suite. */
void axt_add_backend_conformance(Suite *suite, const struct ax_backend *backend);

#endif
