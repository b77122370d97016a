//@ 05
/* The suites' virtual-time helpers; see virtual_time.h. */
#include "virtual_time.h"
#include "axtest.h"
#include "ax/timer.h"

struct ax_executor *axt_paused_executor(void)
{
    struct ax_executor *executor;
    ck_assert_int_eq(ax_executor_new(&executor, NULL), 0);
    ax_executor_pause_time(executor, AXT_START);
    return executor;
}

static ax_result finish_at_once(struct ax_future *self, struct ax_context *cx)
{
    (void)self, (void)cx;
    return 0;
}

static const struct ax_future_ops at_once_ops = {.poll = finish_at_once};

void axt_run_turn(struct ax_executor *executor)
{
    struct ax_future *last = ax_task_alloc(executor, sizeof *last);
    ck_assert_ptr_nonnull(last);
    *last = (struct ax_future){&at_once_ops};
    ck_assert_int_eq(ax_block_on(executor, ax_task_spawn(last)), 0);
}
