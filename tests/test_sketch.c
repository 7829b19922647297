/*
 * test_sketch.c: features/sketch.c against its definition: every rank's
 * value within alpha of the exact order statistic (found here by sorting),
 * zeros reported as 0, merges of any split equal to one sketch of all,
 * counts exact, the buckets' bounds and the bits an accuracy needs.
 */
#include "features/features.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t
next(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

/* A value of many magnitudes and both signs, with zeros. */
static double
value(uint64_t *st)
{
    uint64_t r = next(st);
    if (r % 17 == 0) {
        return 0.0;
    }
    double u = (double)(r >> 11) / 9007199254740992.0; /* [0, 1) */
    double mag = ldexp(0.5 + u, (int)(next(st) % 60) - 30);
    return (r & 1) ? -mag : mag;
}

static int
by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

Test(sketch, every_rank_is_within_alpha_of_the_exact_order_statistic)
{
    double alphas[] = {0.1, 0.01, 0.001, 0.0001};
    size_t n = 20000;
    double *v = malloc(n * sizeof(*v));
    for (size_t a = 0; a < 4; a++) {
        uint64_t st = 99 + a;
        struct ms_sketch s;
        ms__sketch_init(&s, ms__sketch_bits(alphas[a]));
        for (size_t i = 0; i < n; i++) {
            v[i] = value(&st);
            cr_assert_eq(ms__sketch_add(&s, v[i], 1), 0);
        }
        qsort(v, n, sizeof(*v), by_value);
        cr_assert_eq(ms__sketch_count(&s), n);
        for (size_t k = 0; k < n; k += 7) {
            double q = ms__sketch_rank(&s, k);
            cr_assert(fabs(q - v[k]) <= alphas[a] * fabs(v[k]),
                      "alpha %g rank %zu: %.17g for %.17g", alphas[a], k, q,
                      v[k]);
            if (v[k] == 0.0) {
                cr_assert_eq(q, 0.0);
            }
        }
        ms__sketch_finish(&s);
    }
    free(v);
}

Test(sketch, merging_any_split_gives_the_sketch_of_all)
{
    unsigned bits = ms__sketch_bits(0.01);
    struct ms_sketch all, part[3], merged;
    ms__sketch_init(&all, bits);
    ms__sketch_init(&merged, bits);
    for (int p = 0; p < 3; p++) {
        ms__sketch_init(&part[p], bits);
    }
    uint64_t st = 5;
    for (size_t i = 0; i < 30000; i++) {
        double x = value(&st);
        cr_assert_eq(ms__sketch_add(&all, x, 2), 0);
        cr_assert_eq(ms__sketch_add(&part[next(&st) % 3], x, 2), 0);
    }
    /* merged in another order than the values came */
    for (int p = 2; p >= 0; p--) {
        cr_assert_eq(ms__sketch_merge(&merged, &part[p]), 0);
    }
    cr_assert_eq(ms__sketch_count(&merged), 60000);
    cr_assert_eq(merged.zeros, all.zeros);
    for (uint64_t k = 0; k < 60000; k += 11) {
        double a = ms__sketch_rank(&all, k), b = ms__sketch_rank(&merged, k);
        cr_assert(memcmp(&a, &b, sizeof(a)) == 0, "rank %llu",
                  (unsigned long long)k);
    }
    for (int p = 0; p < 3; p++) {
        ms__sketch_finish(&part[p]);
    }
    ms__sketch_finish(&all);
    ms__sketch_finish(&merged);
}

Test(sketch, buckets_bound_their_values_and_the_bits_follow_alpha)
{
    cr_assert_eq(ms__sketch_bits(0.01), 6);   /* 2^-7 <= 0.01 < 2^-6 */
    cr_assert_eq(ms__sketch_bits(0.001), 9);  /* 2^-10 */
    cr_assert_eq(ms__sketch_bits(0.0001), 13); /* 2^-14 */
    cr_assert_eq(ms__sketch_bits(0.1), 3);    /* 2^-4 */
    /* 1.0 and 1.0 + 1/64 - tiny share bucket [1, 1 + 1/64) at 6 bits;
     * its value is the harmonic mean 2 (65/64) / (129/64) = 130/129. */
    struct ms_sketch s;
    ms__sketch_init(&s, 6);
    cr_assert_eq(ms__sketch_add(&s, 1.0, 1), 0);
    cr_assert_eq(ms__sketch_add(&s, nextafter(1.0 + 1.0 / 64, 0), 1), 0);
    cr_assert_eq(ms__sketch_add(&s, -3.0, 1), 0);
    cr_assert_eq(ms__sketch_add(&s, -0.0, 4), 0);
    cr_assert_eq(ms__sketch_count(&s), 7);
    /* 3 = 1.5 x 2: bucket [3, 3 + 2/64), value 2 x 3 x (97/32) / (193/32) */
    cr_assert_float_eq(ms__sketch_rank(&s, 0), -582.0 / 193.0, 1e-15);
    for (uint64_t k = 1; k < 5; k++) {
        cr_assert_eq(ms__sketch_rank(&s, k), 0.0);
    }
    cr_assert_float_eq(ms__sketch_rank(&s, 5), 130.0 / 129.0, 1e-15);
    cr_assert_float_eq(ms__sketch_rank(&s, 6), 130.0 / 129.0, 1e-15);
    ms__sketch_clear(&s);
    cr_assert_eq(ms__sketch_count(&s), 0);
    ms__sketch_finish(&s);
}

Test(sketch, bytes_carry_a_sketch_and_damaged_bytes_are_refused)
{
    unsigned bits = ms__sketch_bits(0.001);
    struct ms_sketch a, b, sum;
    ms__sketch_init(&a, bits);
    ms__sketch_init(&b, bits);
    ms__sketch_init(&sum, bits);
    uint64_t st = 77;
    for (size_t i = 0; i < 5000; i++) {
        double x = value(&st);
        cr_assert_eq(ms__sketch_add(i % 2 ? &a : &b, x, 1), 0);
    }
    cr_assert_eq(ms__sketch_merge(&sum, &a), 0);
    cr_assert_eq(ms__sketch_merge(&sum, &b), 0);
    size_t n = ms__sketch_encoded_size(&a), used = 0;
    unsigned char *buf = malloc(n);
    ms__sketch_encode(&a, buf);
    cr_assert_eq(ms__sketch_merge_encoded(&b, buf, n, &used), 0);
    cr_assert_eq(used, n);
    for (uint64_t k = 0; k < 5000; k += 13) {
        double x = ms__sketch_rank(&sum, k), y = ms__sketch_rank(&b, k);
        cr_assert(memcmp(&x, &y, sizeof(x)) == 0, "rank %llu",
                  (unsigned long long)k);
    }
    /* (a refused merge may have added part of it: the caller fails the
     * pass) */
    for (size_t cut = 0; cut < n; cut += n / 7 + 1) {
        cr_assert_eq(ms__sketch_merge_encoded(&b, buf, cut, &used), MS_EIO,
                     "%zu of %zu bytes", cut, n);
    }
    free(buf);
    ms__sketch_finish(&a);
    ms__sketch_finish(&b);
    ms__sketch_finish(&sum);
}
