/*
 * test_kernels.c: the loops of kernels.c against long-double references
 * written element by element, and the AVX2 compilation against the
 * baseline one, bit for bit.
 */
#include "pass/pass.h"

#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A reproducible value in [-0.5, 0.5) (xorshift). */
static double
next_value(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return (double)(*state >> 11) / 9007199254740992.0 - 0.5;
}

/* n values at offset + scale * u, as floats and as doubles. */
static void
fill(float *f, double *d, size_t n, double offset, double scale, uint64_t seed)
{
    uint64_t s = seed | 1;
    for (size_t i = 0; i < n; i++) {
        f[i] = (float)(offset + scale * next_value(&s));
        d[i] = f[i];
    }
}

static struct ms_row
row(float *f, double *d, bool single)
{
    return single ? (struct ms_row){f, NULL} : (struct ms_row){NULL, d};
}

/* The sums of v over n, element by element in long double. */
static void
reference_sums(const struct ms_values *v, size_t n, double shift,
               long double *s1, long double *s2, double *lo, double *hi)
{
    *s1 = *s2 = 0;
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double x = ms_values_at(v, i);
        long double d = (long double)x - shift;
        *s1 += d;
        *s2 += d * d;
        *lo = x < *lo ? x : *lo;
        *hi = x > *hi ? x : *hi;
    }
}

enum { MAXN = 1000 };
static float xf[MAXN], yf[MAXN], zf[MAXN];
static double xd[MAXN], yd[MAXN], zd[MAXN];

static struct ms_values
values_of(enum ms_values_kind kind, bool single)
{
    return (struct ms_values){kind, row(xf, xd, single), row(yf, yd, single),
                              row(zf, zd, single)};
}

/* Every n from 1 to 40 (each tail length of both lane sets) and 1000,
 * every kind, float and double rows: sums within 1e-13 of the reference,
 * min and max exact. */
Test(kernels, sums_match_an_element_by_element_reference)
{
    fill(xf, xd, MAXN, 3.0, 1.0, 1);
    fill(yf, yd, MAXN, 3.5, 2.0, 2);
    fill(zf, zd, MAXN, -1.0, 0.5, 3);
    size_t sizes[41];
    for (size_t k = 0; k < 40; k++) {
        sizes[k] = k + 1;
    }
    sizes[40] = MAXN;
    for (int kind = MS_VALUES_ROW; kind <= MS_VALUES_SECOND; kind++) {
        for (int single = 0; single < 2; single++) {
            struct ms_values v = values_of(kind, single);
            for (size_t k = 0; k < 41; k++) {
                size_t n = sizes[k];
                struct ms_sums got = ms__kernels()->sums(&v, n, 2.0);
                long double s1, s2;
                double lo, hi;
                reference_sums(&v, n, 2.0, &s1, &s2, &lo, &hi);
                cr_expect(fabsl(got.s1 - s1) <= 1e-13L * (1 + fabsl(s1)) &&
                              fabsl(got.s2 - s2) <= 1e-13L * s2,
                          "kind %d, %s, n %zu: sums %.17g %.17g, want %.17Lg "
                          "%.17Lg",
                          kind, single ? "float" : "double", n, got.s1, got.s2,
                          s1, s2);
                cr_expect(got.min == lo && got.max == hi,
                          "kind %d, n %zu: min/max %g %g, want %g %g", kind, n,
                          got.min, got.max, lo, hi);
            }
        }
    }
}

/* The second difference of frames is y - 2x + z: the moments of the
 * values are those of the column made by hand, bit for bit. */
Test(kernels, second_difference_is_y_minus_2x_plus_z)
{
    fill(xf, xd, MAXN, 1.0, 1.0, 4);
    fill(yf, yd, MAXN, 2.0, 1.0, 5);
    fill(zf, zd, MAXN, 0.5, 1.0, 6);
    double column[MAXN];
    for (size_t i = 0; i < MAXN; i++) {
        column[i] = (double)yf[i] - 2.0 * (double)xf[i] + (double)zf[i];
    }
    struct ms_values v = values_of(MS_VALUES_SECOND, true);
    struct ms_moments got, want;
    ms__moments_of_values(&got, &v, MAXN);
    ms__moments_of(&want, column, MAXN);
    cr_expect(memcmp(&got, &want, sizeof(got)) == 0,
              "mean %.17g m2 %.17g, want %.17g %.17g", got.mean, got.m2,
              want.mean, want.m2);
}

