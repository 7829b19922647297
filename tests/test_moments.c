/*
 * test_moments.c: mergeable moments against closed forms and a long-double
 * two-pass reference.
 */
#include "helpers.h"
#include "pass/pass.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void
expect_close(double got, long double want, double tol, const char *what)
{
    long double err = fabsl((long double)got - want);
    cr_expect(err <= tol, "%s: got %.17g, want %.17Lg (error %Lg > %g)", what,
              got, want, err, tol);
}

Test(moments, empty_has_count_zero_and_std_zero)
{
    struct ms_moments m;
    ms__moments_of(&m, NULL, 0);
    cr_expect_eq(m.count, 0);
    cr_expect_eq(ms__moments_std(&m), 0.0);
    cr_expect(ms__moments_finite(&m));
}

Test(moments, single_value_has_its_mean_and_zero_std)
{
    double x = -3.25;
    struct ms_moments m;
    ms__moments_of(&m, &x, 1);
    cr_expect_eq(m.count, 1);
    cr_expect_eq(ms__moments_mean(&m), -3.25);
    cr_expect_eq(ms__moments_std(&m), 0.0);
    cr_expect_eq(m.min, -3.25);
    cr_expect_eq(m.max, -3.25);
}

Test(moments, constant_data_is_exact)
{
    static const double values[] = {0.0, 1.0, -7.5, 1e7 + 0.125, 1e-300};
    double x[1000];
    for (size_t v = 0; v < MS_ARRAY_SIZE(values); v++) {
        for (size_t i = 0; i < 1000; i++) {
            x[i] = values[v];
        }
        struct ms_moments m;
        ms__moments_of(&m, x, 1000);
        cr_expect_eq(ms__moments_mean(&m), values[v], "value %g", values[v]);
        cr_expect_eq(ms__moments_std(&m), 0.0, "value %g", values[v]);
    }
}

Test(moments, arithmetic_sequences_match_closed_form)
{
    /* 1, 2, ..., n: mean (n + 1) / 2, population variance (n^2 - 1) / 12,
     * shifted by an offset. */
    static const struct {
        size_t n;
        double offset;
    } cases[] = {{2, 0}, {3, 0}, {10, 0}, {1001, 0}, {4096, 1e6},
                 {777, -1e7}, {100000, 1e7}};
    for (size_t c = 0; c < MS_ARRAY_SIZE(cases); c++) {
        size_t n = cases[c].n;
        double *x = malloc(n * sizeof(*x));
        for (size_t i = 0; i < n; i++) {
            x[i] = cases[c].offset + (double)(i + 1);
        }
        struct ms_moments m;
        ms__moments_of(&m, x, n);
        long double mean = cases[c].offset + (n + 1) / 2.0L;
        long double std = sqrtl(((long double)n * n - 1) / 12.0L);
        expect_close(ms__moments_mean(&m), mean, 1e-10 * (double)std, "mean");
        expect_close(ms__moments_std(&m), std, 1e-12 * (double)std, "std");
        cr_expect_eq(m.min, x[0]);
        cr_expect_eq(m.max, x[n - 1]);
        free(x);
    }
}

/* Data near 1e7 with a spread near 10, with fractional parts. */
static void
offset_data(double *x, size_t n, unsigned seed)
{
    srand(seed);
    for (size_t i = 0; i < n; i++) {
        double u = (double)rand() / RAND_MAX;
        x[i] = 1e7 + 10.0 * (2 * u - 1) * 1.7320508 + 0.001 * sin(i);
    }
}

Test(moments, large_offset_block_matches_long_double_reference)
{
    size_t n = 50000;
    double *x = malloc(n * sizeof(*x));
    offset_data(x, n, 42);
    struct ms_moments m;
    ms__moments_of(&m, x, n);
    long double std = ref_std(x, n);
    expect_close(ms__moments_mean(&m), ref_mean(x, n), 1e-10 * (double)std,
                 "mean");
    expect_close(ms__moments_std(&m), std, 1e-10 * (double)std, "std");
    free(x);
}

