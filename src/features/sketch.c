/*
 * sketch.c: exact counts of log-spaced buckets (sketch.h says what a
 * bucket is).  Pure computation; a sketch is one thread's at a time.
 *
 * Each sign keeps a window of binades (the exponents its values fell in),
 * widened as values arrive, with a binade's 2^bits counts allocated the
 * first time one of its values does: the memory follows the range of
 * magnitudes the data spans, not the number of values.
 */
#include "features/features.h"

#include <math.h>
#include <string.h>

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
    for (int g = 0; g < 2; g++) {
        struct ms_sketch_store *st = &s->sign[g];
        for (unsigned i = 0; i < st->n; i++) {
            ms__free(st->binade[i]);
        }
        ms__free(st->binade);
    }
    ms__sketch_init(s, s->bits);
}

void
ms__sketch_clear(struct ms_sketch *s)
{
    size_t per = (size_t)1 << s->bits;
    for (int g = 0; g < 2; g++) {
        struct ms_sketch_store *st = &s->sign[g];
        for (unsigned i = 0; i < st->n; i++) {
            if (st->binade[i] != NULL) {
                memset(st->binade[i], 0, per * sizeof(uint64_t));
            }
        }
    }
    s->zeros = 0;
}

/* Widen st's window to hold binade e: 0 or MS_ENOMEM. */
static int
widen(struct ms_sketch_store *st, unsigned e)
{
    if (st->n == 0) {
        st->binade = ms__calloc(1, sizeof(*st->binade));
        if (st->binade == NULL) {
            return MS_ENOMEM;
        }
        st->lo = e;
        st->n = 1;
        return 0;
    }
    unsigned lo = e < st->lo ? e : st->lo;
    unsigned hi = e >= st->lo + st->n ? e + 1 : st->lo + st->n;
    uint64_t **grown = ms__calloc(hi - lo, sizeof(*grown));
    if (grown == NULL) {
        return MS_ENOMEM;
    }
    memcpy(grown + (st->lo - lo), st->binade, st->n * sizeof(*grown));
    ms__free(st->binade);
    st->binade = grown;
    st->lo = lo;
    st->n = hi - lo;
    return 0;
}

/* Binade e of st, made if need be: NULL for out of memory. */
static uint64_t *
binade(struct ms_sketch_store *st, unsigned e, unsigned bits)
{
    if ((st->n == 0 || e < st->lo || e >= st->lo + st->n) &&
        widen(st, e) != 0) {
        return NULL;
    }
    uint64_t **b = &st->binade[e - st->lo];
    if (*b == NULL) {
        *b = ms__calloc((size_t)1 << bits, sizeof(**b));
    }
    return *b;
}

int
ms__sketch_add_slow(struct ms_sketch *s, double v, uint64_t weight)
{
    uint64_t b;
    memcpy(&b, &v, sizeof(b));
    if ((b << 1) == 0) {
        s->zeros += weight;
        return 0;
    }
    uint64_t key = (b << 1) >> (53 - s->bits);
    uint64_t *counts =
        binade(&s->sign[b >> 63], (unsigned)(key >> s->bits), s->bits);
    if (counts == NULL) {
        return MS_ENOMEM;
    }
    counts[key & ((1u << s->bits) - 1)] += weight;
    return 0;
}

int
ms__sketch_add_values(struct ms_sketch *s, const double *v, size_t n,
                      const unsigned char *mask, uint64_t weight)
{
    for (size_t i = 0; i < n; i++) {
        if (mask == NULL || mask[i]) {
            int rc = ms__sketch_add(s, v[i], weight);
            if (rc != 0) {
                return rc;
            }
        }
    }
    return 0;
}

