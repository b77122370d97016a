/*
 * three-waits: the four steps of asynchronous I/O, with nothing but the kernel's API.
 *
 *     build/bin/three-waits [--ms N]      (--help prints the usage)
 *
 * Chapter 00. Three slow workers each answer one question after N ms (default 200).
 * A worker is a child process (`sleep; echo`) whose answer arrives on a pipe, so
 * waiting for it is real I/O: read() on a pipe with nothing in it yet.
 *
 * The program asks all three twice. First blocking: ask, read (the thread sleeps
 * until the answer comes), then the next; about 3 × N ms. Then async, on the same
 * single thread: ask all three, try each read without waiting (initiate), hand each
 * pipe to epoll (register), go back to the loop (yield), and when epoll says a pipe
 * is readable, read it (resume); about N ms. Nothing here is axle yet: this is the
 * pattern the runtime will package, written out by hand once.
 *
 * Ownership: each struct job owns its pipe (a FILE from popen) until job_finish().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

enum { JOBS = 3, ANSWER_MAX = 64 };

struct job {
    const char *name;
    FILE *pipe; /* the worker's standard output */
    int fd; /* fileno(pipe): what we read and what epoll watches */
    char answer[ANSWER_MAX]; /* what has arrived so far */
    size_t got;
};

enum step { JOB_PENDING, JOB_DONE, JOB_FAILED };

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Starts a worker that answers after delay_ms. The work now runs without us. */
static int job_ask(struct job *job, int delay_ms)
{
    char command[128];
    snprintf(command, sizeof command, "sleep %d.%03d; echo '%s: answer'", delay_ms / 1000,
             delay_ms % 1000, job->name);
    job->pipe = popen(command, "r");
    if (job->pipe == NULL) {
        perror("popen");
        return -1;
    }
    job->fd = fileno(job->pipe);
    job->got = 0;
    job->answer[0] = '\0';
    return 0;
}

static void job_finish(struct job *job)
{
    job->answer[strcspn(job->answer, "\n")] = '\0';
    pclose(job->pipe);
}

// snippet try-read
/* Reads whatever has arrived. On a non-blocking fd, "nothing yet" is not a wait but
 * an answer: read() fails at once with EAGAIN. */
static enum step job_try_read(struct job *job)
{
    for (;;) {
        ssize_t n = read(job->fd, job->answer + job->got, sizeof job->answer - 1 - job->got);
        if (n > 0) {
            job->got += (size_t)n;
            job->answer[job->got] = '\0';
        } else if (n == 0 || job->got == sizeof job->answer - 1) {
            return JOB_DONE; /* end of stream: the worker has said everything */
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return JOB_PENDING; /* not here yet: come back when the fd is readable */
        } else if (errno != EINTR) {
            perror("read");
            return JOB_FAILED;
        }
    }
}
// end snippet

// snippet blocking
static void run_blocking(struct job jobs[], int delay_ms)
{
    for (int i = 0; i < JOBS; i++) {
        if (job_ask(&jobs[i], delay_ms) < 0)
            exit(EXIT_FAILURE);
        /* The fd is blocking, so read() puts the whole thread to sleep until the
         * worker answers. Nothing else in the program can happen meanwhile. */
        if (job_try_read(&jobs[i]) == JOB_FAILED)
            exit(EXIT_FAILURE);
        job_finish(&jobs[i]);
    }
}
// end snippet

static void run_async(struct job jobs[], int delay_ms)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) {
        perror("epoll_create1");
        exit(EXIT_FAILURE);
    }
    int pending = 0;
    // snippet initiate-register
    for (int i = 0; i < JOBS; i++) {
        if (job_ask(&jobs[i], delay_ms) < 0)
            exit(EXIT_FAILURE);
        /* 1. Initiate: make the fd non-blocking and try. */
        fcntl(jobs[i].fd, F_SETFL, fcntl(jobs[i].fd, F_GETFL) | O_NONBLOCK);
        if (job_try_read(&jobs[i]) != JOB_PENDING) {
            job_finish(&jobs[i]);
            continue;
        }
        /* 2. Register: tell the kernel what to watch, and what to hand back when it
         * fires: a pointer to the job, so we know whose answer arrived. */
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &jobs[i]};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, jobs[i].fd, &ev) < 0) {
            perror("epoll_ctl");
            exit(EXIT_FAILURE);
        }
        pending++;
    }
    // end snippet

    // snippet yield-resume
    /* 3. Yield: nothing left to do until something is ready, so wait for all of it
     * at once. In a real program this loop is the runtime, and the code above
     * returns to it instead of sitting inline. */
    while (pending > 0) {
        struct epoll_event ready[JOBS];
        int n = epoll_wait(ep, ready, JOBS, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            perror("epoll_wait");
            exit(EXIT_FAILURE);
        }
        for (int i = 0; i < n; i++) {
            /* 4. Resume: the job whose fd is ready carries on where it left off. */
            struct job *job = ready[i].data.ptr;
            if (job_try_read(job) == JOB_PENDING)
                continue; /* woken early: keep waiting */
            epoll_ctl(ep, EPOLL_CTL_DEL, job->fd, NULL);
            job_finish(job);
            pending--;
        }
    }
    // end snippet
    close(ep);
}

static void report(const char *how, struct job jobs[], double started)
{
    printf("%-9s %d answers in %4.0f ms:", how, JOBS, now_ms() - started);
    for (int i = 0; i < JOBS; i++)
        printf("  [%s]", jobs[i].answer);
    printf("\n");
}

static void usage(FILE *to, int status)
{
    fprintf(to, "usage: three-waits [--ms N]\n"
                "  asks three slow workers, blocking and then async; each answers after\n"
                "  N ms (0..60000, default 200)\n");
    exit(status);
}

int main(int argc, char **argv)
{
    int delay_ms = 200;
    if (argc == 2 && strcmp(argv[1], "--help") == 0) {
        usage(stdout, 0);
    } else if (argc == 3 && strcmp(argv[1], "--ms") == 0) {
        char *end;
        long ms = strtol(argv[2], &end, 10);
        if (argv[2][0] == '\0' || *end != '\0' || ms < 0 || ms > 60000)
            usage(stderr, 2);
        delay_ms = (int)ms;
    } else if (argc != 1) {
        usage(stderr, 2);
    }
    struct job jobs[JOBS] = {{.name = "A"}, {.name = "B"}, {.name = "C"}};

    double started = now_ms();
    run_blocking(jobs, delay_ms);
    report("blocking:", jobs, started);

    started = now_ms();
    run_async(jobs, delay_ms);
    report("async:", jobs, started);
    return EXIT_SUCCESS;
}