/* A mesh of n nodes with anisotropic positions (x, y and z spread
 * differently, so a swapped component shows) and e random edges. */
static void
random_mesh(double *pos, size_t n, uint32_t *from, uint32_t *to, size_t e)
{
    uint64_t s = 99;
    for (size_t i = 0; i < n; i++) {
        pos[3 * i] = 10 * next_value(&s);
        pos[3 * i + 1] = 3 + next_value(&s);
        pos[3 * i + 2] = 0.1 * next_value(&s);
    }
    for (size_t k = 0; k < e; k++) {
        from[k] = (uint32_t)((next_value(&s) + 0.5) * (double)n);
        to[k] = (uint32_t)((next_value(&s) + 0.5) * (double)n);
    }
}

enum { NODES = 500, EDGES = 9001 }; /* two chunks, and a tail of 1 */
static double pos[3 * NODES];
static uint32_t efrom[EDGES], eto[EDGES];

Test(kernels, edge_sums_match_an_edge_by_edge_reference)
{
    random_mesh(pos, NODES, efrom, eto, EDGES);
    long double sq[3] = {0}, s1 = 0, s2 = 0;
    double big[3] = {0}, lo = INFINITY, hi = 0, shift = 4.0;
    for (size_t e = 0; e < EDGES; e++) {
        long double len2 = 0;
        for (int c = 0; c < 3; c++) {
            double r = pos[3 * eto[e] + c] - pos[3 * efrom[e] + c];
            sq[c] += (long double)r * r;
            len2 += (long double)r * r;
            big[c] = fabs(r) > big[c] ? fabs(r) : big[c];
        }
        double len = sqrt((double)len2);
        s1 += len - shift;
        s2 += ((long double)len - shift) * (len - shift);
        lo = len < lo ? len : lo;
        hi = len > hi ? len : hi;
    }
    double first = 0;
    for (int c = 0; c < 3; c++) {
        double r = pos[3 * eto[0] + c] - pos[3 * efrom[0] + c];
        first += r * r;
    }
    struct ms_edge_sums got =
        ms__kernels()->edges(pos, efrom, eto, EDGES, shift, sqrt(first), NULL);
    for (int c = 0; c < 3; c++) {
        cr_expect(fabsl(got.sq[c] - sq[c]) <= 1e-13L * sq[c],
                  "component %d: sum of squares %.17g, want %.17Lg", c,
                  got.sq[c], sq[c]);
        cr_expect(got.big[c] == big[c], "component %d: max |r| %g, want %g", c,
                  got.big[c], big[c]);
    }
    cr_expect(fabsl(got.s1 - s1) <= 1e-9L && fabsl(got.s2 - s2) <= 1e-12L * s2,
              "length sums %.17g %.17g, want %.17Lg %.17Lg", got.s1, got.s2, s1,
              s2);
    cr_expect(
        fabs(got.lo - lo) <= 1e-15 * lo && fabs(got.hi - hi) <= 1e-15 * hi,
        "length min/max %.17g %.17g, want %.17g %.17g", got.lo, got.hi, lo, hi);
}

/* ------------------------------------------------------------------ */
/* Counting into a sketch (the kernels' count). */

/* The lower bound of x's bucket by the definition (sketch.h): |x|'s
 * binade cut into 2^bits equal parts (a subnormal: parts of 2^(52 - bits)
 * steps of 2^-1074), with frexp and ldexp, not from the bits; negated for
 * a negative x. */
static double
bucket_floor(double x, unsigned bits)
{
    double a = fabs(x), step = ldexp(1.0, -1074 + 52 - (int)bits);
    if (a >= DBL_MIN) {
        int e;
        frexp(a, &e); /* a in [2^(e-1), 2^e) */
        step = ldexp(1.0, e - 1 - (int)bits);
    }
    return copysign(floor(a / step) * step, x);
}

static int
compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct buckets {
    double at[MAXN];
    uint64_t count[MAXN];
    size_t n;
};

/* A bucket as walked: its bound nearest zero, signed (zeros: 0). */
static void
record_bucket(void *data, double lo, double hi, double value, uint64_t count)
{
    (void)value;
    struct buckets *b = data;
    b->at[b->n] = lo >= 0 ? lo : hi;
    b->count[b->n++] = count;
}

