/* The programs of chapter 08 answer a reader who asks for help, and refuse what they do
 * not know: each demo (chapters/08-offload/NAME.c, built to build/bin/NAME) and each
 * benchmark of chapter 08 (bench/NAME.c whose `//@ 08` line names it, built to
 * build/bin/bench-NAME), once with --help and once with an option no program has
 * (tests/support/programs.h). */
#include "axtest.h"
#include "programs.h"

static Suite *help_suite(void)
{
    static const char *const chapters[] = {"08"};
    return axt_help_suite("08-help", chapters, 1);
}

AXT_MAIN(help_suite)