Test(moments, large_offset_many_merged_blocks_stays_exact)
{
    /* 20000 blocks of 7: the double-double mean must not drift. */
    size_t blocks = 20000, len = 7, n = blocks * len;
    double *x = malloc(n * sizeof(*x));
    offset_data(x, n, 7);
    struct ms_moments total, part;
    ms__moments_init(&total);
    for (size_t b = 0; b < blocks; b++) {
        ms__moments_of(&part, x + b * len, len);
        ms__moments_merge(&total, &part);
    }
    long double std = ref_std(x, n), mean = ref_mean(x, n);
    cr_expect_eq(total.count, n);
    /* Within the bound of docs/spec.md, and in fact the correctly rounded double: no
     * further from the exact mean than half the spacing of doubles there. */
    double half_ulp = (nextafter((double)mean, INFINITY) - (double)mean) / 2;
    expect_close(ms__moments_mean(&total), mean, 1e-10 * (double)std, "mean");
    expect_close(ms__moments_mean(&total), mean, half_ulp * 1.001, "rounding");
    expect_close(ms__moments_std(&total), std, 1e-12 * (double)std, "std");
    free(x);
}

Test(moments, merge_equals_whole_for_every_split_point)
{
    double x[64];
    for (size_t i = 0; i < 64; i++) {
        x[i] = 1000.0 + sin(0.7 * i) * (i % 5) + 0.1 * i;
    }
    struct ms_moments whole;
    ms__moments_of(&whole, x, 64);
    for (size_t k = 0; k <= 64; k++) {
        struct ms_moments a, b;
        ms__moments_of(&a, x, k);
        ms__moments_of(&b, x + k, 64 - k);
        ms__moments_merge(&a, &b);
        double std = ms__moments_std(&whole);
        cr_expect_eq(a.count, 64, "split %zu", k);
        cr_expect(fabs(ms__moments_mean(&a) - ms__moments_mean(&whole)) <=
                      1e-13 * std,
                  "split %zu mean", k);
        cr_expect(fabs(ms__moments_std(&a) - std) <= 1e-13 * std,
                  "split %zu std", k);
        cr_expect_eq(a.min, whole.min, "split %zu", k);
        cr_expect_eq(a.max, whole.max, "split %zu", k);
    }
}

Test(moments, merge_with_empty_is_identity_both_ways)
{
    double x[3] = {1, 2, 4};
    struct ms_moments a, empty, b;
    ms__moments_of(&a, x, 3);
    ms__moments_init(&empty);
    b = a;
    ms__moments_merge(&b, &empty);
    cr_expect_eq(memcmp(&a, &b, sizeof(a)), 0);
    ms__moments_merge(&empty, &a);
    cr_expect_eq(memcmp(&a, &empty, sizeof(a)), 0);
}

Test(moments, merge_with_itself_doubles_count_keeps_mean_and_std)
{
    double x[4] = {1, 2, 3, 10};
    struct ms_moments a;
    ms__moments_of(&a, x, 4);
    double mean = ms__moments_mean(&a), std = ms__moments_std(&a);
    ms__moments_merge(&a, &a);
    cr_expect_eq(a.count, 8);
    cr_expect_eq(ms__moments_mean(&a), mean);
    cr_expect(fabs(ms__moments_std(&a) - std) < 1e-15 * std);
}

Test(moments, symmetrize_gives_zero_mean_and_closed_form_std)
{
    /* {1, 2, 3} with {-1, -2, -3}: mean 0, variance (1+4+9)/3. */
    double x[3] = {1, 2, 3};
    struct ms_moments m;
    ms__moments_of(&m, x, 3);
    ms__moments_symmetrize(&m);
    cr_expect_eq(m.count, 6);
    cr_expect_eq(ms__moments_mean(&m), 0.0);
    cr_expect(fabs(ms__moments_std(&m) - sqrt(14.0 / 3.0)) < 1e-15);
    cr_expect_eq(m.min, -3.0);
    cr_expect_eq(m.max, 3.0);
}

Test(moments, symmetrized_zeros_are_positive_zeros)
{
    /* r_z of a flat mesh: every value 0 (or -0); min and max print as 0,
     * never as -0. */
    double x[3] = {0.0, -0.0, 0.0};
    struct ms_moments m;
    ms__moments_of(&m, x, 3);
    ms__moments_symmetrize(&m);
    cr_expect_eq(m.min, 0.0);
    cr_expect_eq(m.max, 0.0);
    cr_expect(!signbit(m.min) && !signbit(m.max), "%g %g", m.min, m.max);
}

Test(moments, nonfinite_input_makes_moments_nonfinite)
{
    double x[4] = {1, NAN, 3, 4}, y[3] = {1, INFINITY, 2};
    struct ms_moments m;
    ms__moments_of(&m, x, 4);
    cr_expect_not(ms__moments_finite(&m));
    ms__moments_of(&m, y, 3);
    cr_expect_not(ms__moments_finite(&m));
}

