//@ 01
/* A chapter's demo programs, run as a reader runs them; see programs.h. */
#include "programs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { RUN_MS = 5000, MAX_DEMOS = 32 };

static int compare_names(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* chapters/nn-slug; false when the chapter has no folder yet (one begun in lib/ and
 * bench/ before its text and its demos). */
static bool chapter_dir(const char *nn, char *path, size_t size)
{
    DIR *chapters = opendir("chapters");
    ck_assert_msg(chapters != NULL,
                  "cannot open chapters/: run the suite from the repository root");
    size_t len = strlen(nn);
    path[0] = '\0';
    for (struct dirent *e; (e = readdir(chapters)) != NULL;) {
        if (strncmp(e->d_name, nn, len) == 0 && e->d_name[len] == '-') {
            snprintf(path, size, "chapters/%s", e->d_name);
            break;
        }
    }
    closedir(chapters);
    return path[0] != '\0';
}

int axt_chapter_demos(const char *nn, char names[][AXT_NAME_MAX], int max)
{
    char path[512];
    if (!chapter_dir(nn, path, sizeof path))
        return 0;
    DIR *dir = opendir(path);
    ck_assert_msg(dir != NULL, "cannot open %s", path);
    int count = 0;
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (len < 3 || strcmp(e->d_name + len - 2, ".c") != 0)
            continue;
        ck_assert_msg(count < max, "%s has more than %d demos", path, max);
        ck_assert_uint_lt(len - 2, AXT_NAME_MAX);
        snprintf(names[count], AXT_NAME_MAX, "%.*s", (int)(len - 2), e->d_name);
        count++;
    }
    closedir(dir);
    qsort(names, (size_t)count, sizeof names[0], compare_names);
    return count;
}

/* The chapter's demos, then its benchmarks (bench/NAME.c whose `//@ nn` line names the
 * chapter, built to build/bin/bench-NAME). A snapshot has no such lines (tools/snapshot
 * removes them) and holds only the benchmarks of its chapter and earlier ones, so there a
 * benchmark is run for every chapter: a chapter whose only programs are benchmarks would
 * otherwise have none. */
static int chapter_programs(const char *nn, char names[][AXT_NAME_MAX], int max)
{
    int count = axt_chapter_demos(nn, names, max);
    DIR *dir = opendir("bench");
    ck_assert_msg(dir != NULL, "cannot open bench/: run the suite from the repository root");
    char marker[16];
    snprintf(marker, sizeof marker, "//@ %s\n", nn);
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (len < 3 || strcmp(e->d_name + len - 2, ".c") != 0)
            continue;
        char path[512], first[64] = "";
        snprintf(path, sizeof path, "bench/%s", e->d_name);
        FILE *f = fopen(path, "r");
        bool read = f != NULL && fgets(first, sizeof first, f) != NULL;
        bool ours = read && (!strcmp(first, marker) || strncmp(first, "//@ ", 4) != 0);
        if (f != NULL)
            fclose(f);
        if (!ours)
            continue;
        ck_assert_msg(count < max, "chapter %s has more than %d programs", nn, max);
        snprintf(names[count++], AXT_NAME_MAX, "bench-%.*s", (int)(len - 2), e->d_name);
    }
    closedir(dir);
    return count;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* build/bin/NAME, beside the build tree this suite runs from. */
static void program_path(const char *name, char *path, size_t size)
{
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    ck_assert_msg(len > 0, "cannot read /proc/self/exe");
    self[len] = '\0';
    snprintf(path, size, "%s/../bin/%s", dirname(dirname(self)), name);
    ck_assert_msg(access(path, X_OK) == 0, "%s is missing: run `make` first", path);
}

