/* The programs of chapter 07 answer a reader who asks for help, and refuse what they do
 * not know. Each demo (chapters/NN-slug/NAME.c, built to build/bin/NAME) and each
 * benchmark of chapter 07 (bench/NAME.c, built to build/bin/bench-NAME) is run once
 * with --help, which must print its usage on standard output and exit 0 with nothing on
 * standard error, and once with an option no program has, which must print the usage on
 * standard error and exit 2 (tests/support/programs.h). */
#include "axtest.h"
#include "programs.h"

static Suite *help_suite(void)
{
    static const char *const chapters[] = {"07"};
    return axt_help_suite("07-help", chapters, 1);
}

AXT_MAIN(help_suite)