/* Values over 18 binades, both signs, zeros of both signs, a subnormal. */
static void
fill_spread(uint64_t seed)
{
    uint64_t s = seed | 1;
    for (size_t i = 0; i < MAXN; i++) {
        double m = ldexp(next_value(&s), (int)(i * 7 % 19) - 9);
        xf[i] = (float)m, xd[i] = xf[i];
        yf[i] = (float)(m * 1.5 + next_value(&s)), yd[i] = yf[i];
        zf[i] = (float)(-m), zd[i] = zf[i];
    }
    xf[3] = 0.0f, xd[3] = 0.0, xf[4] = -0.0f, xd[4] = -0.0;
    yf[4] = 0.0f, yd[4] = 0.0, xd[11] = 1e-309;
}

/* count as a pass runs it (the sketch's own add where it stops), against
 * each value's bucket by the definition. */
static void
expect_counted(const struct ms_kernels *k, const struct ms_values *v,
               size_t n, const char *what)
{
    struct ms_sketch s;
    ms__sketch_init(&s, 6);
    struct ms_sketch_cursor c = {.zeros = 0};
    ms__sketch_cursor_load(&c, &s);
    for (size_t i = 0; (i = k->count(v, i, n, &c)) < n; i++) {
        cr_assert(ms__sketch_cursor_add(&c, &s, ms_values_at(v, i)) == 0);
    }
    ms__sketch_cursor_end(&c, &s);
    static double want[MAXN];
    for (size_t i = 0; i < n; i++) {
        want[i] = bucket_floor(ms_values_at(v, i), 6);
    }
    qsort(want, n, sizeof(double), compare_doubles);
    static struct buckets got;
    got.n = 0;
    ms__sketch_walk(&s, record_bucket, &got);
    size_t j = 0;
    for (size_t b = 0; b < got.n; b++) {
        for (uint64_t m = 0; m < got.count[b]; m++, j++) {
            cr_assert(j < n && want[j] == got.at[b],
                      "%s, n %zu: value %zu in the bucket at %.17g, want %.17g",
                      what, n, j, got.at[b], j < n ? want[j] : NAN);
        }
    }
    cr_assert(j == n, "%s, n %zu: %zu values counted", what, n, j);
    ms__sketch_finish(&s);
}

/* Every n from 1 to 40 and 1000, every kind, float and double rows, each
 * compilation of the kernels. */
Test(kernels, count_puts_each_value_in_its_bucket)
{
    fill_spread(11);
    const struct ms_kernels *kernels[] = {&ms__kernels_baseline, ms__kernels()};
    for (int kk = 0; kk < 2; kk++) {
        for (int kind = MS_VALUES_ROW; kind <= MS_VALUES_SECOND; kind++) {
            for (int single = 0; single < 2; single++) {
                struct ms_values v = values_of(kind, single);
                for (size_t t = 0; t < 41; t++) {
                    size_t n = t < 40 ? t + 1 : MAXN;
                    char what[64];
                    snprintf(what, sizeof(what), "%s kernels, kind %d, %s",
                             kk ? "these" : "baseline", kind,
                             single ? "float" : "double");
                    expect_counted(kernels[kk], &v, n, what);
                }
            }
        }
    }
}

/* Values at the edges of a window of the binades [1, 4) of each sign:
 * its first and last buckets' (inside), and the ones a bucket beyond
 * (outside), as floats or doubles. */
static void
window_edges(bool single, double inside[4], double outside[4])
{
    double below1 = single ? nextafterf(1.0f, 0.0f) : nextafter(1.0, 0.0);
    double below4 = single ? nextafterf(4.0f, 0.0f) : nextafter(4.0, 0.0);
    double in[4] = {1.0, below4, -1.0, -below4};
    double out[4] = {below1, 4.0, -below1, -4.0};
    memcpy(inside, in, sizeof(in));
    memcpy(outside, out, sizeof(out));
}

/* n values for a kind: v[i] (a difference: v[i] - 0). */
static struct ms_values
rows_of(const double *v, size_t n, enum ms_values_kind kind, bool single)
{
    for (size_t i = 0; i < n; i++) {
        xf[i] = kind == MS_VALUES_DIFF ? 0.0f : (float)v[i];
        xd[i] = kind == MS_VALUES_DIFF ? 0.0 : v[i];
        yf[i] = (float)v[i], yd[i] = v[i];
    }
    return values_of(kind, single);
}

/* A window of [1, 4) of each sign, at three accuracies: the count stops
 * at a value a bucket beyond either edge, in any lane of four, after
 * counting the values before it (the edges' own buckets, zeros). */