int
ms__sketch_merge(struct ms_sketch *a, const struct ms_sketch *b)
{
    size_t per = (size_t)1 << a->bits;
    a->zeros += b->zeros;
    for (int g = 0; g < 2; g++) {
        const struct ms_sketch_store *from = &b->sign[g];
        for (unsigned i = 0; i < from->n; i++) {
            const uint64_t *src = from->binade[i];
            if (src == NULL) {
                continue;
            }
            uint64_t *dst = binade(&a->sign[g], from->lo + i, a->bits);
            if (dst == NULL) {
                return MS_ENOMEM;
            }
            for (size_t j = 0; j < per; j++) {
                dst[j] += src[j];
            }
        }
    }
    return 0;
}

uint64_t
ms__sketch_count(const struct ms_sketch *s)
{
    uint64_t n = s->zeros;
    size_t per = (size_t)1 << s->bits;
    for (int g = 0; g < 2; g++) {
        const struct ms_sketch_store *st = &s->sign[g];
        for (unsigned i = 0; i < st->n; i++) {
            for (size_t j = 0; st->binade[i] != NULL && j < per; j++) {
                n += st->binade[i][j];
            }
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
    size_t per = (size_t)1 << s->bits;
    for (unsigned k = 0; k < st->n; k++) {
        unsigned i = g == 1 ? st->n - 1 - k : k; /* negatives: largest first */
        for (size_t m = 0; st->binade[i] != NULL && m < per; m++) {
            size_t j = g == 1 ? per - 1 - m : m;
            uint64_t count = st->binade[i][j];
            if (count == 0) {
                continue;
            }
            uint64_t key = ((uint64_t)(st->lo + i) << s->bits) | j;
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
    return nbinades * (((size_t)1 << bits) * sizeof(uint64_t) +
                       sizeof(uint64_t *)) +
           sizeof(struct ms_sketch);
}

/* Encoding: zeros (8 bytes), then each sign: lo and n (4 bytes each), then
 * each binade: 1 if counted and its 2^bits counts (8 bytes each), else 0.
 * Native byte order: the ranks of one run share it. */

size_t
ms__sketch_encoded_size(const struct ms_sketch *s)
{
    size_t size = sizeof(uint64_t), per = ((size_t)1 << s->bits) * 8;
    for (int g = 0; g < 2; g++) {
        size += 2 * sizeof(uint32_t);
        for (unsigned i = 0; i < s->sign[g].n; i++) {
            size += 1 + (s->sign[g].binade[i] != NULL ? per : 0);
        }
    }
    return size;
}

void
ms__sketch_encode(const struct ms_sketch *s, unsigned char *out)
{
    size_t per = ((size_t)1 << s->bits) * 8;
    memcpy(out, &s->zeros, sizeof(s->zeros));
    out += sizeof(s->zeros);
    for (int g = 0; g < 2; g++) {
        const struct ms_sketch_store *st = &s->sign[g];
        uint32_t lo = st->lo, n = st->n;
        memcpy(out, &lo, 4);
        memcpy(out + 4, &n, 4);
        out += 8;
        for (unsigned i = 0; i < n; i++) {
            *out++ = st->binade[i] != NULL;
            if (st->binade[i] != NULL) {
                memcpy(out, st->binade[i], per);
                out += per;
            }
        }
    }
}

int
ms__sketch_merge_encoded(struct ms_sketch *s, const unsigned char *in,
                         size_t size, size_t *used)
{
    size_t per = (size_t)1 << s->bits, at = sizeof(uint64_t);
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
        for (uint32_t i = 0; i < n; i++) {
            if (size - at < 1 || lo + i < lo || lo + i >= 2048) {
                return MS_EIO;
            }
            if (in[at++] == 0) {
                continue;
            }
            if ((size - at) / 8 < per) {
                return MS_EIO;
            }
            uint64_t *dst = binade(&s->sign[g], lo + i, s->bits);
            if (dst == NULL) {
                return MS_ENOMEM;
            }
            for (size_t j = 0; j < per; j++, at += 8) {
                memcpy(&count, in + at, 8);
                dst[j] += count;
            }
        }
    }
    s->zeros += zeros;
    *used = at;
    return 0;
}