void axt_run_program(const char *name, const char *arg, struct axt_exit *result)
{
    char path[4200];
    program_path(name, path, sizeof path);
    int out[2], err[2];
    ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
    ck_assert_int_eq(pipe2(err, O_CLOEXEC), 0);
    pid_t parent = getpid();
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int null = open("/dev/null", O_RDONLY);
        if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(out[1], STDOUT_FILENO) < 0 ||
            dup2(err[1], STDERR_FILENO) < 0)
            _exit(127);
        char *argv[] = {path, (char *)arg, NULL};
        execv(path, argv);
        _exit(127);
    }
    close(out[1]);
    close(err[1]);

    /* Read both streams until both end: a program that fills one pipe while we wait on
     * the other would never finish. */
    const char *scale = getenv("CK_TIMEOUT_MULTIPLIER");
    long long limit_ms = RUN_MS * (scale != NULL && atoi(scale) > 0 ? atoi(scale) : 1);
    long long deadline = now_ms() + limit_ms;
    struct pollfd fds[2] = {{.fd = out[0], .events = POLLIN}, {.fd = err[0], .events = POLLIN}};
    char *bufs[2] = {result->out, result->err};
    size_t got[2] = {0, 0};
    bool timed_out = false;
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        int ready = poll(fds, 2, (int)left);
        if (ready < 0 && errno == EINTR)
            continue;
        ck_assert_int_ge(ready, 0);
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || fds[i].revents == 0)
                continue;
            char scratch[512];
            size_t room = AXT_OUTPUT_MAX - 1 - got[i];
            ssize_t n = read(fds[i].fd, room > 0 ? bufs[i] + got[i] : scratch,
                             room > 0 ? room : sizeof scratch);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
            } else if (room > 0) {
                got[i] += (size_t)n;
            }
        }
    }
    result->out[got[0]] = '\0';
    result->err[got[1]] = '\0';
    for (int i = 0; i < 2; i++) {
        if (fds[i].fd >= 0)
            close(fds[i].fd);
    }
    if (timed_out)
        kill(pid, SIGKILL);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        ck_assert_int_eq(errno, EINTR);
    ck_assert_msg(!timed_out, "`%s %s` was still running after %lld ms", name, arg, limit_ms);
    result->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* "usage: NAME" followed by the end of the text, a space or a newline. */
static bool starts_with_usage(const char *text, const char *name)
{
    char prefix[AXT_NAME_MAX + 16];
    snprintf(prefix, sizeof prefix, "usage: %.*s", AXT_NAME_MAX - 1, name);
    size_t len = strlen(prefix);
    return strncmp(text, prefix, len) == 0 &&
           (text[len] == '\0' || text[len] == ' ' || text[len] == '\n');
}

void axt_assert_demos_answer_help(const char *nn)
{
    char names[MAX_DEMOS][AXT_NAME_MAX];
    int count = chapter_programs(nn, names, MAX_DEMOS);
    ck_assert_msg(count > 0, "chapter %s has no programs", nn);
    for (int i = 0; i < count; i++) {
        static struct axt_exit run;
        axt_run_program(names[i], "--help", &run);
        ck_assert_msg(run.status == 0, "`%s --help` exited with %d, not 0; stderr: %s", names[i],
                      run.status, axt_quoted(run.err));
        ck_assert_msg(starts_with_usage(run.out, names[i]),
                      "`%s --help` printed %s on stdout, not \"usage: %s ...\"", names[i],
                      axt_quoted(run.out), names[i]);
        ck_assert_msg(run.err[0] == '\0', "`%s --help` wrote %s on stderr", names[i],
                      axt_quoted(run.err));
    }
}

void axt_assert_demos_refuse_unknown_options(const char *nn)
{
    char names[MAX_DEMOS][AXT_NAME_MAX];
    int count = chapter_programs(nn, names, MAX_DEMOS);
    ck_assert_msg(count > 0, "chapter %s has no programs", nn);
    for (int i = 0; i < count; i++) {
        static struct axt_exit run;
        axt_run_program(names[i], "--no-such-option", &run);
        ck_assert_msg(run.status == 2, "`%s --no-such-option` exited with %d, not 2; stderr: %s",
                      names[i], run.status, axt_quoted(run.err));
        char usage[AXT_NAME_MAX + 16];
        snprintf(usage, sizeof usage, "usage: %.*s", AXT_NAME_MAX - 1, names[i]);
        ck_assert_msg(strstr(run.err, usage) != NULL,
                      "`%s --no-such-option` printed no \"%s\" on stderr: %s", names[i], usage,
                      axt_quoted(run.err));
        ck_assert_msg(run.out[0] == '\0', "`%s --no-such-option` wrote %s on stdout", names[i],
                      axt_quoted(run.out));
    }
}

/* The chapters axt_help_suite was given: the tests below run in the same process. */
static const char *const *help_chapters;
static int help_count;

START_TEST(every_program_prints_its_usage_on_stdout_and_exits_0_for_help)
{
    for (int i = 0; i < help_count; i++)
        axt_assert_demos_answer_help(help_chapters[i]);
}
END_TEST

START_TEST(every_program_refuses_an_unknown_option_with_its_usage_on_stderr_and_exit_2)
{
    for (int i = 0; i < help_count; i++)
        axt_assert_demos_refuse_unknown_options(help_chapters[i]);
}
END_TEST

Suite *axt_help_suite(const char *name, const char *const *chapters, int count)
{
    help_chapters = chapters;
    help_count = count;
    Suite *s = suite_create(name);
    TCase *tc = axt_tcase("help");
    tcase_add_test(tc, every_program_prints_its_usage_on_stdout_and_exits_0_for_help);
    tcase_add_test(tc, every_program_refuses_an_unknown_option_with_its_usage_on_stderr_and_exit_2);
    suite_add_tcase(s, tc);
    return s;
}