Test(kernels, count_stops_at_the_first_value_outside_the_window)
{
    const struct ms_kernels *kernels[] = {&ms__kernels_baseline, ms__kernels()};
    static const unsigned bits[] = {0, 6, 13};
    for (int kk = 0; kk < 2; kk++)
    for (size_t b = 0; b < 3; b++)
    for (int kind = MS_VALUES_ROW; kind <= MS_VALUES_DIFF; kind++)
    for (int single = 0; single < 2; single++)
    for (size_t which = 0; which < 4; which++)
    for (size_t at = 0; at < 12; at++) {
        double inside[4], outside[4], v[16];
        window_edges(single, inside, outside);
        for (size_t i = 0; i < 16; i++) {
            v[i] = i % 5 == 4 ? 0.0 : inside[i % 5];
        }
        v[at] = outside[which];
        struct ms_values rows = rows_of(v, 16, kind, single);
        struct ms_sketch s;
        ms__sketch_init(&s, bits[b]);
        for (int k = 0; k < 4; k++) {
            cr_assert(ms__sketch_add(&s, (k % 2 ? 3.0 : 1.0) * (k < 2 ? 1 : -1),
                                     1) == 0);
        }
        struct ms_sketch_cursor c = {.zeros = 0};
        ms__sketch_cursor_load(&c, &s);
        size_t stop = kernels[kk]->count(&rows, 0, 16, &c);
        ms__sketch_cursor_end(&c, &s);
        cr_expect(stop == at, "kernels %d, bits %u, kind %d, single %d: "
                  "stopped at %zu, not %zu (at %.17g)", kk, bits[b], kind,
                  single, stop, at, outside[which]);
        uint64_t zeros = 0;
        for (size_t i = 0; i < at; i++) {
            zeros += i % 5 == 4;
        }
        cr_expect(s.zeros == zeros && ms__sketch_count(&s) == 4 + at,
                  "at %zu: %llu zeros, %llu in all", at,
                  (unsigned long long)s.zeros,
                  (unsigned long long)ms__sketch_count(&s));
        ms__sketch_finish(&s);
    }
}

/* Random values (over up to 120 binades, subnormals and zeros among them),
 * random windows and offsets: count and the sketch's add where it stops give the same
 * sketch as the sketch's own add of every value. */
Test(kernels, count_gives_the_sketchs_own_counts)
{
    const struct ms_kernels *kernels[] = {&ms__kernels_baseline, ms__kernels()};
    uint64_t r = 12345;
    for (int iter = 0; iter < 2000; iter++) {
        unsigned bits = (unsigned)(next_value(&r) * 14 + 7); /* 0..13 */
        size_t off = (size_t)((next_value(&r) + 0.5) * 4), n = 1 + iter % 61;
        for (size_t i = 0; i < n + off; i++) {
            /* 120 binades (12 at 10 bits or more) around 1, or around
             * the subnormals */
            int e = (int)(next_value(&r) * (bits < 10 ? 120 : 12)) +
                    (iter % 3 ? 0 : -1040);
            double m = next_value(&r);
            xd[i] = i % 7 == 3 ? 0.0 : ldexp(m, e < -1074 ? -1074 : e);
            xd[i] = isfinite(xd[i]) ? xd[i] : -0.0;
            xf[i] = (float)(m * 100), yd[i] = xd[i] * 0.5, yf[i] = xf[i] * 2;
        }
        int kind = iter % 2 ? MS_VALUES_DIFF : MS_VALUES_ROW;
        struct ms_values all = values_of(kind, iter % 3 == 0);
        struct ms_sketch a, want;
        ms__sketch_init(&a, bits);
        ms__sketch_init(&want, bits);
        cr_assert(ms__sketch_add(&a, ms_values_at(&all, off), 1) == 0);
        cr_assert(ms__sketch_add(&want, ms_values_at(&all, off), 1) == 0);
        for (size_t i = off; i < off + n; i++) {
            cr_assert(ms__sketch_add(&want, ms_values_at(&all, i), 1) == 0);
        }
        struct ms_sketch_cursor c = {.zeros = 0};
        ms__sketch_cursor_load(&c, &a);
        for (size_t i = off; (i = kernels[iter % 2 ? 0 : 1]->count(
                                  &all, i, off + n, &c)) < off + n;
             i++) {
            cr_assert(ms__sketch_cursor_add(&c, &a, ms_values_at(&all, i)) ==
                      0);
        }
        ms__sketch_cursor_end(&c, &a);
        bool same = a.zeros == want.zeros;
        for (int g = 0; g < 2; g++) {
            const struct ms_sketch_store *p = &a.sign[g], *q = &want.sign[g];
            same = same && p->lo == q->lo && p->n == q->n &&
                   (p->n == 0 || memcmp(p->counts, q->counts,
                                        ((size_t)p->n << bits) * 8) == 0);
        }
        cr_expect(same, "iteration %d (bits %u, n %zu, off %zu) differs",
                  iter, bits, n, off);
        ms__sketch_finish(&a);
        ms__sketch_finish(&want);
    }
    (void)kernels;
}

