/*
 * test_plan.c: the cut into work units covers every owned timestep exactly
 * once, reads what each needs, and respects the memory limit.
 */
#include "helpers.h"
#include "internal.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static char *path;

static void
setup(void)
{
    helper_dir_setup();
    path = helper_generate(helper_dir, "plan.h5", 3, 37, 90);
}

static void
teardown(void)
{
    free(path);
    helper_dir_teardown();
}

/* The index of timestep t in slots, or -1. */
static long
find(const size_t *slots, size_t n, size_t t)
{
    for (size_t i = 0; i < n; i++) {
        if (slots[i] == t) {
            return (long)i;
        }
    }
    return -1;
}

static void
check_plan(const struct ms_plan *plan, const struct ms_options *o)
{
    for (size_t s = 0; s < plan->nsamples; s++) {
        const struct ms_plan_sample *ps = &plan->samples[s];
        size_t next_node = 0, next_delta = 0;
        for (size_t i = 0; i < ps->nunits; i++) {
            const struct ms_unit *u = &plan->units[ps->first_unit + i];
            cr_assert_eq(u->sample, s);
            cr_assert_eq(u->node_begin, next_node, "gap in node timesteps");
            cr_assert_eq(u->delta_begin, next_delta, "gap in deltas");
            next_node = u->node_end;
            next_delta = u->delta_end;
            size_t slots[512];
            unsigned char full[512], want_full[512] = {0};
            cr_assert_leq(u->nslots, 512);
            ms__unit_slots(plan, u, slots, full);
            for (size_t k = 1; k < u->nslots; k++) {
                cr_assert_lt(slots[k - 1], slots[k], "slots not sorted");
            }
            for (size_t k = u->node_begin; k < u->node_end; k++) {
                size_t t = ms__timesteps_at(&ps->node_ts, k);
                long at = find(slots, u->nslots, t);
                cr_assert_geq(at, 0, "missing t=%zu", t);
                want_full[at] = 1; /* node timesteps need every row */
            }
            for (size_t k = u->delta_begin; k < u->delta_end; k++) {
                size_t t = ms__timesteps_at(&ps->delta_ts, k);
                cr_assert_geq(find(slots, u->nslots, t), 0);
                cr_assert_geq(find(slots, u->nslots, t + 1), 0);
            }
            for (size_t k = 0; k < u->nslots; k++) {
                cr_assert_eq(full[k], want_full[k], "slot %zu (t=%zu)", k,
                             slots[k]);
            }
            size_t bytes;
            ms__plan_unit_bytes(plan->nrows, u->nslots, ps->shape.N, &bytes);
            cr_assert_leq(bytes, o->memory_limit);
        }
        cr_assert_eq(next_node, ps->node_ts.count);
        cr_assert_eq(next_delta, ps->delta_ts.count);
    }
}

Test(plan, units_cover_each_timestep_once_for_all_limits_and_modes,
     .init = setup, .fini = teardown)
{
    static const uint64_t limits[] = {16 << 10, 24 << 10, 64 << 10,
                                      256 << 20};
    static const unsigned modes[] = {0, 1, 3, 50};
    for (size_t l = 0; l < MS_ARRAY_SIZE(limits); l++) {
        for (size_t m = 0; m < MS_ARRAY_SIZE(modes); m++) {
            struct ms_options o;
            ms_options_init(&o);
            o.memory_limit = limits[l];
            o.max_timesteps = modes[m];
            struct ms_file *f;
            struct ms_plan *plan;
            cr_assert_eq(ms__file_open(path, &f, NULL), 0);
            struct ms_error err;
            cr_assert_eq(ms__plan_create(f, &o, &plan, &err), 0, "%s",
                         err.message);
            check_plan(plan, &o);
            if (limits[l] == 16 << 10 && modes[m] == 0) {
                cr_expect_gt(plan->nunits, 3 * 10, "small limit, many units");
            }
            if (limits[l] == 256 << 20) {
                cr_expect_eq(plan->nunits, 3, "one unit per small sample");
            }
            ms__plan_destroy(plan);
            ms__file_close(f);
        }
    }
}

Test(plan, limit_below_one_timestep_fails_naming_the_option, .init = setup,
     .fini = teardown)
{
    struct ms_options o;
    ms_options_init(&o);
    o.memory_limit = 4096;
    struct ms_file *f;
    struct ms_plan *plan;
    struct ms_error err;
    cr_assert_eq(ms__file_open(path, &f, NULL), 0);
    cr_expect_eq(ms__plan_create(f, &o, &plan, &err), MS_ETOOBIG);
    cr_expect(strstr(err.message, "--memory-limit") != NULL, "%s",
              err.message);
    cr_expect(strstr(err.message, "sample 0") != NULL, "%s", err.message);
    cr_expect(strstr(err.message, "data/0/nodal_data") != NULL);
    ms__file_close(f);
}