Test(moments, far_first_value_still_gives_exact_moments)
{
    /* The first value sits ~1000 standard deviations from the mean, so the
     * one-pass shifted sums would cancel: the block must be summed again
     * around its mean.  Compared with the long-double reference. */
    size_t n = 100000;
    double *x = malloc(n * sizeof(*x));
    offset_data(x, n, 3);
    x[0] = 1e7 + 1e4;
    struct ms_moments m;
    ms__moments_of(&m, x, n);
    long double std = ref_std(x, n);
    expect_close(ms__moments_mean(&m), ref_mean(x, n), 1e-10 * (double)std,
                 "mean");
    expect_close(ms__moments_std(&m), std, 1e-13 * (double)std, "std");
    /* And for differences: y - x with the same far first value. */
    double *y = malloc(n * sizeof(*y));
    for (size_t i = 0; i < n; i++) {
        y[i] = 2 * x[i];
    }
    ms__moments_of_difference(&m, (struct ms_row){NULL, x},
                              (struct ms_row){NULL, y}, n);
    expect_close(ms__moments_std(&m), std, 1e-13 * (double)std, "diff std");
    free(x);
    free(y);
}

Test(moments, squares_overflowing_around_the_first_value_are_summed_again)
{
    /* x0 = 3.2e153 then 99 zeros: around x0 the squares sum to 99 x0^2,
     * past double's 1.8e308, but around the mean x0 / 100 they sum to
     * 0.99 x0^2 (closed form), which fits: the std is x0 sqrt(0.0099). */
    double x[100] = {3.2e153};
    struct ms_moments m;
    ms__moments_of(&m, x, 100);
    cr_expect(ms__moments_finite(&m));
    long double x0 = 3.2e153L;
    expect_close(ms__moments_mean(&m), x0 / 100, 1e-15 * 3.2e151, "mean");
    expect_close(ms__moments_std(&m), x0 * sqrtl(0.0099L), 1e-13 * 3.2e152,
                 "std");
}

Test(moments, squares_overflowing_around_the_mean_are_not_finite)
{
    /* +-1e200 alternating: mean 0, but the squares around it sum to
     * 4 x 1e400: the moments say they overflowed, never a std of 0. */
    double x[4] = {1e200, -1e200, 1e200, -1e200};
    struct ms_moments m;
    ms__moments_of(&m, x, 4);
    cr_expect_not(ms__moments_finite(&m), "std %g", ms__moments_std(&m));
    /* And from sums whose m2 is inf - inf while the mean fits. */
    ms__moments_from_sums(&m, 2, 0.0, 1e300, INFINITY, 0.0, 1e300);
    cr_expect(isfinite(ms__moments_mean(&m)));
    cr_expect_not(ms__moments_finite(&m), "m2 %g", m.m2);
}

Test(moments, float_rows_give_the_same_bits_as_their_doubles)
{
    /* Widening float32 to double is exact, so moments computed from float
     * blocks must equal those of the same values stored as double. */
    static const size_t sizes[] = {0, 1, 3, 4, 5, 17, 1000, 4099};
    for (size_t c = 0; c < MS_ARRAY_SIZE(sizes); c++) {
        size_t n = sizes[c];
        float *xf = malloc((n + 1) * sizeof(*xf));
        float *yf = malloc((n + 1) * sizeof(*yf));
        double *xd = malloc((n + 1) * sizeof(*xd));
        double *yd = malloc((n + 1) * sizeof(*yd));
        for (size_t i = 0; i < n; i++) {
            xf[i] = (float)(1e4 + sin(0.3 * i) * 7.1);
            yf[i] = (float)(1e4 + cos(0.2 * i) * 3.3);
            xd[i] = xf[i];
            yd[i] = yf[i];
        }
        struct ms_moments a, b;
        ms__moments_of_row(&a, (struct ms_row){xf, NULL}, n);
        ms__moments_of_row(&b, (struct ms_row){NULL, xd}, n);
        cr_expect_eq(memcmp(&a, &b, sizeof(a)), 0, "n=%zu", n);
        ms__moments_of_difference(&a, (struct ms_row){xf, NULL},
                                  (struct ms_row){yf, NULL}, n);
        ms__moments_of_difference(&b, (struct ms_row){NULL, xd},
                                  (struct ms_row){NULL, yd}, n);
        cr_expect_eq(memcmp(&a, &b, sizeof(a)), 0, "difference n=%zu", n);
        free(xf);
        free(yf);
        free(xd);
        free(yd);
    }
}