#ifdef MS_HAVE_AVX2_KERNELS
static void
need_avx2(void)
{
    if (!__builtin_cpu_supports("avx2")) {
        cr_skip_test("this processor has no AVX2");
    }
}

/* The columns the edge pass leaves for the quantile sketches: each edge's
 * r exactly (a difference of two doubles), |r| to the last bit of the
 * correctly rounded root, the moments unchanged by asking for them. */
Test(kernels, edge_pass_columns_hold_each_edges_r_and_length)
{
    random_mesh(pos, NODES, efrom, eto, EDGES);
    static double cols[4 * EDGES];
    for (size_t E = 1; E <= EDGES; E += E < 12 ? 1 : 997) {
        for (size_t i = 0; i < 4 * E; i++) {
            cols[i] = NAN;
        }
        struct ms_edge_sums with =
            ms__kernels()->edges(pos, efrom, eto, E, 2.0, 1.0, cols);
        struct ms_edge_sums without =
            ms__kernels()->edges(pos, efrom, eto, E, 2.0, 1.0, NULL);
        cr_expect(memcmp(&with, &without, sizeof(with)) == 0, "%zu edges", E);
        for (size_t e = 0; e < E; e++) {
            double r[3], len2 = 0;
            for (int c = 0; c < 3; c++) {
                r[c] = pos[3 * eto[e] + c] - pos[3 * efrom[e] + c];
                cr_expect(cols[c * E + e] == r[c], "E %zu, edge %zu, r_%d %g "
                          "want %g", E, e, c, cols[c * E + e], r[c]);
                len2 += r[c] * r[c];
            }
            cr_expect(cols[3 * E + e] == sqrt(len2), "E %zu, edge %zu: |r| "
                      "%.17g want %.17g", E, e, cols[3 * E + e], sqrt(len2));
        }
    }
}

Test(kernels, avx2_is_picked_where_the_processor_has_it)
{
    need_avx2();
    cr_expect(ms__kernels() == &ms__kernels_avx2);
}

Test(kernels, avx2_sums_have_the_baseline_bits)
{
    need_avx2();
    fill(xf, xd, MAXN, 1e4, 1.0, 7);
    fill(yf, yd, MAXN, 1e4, 3.0, 8);
    fill(zf, zd, MAXN, 1e4, 2.0, 9);
    /* signed zeros and subnormals among them (finite: a NaN's sign and
     * payload may differ between compilations, and never reach a result) */
    xf[5] = -0.0f, xd[5] = -0.0, yf[6] = 0.0f, yd[6] = 0.0;
    xf[7] = 1e-40f, xd[7] = (double)1e-40f, zd[9] = 4.9e-324;
    for (int kind = MS_VALUES_ROW; kind <= MS_VALUES_SECOND; kind++) {
        for (int single = 0; single < 2; single++) {
            struct ms_values v = values_of(kind, single);
            for (size_t n = 1; n <= MAXN; n += 37) {
                struct ms_sums a = ms__kernels_avx2.sums(&v, n, 1e4 + 0.1);
                struct ms_sums b = ms__kernels_baseline.sums(&v, n, 1e4 + 0.1);
                cr_expect(memcmp(&a, &b, sizeof(a)) == 0,
                          "kind %d, %s, n %zu: %.17g %.17g vs %.17g %.17g",
                          kind, single ? "float" : "double", n, a.s1, a.s2,
                          b.s1, b.s2);
            }
        }
    }
}

Test(kernels, avx2_edges_have_the_baseline_bits)
{
    need_avx2();
    random_mesh(pos, NODES, efrom, eto, EDGES);
    for (size_t E = 1; E <= EDGES; E += E < 40 ? 1 : 1001) {
        struct ms_edge_sums a =
            ms__kernels_avx2.edges(pos, efrom, eto, E, 3.0, 1.0, NULL);
        struct ms_edge_sums b =
            ms__kernels_baseline.edges(pos, efrom, eto, E, 3.0, 1.0, NULL);
        cr_expect(memcmp(&a, &b, sizeof(a)) == 0, "%zu edges: differ", E);
    }
}
#endif
