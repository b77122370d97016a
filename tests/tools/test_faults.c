/*
 * Tests for libaxfault, the fault-injecting I/O shim (tools/faults).
 *
 * This binary is not preloaded itself: each test runs tools/faults/fault-probe under
 * LD_PRELOAD=libaxfault.so with one AX_FAULTS value and compares what the probe printed
 * with what the shim promises. Both files are found next to this binary ($(O)/lib and
 * $(O)/bin, from /proc/self/exe) unless AX_FAULT_LIB and AX_FAULT_PROBE name them.
 */
#include "axtest.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { PROBE_MAX_ARGS = 32 };

struct probe {
    int status; /* exit status, or 128 + signal */
    char out[8192];
};

/* $(O)/lib/libaxfault.so or $(O)/bin/fault-probe, where this binary is $(O)/tests/tools/x. */
static void built_file(const char *env, const char *rel, char *path, size_t size)
{
    const char *given = getenv(env);
    if (given && *given) {
        snprintf(path, size, "%s", given);
        return;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    ck_assert_msg(n > 0, "readlink /proc/self/exe: errno %d", errno);
    self[n] = '\0';
    for (int up = 0; up < 3; up++) {
        char *slash = strrchr(self, '/');
        ck_assert_msg(slash != NULL, "cannot find the build directory from %s", self);
        *slash = '\0';
    }
    int len = snprintf(path, size, "%s/%s", self, rel);
    ck_assert_msg(len > 0 && (size_t)len < size, "path too long: %s/%s", self, rel);
}

/* Runs the probe with the given steps (NULL-terminated); faults NULL leaves AX_FAULTS unset. */
static void run_probe(struct probe *p, const char *faults, ...)
{
    char lib[PATH_MAX], bin[PATH_MAX], preload[PATH_MAX + 16], spec[256];
    built_file("AX_FAULT_LIB", "lib/libaxfault.so", lib, sizeof lib);
    built_file("AX_FAULT_PROBE", "bin/fault-probe", bin, sizeof bin);
    int len = snprintf(spec, sizeof spec, "AX_FAULTS=%s", faults ? faults : "");
    ck_assert_msg(len > 0 && (size_t)len < sizeof spec, "AX_FAULTS too long");
    len = snprintf(preload, sizeof preload, "LD_PRELOAD=%s", lib);
    ck_assert(len > 0 && (size_t)len < sizeof preload);
    char *envp[] = {preload, faults ? spec : NULL, NULL};

    char *argv[PROBE_MAX_ARGS] = {bin};
    int argc = 1;
    va_list ap;
    va_start(ap, faults);
    for (const char *step; (step = va_arg(ap, const char *)) != NULL;) {
        ck_assert_int_lt(argc, PROBE_MAX_ARGS - 1);
        argv[argc++] = (char *)step;
    }
    va_end(ap);

    int out[2];
    ck_assert_int_eq(pipe(out), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        dup2(out[1], STDERR_FILENO);
        close(out[0]);
        close(out[1]);
        execve(bin, argv, envp);
        fprintf(stderr, "cannot run %s: %s (build it: make %s)\n", bin, strerror(errno), bin);
        _exit(127);
    }
    close(out[1]);
    size_t got = 0;
    for (ssize_t n; got < sizeof p->out - 1; got += (size_t)n) {
        n = read(out[0], p->out + got, sizeof p->out - 1 - got);
        if (n < 0 && errno == EINTR)
            n = 0;
        else if (n <= 0)
            break;
    }
    p->out[got] = '\0';
    close(out[0]);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    p->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The probe ran to the end and printed exactly expected. */
static void expect_output(const struct probe *p, const char *expected)
{
    ck_assert_msg(p->status == 0, "probe exited with %d; it printed:\n%s", p->status, p->out);
    ck_assert_str_eq(p->out, expected);
}

START_TEST(short_write_sends_about_half)
{
    struct probe p;
    run_probe(&p, "write:short/1", "write 1000", "pending", "write 3", NULL);
    expect_output(&p, "write 1000 -> 500\npending 500\nwrite 3 -> 1\n");
}
END_TEST

START_TEST(short_read_takes_about_half_and_leaves_the_rest)
{
    struct probe p;
    run_probe(&p, "read:short/1", "fill 1000", "read 1000", "avail", "read 1", NULL);
    expect_output(&p, "read 1000 -> 500\navail 500\nread 1 -> 1\n");
}
END_TEST

START_TEST(one_byte_request_is_never_shortened)
{
    struct probe p;
    run_probe(&p, "io:short/1", "write 1", "fill 1", "read 1", NULL);
    expect_output(&p, "write 1 -> 1\nread 1 -> 1\n");
}
END_TEST

START_TEST(short_hits_every_nth_call)
{
    struct probe p;
    run_probe(&p, "write:short/2", "write 100", "write 100", "write 100", "write 100", NULL);
    expect_output(&p, "write 100 -> 100\nwrite 100 -> 50\nwrite 100 -> 100\nwrite 100 -> 50\n");
}
END_TEST

START_TEST(default_count_is_every_third_call)
{
    struct probe p;
    run_probe(&p, "out:eintr", "write 10", "send 10", "sendto 10", "write 10", NULL);
    expect_output(&p, "write 10 -> 10\nsend 10 -> 10\nsendto 10 -> EINTR\nwrite 10 -> 10\n");
}
END_TEST

START_TEST(short_covers_every_call_kind)
{
    struct probe p;
    run_probe(&p, "io:short/1", "send 10", "sendto 10", "drain", "fill 20", "recv 10",
              "recvfrom 10", "read-chk 10", "recv-chk 10", NULL);
    expect_output(&p, "send 10 -> 5\nsendto 10 -> 5\nrecv 10 -> 5\nrecvfrom 10 -> 5\n"
                      "read-chk 10 -> 5\nrecv-chk 10 -> 5\n");
}
END_TEST

START_TEST(short_vector_io_ends_mid_iovec)
{
    struct probe p;
    run_probe(&p, "io:short/1", "writev 100,100", "writev 100,100,100", "drain", "fill 200",
              "readv 100,100", NULL);
    expect_output(&p, "writev 100,100 -> 99\nwritev 100,100,100 -> 150\nreadv 100,100 -> 99\n");
}
END_TEST

START_TEST(short_leaves_datagram_sockets_alone)
{
    struct probe p;
    run_probe(&p, "io:short/1", "dgram", "write 100", "fill 100", "read 100", NULL);
    expect_output(&p, "write 100 -> 100\nread 100 -> 100\n");
}
END_TEST

START_TEST(eintr_fails_before_moving_any_byte)
{
    struct probe p;
    run_probe(&p, "io:eintr/2", "fill 8", "read 4", "read 4", "avail", "write 4", "pending", NULL);
    expect_output(&p, "read 4 -> 4\nread 4 -> EINTR\navail 4\nwrite 4 -> 4\npending 4\n");
    run_probe(&p, "write:eintr/1", "write 4", "pending", NULL);
    expect_output(&p, "write 4 -> EINTR\npending 0\n");
}
END_TEST

START_TEST(eagain_only_on_nonblocking_calls)
{
    struct probe p;
    run_probe(&p, "io:eagain/1", "write 10", "fill 10", "read 10", "fill 10", "recv-dontwait 10",
              "nonblock", "write 10", "read 10", "avail", NULL);
    expect_output(&p, "write 10 -> 10\nread 10 -> 10\nrecv-dontwait 10 -> EAGAIN\n"
                      "write 10 -> EAGAIN\nread 10 -> EAGAIN\navail 10\n");
}
END_TEST

START_TEST(eagain_spares_edge_triggered_fds)
{
    struct probe p;
    run_probe(&p, "io:eagain/1", "nonblock", "edge", "fill 10", "read 10", "write 10", NULL);
    expect_output(&p, "read 10 -> 10\nwrite 10 -> 10\n");
}
END_TEST

START_TEST(short_spares_reads_of_edge_triggered_fds_but_not_writes)
{
    struct probe p;
    run_probe(&p, "io:short/1", "edge", "fill 10", "read 10", "write 10", NULL);
    expect_output(&p, "read 10 -> 10\nwrite 10 -> 5\n");
}
END_TEST

START_TEST(reset_persists_until_close)
{
    struct probe p;
    run_probe(&p, "read:reset/2", "fill 10", "read 5", "read 5", "recv 5", "write 5", "send 5",
              "sigpipes", "avail", "reopen", "fill 5", "read 5", "write 5", NULL);
    expect_output(&p, "read 5 -> 5\nread 5 -> ECONNRESET\nrecv 5 -> ECONNRESET\n"
                      "write 5 -> EPIPE\nsend 5 -> EPIPE\nsigpipes 2\navail 5\n"
                      "read 5 -> 5\nwrite 5 -> 5\n");
}
END_TEST

START_TEST(pipes_and_files_are_untouched)
{
    struct probe p;
    run_probe(&p, "io:eintr/1,io:short/1", "pipe-write 100", "pipe-read 100", "file-write 100",
              "file-read 100", "write 10", NULL);
    expect_output(&p, "pipe-write 100 -> 100\npipe-read 100 -> 100\nfile-write 100 -> 100\n"
                      "file-read 100 -> 100\nwrite 10 -> EINTR\n");
}
END_TEST

START_TEST(counts_are_exact_across_threads)
{
    struct probe p;
    run_probe(&p, "write:short/2", "threads 8,2000", NULL);
    expect_output(&p, "threads 8,2000 -> 8000 short\n");
}
END_TEST

START_TEST(unset_or_empty_is_pass_through)
{
    struct probe p;
    run_probe(&p, NULL, "write 1000", "fill 1000", "read 1000", NULL);
    expect_output(&p, "write 1000 -> 1000\nread 1000 -> 1000\n");
    run_probe(&p, "", "write 1000", "fill 1000", "read 1000", NULL);
    expect_output(&p, "write 1000 -> 1000\nread 1000 -> 1000\n");
}
END_TEST

static const struct {
    const char *spec, *message;
} malformed[] = {
    {"read:xyz", "AX_FAULTS: unknown fault 'xyz' in rule 'read:xyz'\n"},
    {"io:short/2,reed:eintr", "AX_FAULTS: unknown call 'reed' in rule 'reed:eintr'\n"},
    {"io:short/0", "AX_FAULTS: bad count '0' in rule 'io:short/0' (want N >= 1)\n"},
    {"io:short/2x", "AX_FAULTS: bad count '2x' in rule 'io:short/2x' (want N >= 1)\n"},
    {"io", "AX_FAULTS: missing ':' in rule 'io' (want CALLS:FAULT[/N])\n"},
    {"io:short,", "AX_FAULTS: empty rule in 'io:short,' (want CALLS:FAULT[/N],...)\n"},
};

START_TEST(malformed_spec_exits_2_with_a_clear_message)
{
    struct probe p;
    run_probe(&p, malformed[_i].spec, "write 10", NULL);
    ck_assert_msg(p.status == 2, "AX_FAULTS=%s: exit %d, output:\n%s", malformed[_i].spec, p.status,
                  p.out);
    ck_assert_str_eq(p.out, malformed[_i].message);
}
END_TEST

static Suite *faults_suite(void)
{
    Suite *s = suite_create("faults");
    TCase *tc = axt_tcase("shim");
    tcase_add_test(tc, short_write_sends_about_half);
    tcase_add_test(tc, short_read_takes_about_half_and_leaves_the_rest);
    tcase_add_test(tc, one_byte_request_is_never_shortened);
    tcase_add_test(tc, short_hits_every_nth_call);
    tcase_add_test(tc, default_count_is_every_third_call);
    tcase_add_test(tc, short_covers_every_call_kind);
    tcase_add_test(tc, short_vector_io_ends_mid_iovec);
    tcase_add_test(tc, short_leaves_datagram_sockets_alone);
    tcase_add_test(tc, eintr_fails_before_moving_any_byte);
    tcase_add_test(tc, eagain_only_on_nonblocking_calls);
    tcase_add_test(tc, eagain_spares_edge_triggered_fds);
    tcase_add_test(tc, short_spares_reads_of_edge_triggered_fds_but_not_writes);
    tcase_add_test(tc, reset_persists_until_close);
    tcase_add_test(tc, pipes_and_files_are_untouched);
    tcase_add_test(tc, counts_are_exact_across_threads);
    tcase_add_test(tc, unset_or_empty_is_pass_through);
    tcase_add_loop_test(tc, malformed_spec_exits_2_with_a_clear_message, 0,
                        (int)(sizeof malformed / sizeof malformed[0]));
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(faults_suite)
