/* Learning-rate schedules against hand-computed values (tolerance 1e-6
 * relative: the schedule computes in double and rounds once to float). */
#include "nncl/train.h"
#include "test_util.h"

static void expect_lr(const nncl_schedule *s, double epoch, int epochs, double want)
{
    float got = nncl_schedule_lr(s, epoch, epochs);
    ck_assert_msg(fabs(got - want) <= 1e-6 * fabs(want) + 1e-12, "kind %d, epoch %g of %d: lr %.9g, expected %.9g",
                  (int)s->kind, epoch, epochs, (double)got, want);
}

START_TEST(schedules_match_hand_computed_values)
{
    nncl_schedule c = {.kind = NNCL_SCHEDULE_CONSTANT, .lr = 0.1f};
    expect_lr(&c, 0.0, 10, 0.1f);
    expect_lr(&c, 9.5, 10, 0.1f);

    nncl_schedule st = {.kind = NNCL_SCHEDULE_STEP, .lr = 0.1f, .step_epochs = 5, .gamma = 0.5f};
    expect_lr(&st, 4.99, 20, 0.1f);
    expect_lr(&st, 5.0, 20, 0.05f);
    expect_lr(&st, 12.0, 20, 0.025f);

    /* cosine over the run's epochs: full rate at the start, half at the
     * middle, zero at the end */
    nncl_schedule cs = {.kind = NNCL_SCHEDULE_COSINE, .lr = 0.2f};
    expect_lr(&cs, 0.0, 8, 0.2f);
    expect_lr(&cs, 4.0, 8, 0.1f);
    expect_lr(&cs, 2.0, 8, 0.2f * 0.5 * (1 + cos(acos(-1.0) / 4)));
    expect_lr(&cs, 8.0, 8, 0.0);

    /* warm-up: a linear ramp, then the cosine over the epochs after it */
    cs.warmup_epochs = 2.0f;
    expect_lr(&cs, 1.0, 10, 0.2f * (1.0 + 1e-3) / 2.0);
    expect_lr(&cs, 2.0, 10, 0.2f);
    expect_lr(&cs, 6.0, 10, 0.1f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("schedule");
    TCase *tc = tcase_create("schedule");
    tcase_add_test(tc, schedules_match_hand_computed_values);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
