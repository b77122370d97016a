//@ 04
/*
 * pitfalls: the numbers behind chapter 04's pitfalls, measured by the chapter's own
 * demos. Each demo is run with --tsv (so the book and the demo can never disagree about
 * what was measured) and its result lines are passed on; a demo run several times
 * reports the median of each result.
 *
 *     pitfalls.blocking_*     pitfall-blocking: how late a ticking task gets while
 *                             another task sleeps in a blocking call, and while the
 *                             sleep runs on a helper thread instead (median of 3 runs:
 *                             the second number is scheduling noise, and noisy)
 *     pitfalls.recursion_*    pitfall-recursion: memory per level of an async function
 *                             that recurses by spawning, C stack per level of one that
 *                             recurses by nesting futures, and the loop that costs
 *                             neither
 *     fanin.*                 fan-in: the peak length and size of an unbounded queue
 *                             that ten producers fill faster than one consumer empties
 *                             it, and the same with a bound of 64
 */
#include "bench.h"

enum { MAX_RESULTS = 32, MAX_RUNS = 5 };

struct result {
    char name[96];
    char unit[32];
    double values[MAX_RUNS];
};

/* Runs build/bin/<demo> --tsv `runs` times and reports each result's median. */
static void relay(const char *demo, int runs)
{
    char command[4200], program[128];
    snprintf(program, sizeof program, "%s --tsv", demo);
    bench_sibling(command, sizeof command, program);

    struct result results[MAX_RESULTS];
    int count = 0;
    for (int run = 0; run < runs; run++) {
        fflush(stdout);
        FILE *out = popen(command, "r");
        if (out == NULL)
            bench_fail("cannot run %s", command);
        char line[256];
        for (int i = 0; fgets(line, sizeof line, out) != NULL; i++) {
            struct result r;
            double value;
            if (sscanf(line, "%95[^\t]\t%lf\t%31[^\n]", r.name, &value, r.unit) != 3)
                bench_fail("%s printed a malformed line: %s", demo, line);
            if (run == 0) {
                if (count == MAX_RESULTS)
                    bench_fail("%s printed too many results", demo);
                results[count++] = r;
            }
            if (i >= count || strcmp(results[i].name, r.name) != 0)
                bench_fail("%s printed different results from one run to the next", demo);
            results[i].values[run] = value;
        }
        if (pclose(out) != 0)
            bench_fail("%s failed (run `make` first)", command);
    }
    for (int i = 0; i < count; i++) {
        bench_report(results[i].name, bench_median(results[i].values, (size_t)runs),
                     results[i].unit);
    }
}

int main(int argc, char **argv)
{
    bench_args(
        argc, argv,
        "chapter 04's pitfall demos: blocking the runtime, async recursion, an unbounded queue");
    relay("pitfall-blocking", 3);
    relay("pitfall-recursion", 1);
    relay("fan-in", 1);
    return 0;
}
