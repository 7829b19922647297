/*
 * sketch.c: exact counts of log-spaced buckets (sketch.h says what a
 * bucket is).  Pure computation; a sketch is one thread's at a time.
 *
 * Each sign keeps a window of binades (the exponents its values fell in)
 * as one array of counts, widened as values arrive: the memory follows
 * the range of magnitudes the data spans, not the number of values, and
 * counting a value is a subtraction, a bound check and an increment.
 */
#include "features/features.h"

#include <math.h>
#include <string.h>

#define BINADES 2048u /* a double's exponents */

unsigned
ms__sketch_bits(double alpha)
{
    unsigned bits = 0;
    while (bits < 30 && ldexp(1.0, -(int)bits - 1) > alpha) {
        bits++;
    }
    return bits;
}

void
ms__sketch_init(struct ms_sketch *s, unsigned bits)
{
    memset(s, 0, sizeof(*s));
    s->bits = bits;
}

void
ms__sketch_finish(struct ms_sketch *s)
{
    ms__free(s->sign[0].counts);
    ms__free(s->sign[1].counts);
    ms__sketch_init(s, s->bits);
}

void
ms__sketch_clear(struct ms_sketch *s)
{
    for (int g = 0; g < 2; g++) {
        struct ms_sketch_store *st = &s->sign[g];
        if (st->n > 0) {
            memset(st->counts, 0, ((size_t)st->n << s->bits) * 8);
        }
    }
    s->zeros = 0;
    s->kind = MS_SKETCH_PLAIN;
}

/* Widen st's window to hold binades [e0, e1): 0 or MS_ENOMEM. */
static int
widen(struct ms_sketch_store *st, unsigned bits, unsigned e0, unsigned e1)
{
    if (st->n > 0) {
        e0 = e0 < st->lo ? e0 : st->lo;
        e1 = e1 > st->lo + st->n ? e1 : st->lo + st->n;
    }
    if (st->n > 0 && e0 == st->lo && e1 == st->lo + st->n) {
        return 0;
    }
    uint64_t *grown = ms__calloc((size_t)(e1 - e0) << bits, 8);
    if (grown == NULL) {
        return MS_ENOMEM;
    }
    if (st->n > 0) {
        memcpy(grown + ((size_t)(st->lo - e0) << bits), st->counts,
               ((size_t)st->n << bits) * 8);
    }
    ms__free(st->counts);
    st->counts = grown;
    st->lo = e0;
    st->n = e1 - e0;
    return 0;
}

int
ms__sketch_add_slow(struct ms_sketch *s, double v, uint64_t weight)
{
    uint64_t b;
    memcpy(&b, &v, sizeof(b));
    uint64_t key = (b << 1) >> (53 - s->bits);
    unsigned e = (unsigned)(key >> s->bits);
    struct ms_sketch_store *st = &s->sign[b >> 63];
    if ((b << 1) == 0) {
        s->zeros += weight;
        return 0;
    }
    if (widen(st, s->bits, e, e + 1) != 0) {
        return MS_ENOMEM;
    }
    st->counts[key - ((uint64_t)st->lo << s->bits)] += weight;
    return 0;
}

int
ms__sketch_add_values(struct ms_sketch *s, const double *v, size_t n,
                      const unsigned char *mask, uint64_t weight)
{
    int rc = 0;
    if (weight != 1) {
        for (size_t i = 0; rc == 0 && i < n; i++) {
            rc = mask == NULL || mask[i] ? ms__sketch_add(s, v[i], weight) : 0;
        }
        return rc;
    }
    struct ms_sketch_cursor c = {.zeros = 0};
    ms__sketch_cursor_load(&c, s);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (mask == NULL || mask[i]) {
            rc = ms__sketch_cursor_add(&c, s, v[i]);
        }
    }
    ms__sketch_cursor_end(&c, s);
    return rc;
}

/* a's store `into` (+)= from (of the same bits), each count times
 * weight. */
static int
merge_store(struct ms_sketch *a, int into,
            const struct ms_sketch_store *from, uint64_t weight)
{
    struct ms_sketch_store *st = &a->sign[into];
    if (from->n == 0) {
        return 0;
    }
    if (widen(st, a->bits, from->lo, from->lo + from->n) != 0) {
        return MS_ENOMEM;
    }
    uint64_t *dst = st->counts + ((size_t)(from->lo - st->lo) << a->bits);
    size_t n = (size_t)from->n << a->bits;
    for (size_t j = 0; j < n; j++) {
        dst[j] += weight * from->counts[j];
    }
    return 0;
}

int
ms__sketch_merge(struct ms_sketch *a, const struct ms_sketch *b)
{
    uint64_t weight = b->kind == MS_SKETCH_DOUBLED ? 2 : 1;
    a->zeros += (b->kind == MS_SKETCH_PLAIN ? 1 : 2) * b->zeros;
    for (int g = 0; g < 2; g++) {
        if (merge_store(a, g, &b->sign[g], weight) != 0 ||
            (b->kind == MS_SKETCH_MIRRORED &&
             merge_store(a, 1 - g, &b->sign[g], 1) != 0)) {
            return MS_ENOMEM;
        }
    }
    return 0;
}

