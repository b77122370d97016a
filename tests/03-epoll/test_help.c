/* Chapter 03's demos, the load generator among them, answer a reader who asks for help,
 * and refuse what they do not know.
 *
 * Each demo of chapter 03 (chapters/NN-slug/NAME.c, built to build/bin/NAME) is run once with
 * --help, which must print its usage on standard output and exit 0 with nothing on
 * standard error, and once with an option no program has, which must print the usage
 * on standard error and exit 2 (tests/support/programs.h). */
#include "axtest.h"
#include "programs.h"

static const char *const chapters[] = {"03"};

START_TEST(every_demo_prints_its_usage_on_stdout_and_exits_0_for_help)
{
    for (size_t i = 0; i < sizeof chapters / sizeof chapters[0]; i++)
        axt_assert_demos_answer_help(chapters[i]);
}
END_TEST

START_TEST(every_demo_refuses_an_unknown_option_with_its_usage_on_stderr_and_exit_2)
{
    for (size_t i = 0; i < sizeof chapters / sizeof chapters[0]; i++)
        axt_assert_demos_refuse_unknown_options(chapters[i]);
}
END_TEST

static Suite *help_suite(void)
{
    Suite *s = suite_create("03-help");
    TCase *tc = axt_tcase("help");
    tcase_add_test(tc, every_demo_prints_its_usage_on_stdout_and_exits_0_for_help);
    tcase_add_test(tc, every_demo_refuses_an_unknown_option_with_its_usage_on_stderr_and_exit_2);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(help_suite)