uint64_t
ms__sketch_count(const struct ms_sketch *s)
{
    uint64_t n = s->zeros;
    for (int g = 0; g < 2; g++) {
        const struct ms_sketch_store *st = &s->sign[g];
        for (size_t j = 0; j < ((size_t)st->n << s->bits); j++) {
            n += st->counts[j];
        }
    }
    return n;
}

/* The magnitude whose bits are key << (52 - bits). */
static double
bound(uint64_t key, unsigned bits)
{
    uint64_t b = key << (52 - bits);
    double v;
    memcpy(&v, &b, sizeof(v));
    return v;
}

/* Visit the buckets of one sign, by increasing value. */
static void
walk_store(const struct ms_sketch *s, int g, ms_sketch_visit fn, void *data)
{
    const struct ms_sketch_store *st = &s->sign[g];
    size_t n = (size_t)st->n << s->bits;
    for (size_t m = 0; m < n; m++) {
        size_t j = g == 1 ? n - 1 - m : m; /* negatives: largest first */
        uint64_t count = st->counts[j];
        if (count == 0) {
            continue;
        }
        uint64_t key = ((uint64_t)st->lo << s->bits) + j;
        double lo = bound(key, s->bits), hi = bound(key + 1, s->bits);
        /* the harmonic mean (the top binade's: its lower bound) */
        double value = isinf(hi) ? lo : 2.0 * lo * (hi / (lo + hi));
        if (g == 1) {
            fn(data, -hi, -lo, -value, count);
        } else {
            fn(data, lo, hi, value, count);
        }
    }
}

void
ms__sketch_walk(const struct ms_sketch *s, ms_sketch_visit fn, void *data)
{
    walk_store(s, 1, fn, data);
    if (s->zeros > 0) {
        fn(data, 0.0, 0.0, 0.0, s->zeros);
    }
    walk_store(s, 0, fn, data);
}

/* ms__sketch_rank's walk: stop at the bucket holding rank k. */
struct rank_find {
    uint64_t k, seen;
    double value;
    bool found;
};

static void
find_rank(void *data, double lo, double hi, double value, uint64_t count)
{
    struct rank_find *r = data;
    (void)lo;
    (void)hi;
    if (!r->found && r->k < r->seen + count) {
        r->value = value;
        r->found = true;
    }
    r->seen += count;
}

double
ms__sketch_rank(const struct ms_sketch *s, uint64_t k)
{
    struct rank_find r = {k, 0, 0.0, false};
    ms__sketch_walk(s, find_rank, &r);
    return r.value;
}

size_t
ms__sketch_bytes(unsigned bits, size_t nbinades)
{
    return (nbinades << bits) * sizeof(uint64_t) + sizeof(struct ms_sketch);
}

/* Encoding: zeros (8 bytes), then each sign: lo and n (4 bytes each) and
 * its n << bits counts (8 bytes each).  Native byte order: the ranks of
 * one run share it. */

size_t
ms__sketch_encoded_size(const struct ms_sketch *s)
{
    size_t size = sizeof(uint64_t);
    for (int g = 0; g < 2; g++) {
        size += 8 + ((size_t)s->sign[g].n << s->bits) * 8;
    }
    return size;
}

void
ms__sketch_encode(const struct ms_sketch *s, unsigned char *out)
{
    memcpy(out, &s->zeros, sizeof(s->zeros));
    out += sizeof(s->zeros);
    for (int g = 0; g < 2; g++) {
        const struct ms_sketch_store *st = &s->sign[g];
        uint32_t lo = st->lo, n = st->n;
        size_t bytes = ((size_t)n << s->bits) * 8;
        memcpy(out, &lo, 4);
        memcpy(out + 4, &n, 4);
        if (bytes > 0) {
            memcpy(out + 8, st->counts, bytes);
        }
        out += 8 + bytes;
    }
}

int
ms__sketch_merge_encoded(struct ms_sketch *s, const unsigned char *in,
                         size_t size, size_t *used)
{
    size_t at = sizeof(uint64_t);
    uint64_t zeros, count;
    if (size < at) {
        return MS_EIO;
    }
    memcpy(&zeros, in, sizeof(zeros));
    for (int g = 0; g < 2; g++) {
        uint32_t lo, n;
        if (size - at < 8) {
            return MS_EIO;
        }
        memcpy(&lo, in + at, 4);
        memcpy(&n, in + at + 4, 4);
        at += 8;
        size_t counts = (size_t)n << s->bits;
        if (n == 0) {
            continue;
        }
        if (lo >= BINADES || n > BINADES - lo || (size - at) / 8 < counts) {
            return MS_EIO;
        }
        struct ms_sketch_store *st = &s->sign[g];
        if (widen(st, s->bits, lo, lo + n) != 0) {
            return MS_ENOMEM;
        }
        uint64_t *dst = st->counts + ((size_t)(lo - st->lo) << s->bits);
        for (size_t j = 0; j < counts; j++, at += 8) {
            memcpy(&count, in + at, 8);
            dst[j] += count;
        }
    }
    s->zeros += zeros;
    *used = at;
    return 0;
}
