/*
 * features/sketch.h: a feature's distribution as exact counts of
 * log-spaced buckets (sketch.c; docs/design.md, "Quantiles").  Included by
 * features.h.
 *
 * A value's bucket is its magnitude's IEEE bits without the lowest
 * 52 - bits of the mantissa: 2^bits buckets a binade, each at most
 * 2^-bits of its lower bound wide.  Positive and negative values are
 * counted apart, zeros by themselves.  Counts are integers, so merging
 * adds them: a sketch is the same however its values were split and in
 * whatever order its parts were merged.  A bucket's value is the harmonic
 * mean of its bounds, within 2^-(bits + 1) of anything in it, relatively.
 */
#ifndef MESHSTATS_SKETCH_H
#define MESHSTATS_SKETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The buckets of one sign: the 2^bits counts of each binade in [lo,
 * lo + n), one array (n << bits counts), widened as values arrive. */
struct ms_sketch_store {
    unsigned lo, n;
    uint64_t *counts;
};

/* What each value counted stands for: itself; itself and its negation
 * (an edge's r, counted in one direction for both); itself twice (an
 * edge's |r|).  Only merging reads a sketch that is not plain. */
enum ms_sketch_kind { MS_SKETCH_PLAIN, MS_SKETCH_MIRRORED, MS_SKETCH_DOUBLED };

struct ms_sketch {
    unsigned bits;
    enum ms_sketch_kind kind;
    uint64_t zeros;
    struct ms_sketch_store sign[2]; /* [0] positive, [1] negative */
};

/* The mantissa bits a bucket keeps for a relative accuracy alpha: the
 * fewest with 2^-(bits + 1) <= alpha (0.01: 6, 0.001: 9, 0.0001: 13). */
unsigned ms__sketch_bits(double alpha);
void ms__sketch_init(struct ms_sketch *s, unsigned bits);
void ms__sketch_finish(struct ms_sketch *s);
/* Empty it, keeping its binades' room. */
void ms__sketch_clear(struct ms_sketch *s);

/* Count v weight times: 0 or MS_ENOMEM (a binade's room). */
int ms__sketch_add_slow(struct ms_sketch *s, double v, uint64_t weight);

static inline int
ms__sketch_add(struct ms_sketch *s, double v, uint64_t weight)
{
    uint64_t b;
    __builtin_memcpy(&b, &v, sizeof(b));
    if ((b << 1) == 0) {
        s->zeros += weight;
        return 0;
    }
    struct ms_sketch_store *st = &s->sign[b >> 63];
    /* the magnitude's bits >> (52 - bits), from the window's start */
    uint64_t at = ((b << 1) >> (53 - s->bits)) - ((uint64_t)st->lo << s->bits);
    if (at >= ((uint64_t)st->n << s->bits)) {
        return ms__sketch_add_slow(s, v, weight);
    }
    st->counts[at] += weight;
    return 0;
}

/* A sketch's counting held in a loop's locals (scalars the compiler keeps
 * in registers, which it cannot do for the sketch's fields: a store to a
 * count may change them): load it, count with it, end it. */
struct ms_sketch_cursor {
    uint64_t *pos, *neg;
    uint64_t pos_base, neg_base, pos_limit, neg_limit;
    uint64_t zeros;
    unsigned shift;
};

static inline void
ms__sketch_cursor_load(struct ms_sketch_cursor *c, const struct ms_sketch *s)
{
    c->pos = s->sign[0].counts;
    c->neg = s->sign[1].counts;
    c->pos_base = (uint64_t)s->sign[0].lo << s->bits;
    c->neg_base = (uint64_t)s->sign[1].lo << s->bits;
    c->pos_limit = (uint64_t)s->sign[0].n << s->bits;
    c->neg_limit = (uint64_t)s->sign[1].n << s->bits;
    c->shift = 53 - s->bits;
}

/* Count v if it is zero or falls in the window: false if not. */
static inline bool
ms__sketch_cursor_try(struct ms_sketch_cursor *c, double v)
{
    uint64_t b;
    __builtin_memcpy(&b, &v, sizeof(b));
    if ((b << 1) == 0) {
        c->zeros++;
        return true;
    }
    bool neg = (b >> 63) != 0;
    uint64_t at = ((b << 1) >> c->shift) - (neg ? c->neg_base : c->pos_base);
    if (at < (neg ? c->neg_limit : c->pos_limit)) {
        (neg ? c->neg : c->pos)[at]++;
        return true;
    }
    return false;
}

static inline int
ms__sketch_cursor_add(struct ms_sketch_cursor *c, struct ms_sketch *s,
                      double v)
{
    if (ms__sketch_cursor_try(c, v)) {
        return 0;
    }
    int rc = ms__sketch_add_slow(s, v, 1); /* (widens the window) */
    ms__sketch_cursor_load(c, s);
    return rc;
}

static inline void
ms__sketch_cursor_end(struct ms_sketch_cursor *c, struct ms_sketch *s)
{
    s->zeros += c->zeros;
    c->zeros = 0;
}

/* Count n values: as they are; with mask, those whose mask[i] is set. */
int ms__sketch_add_values(struct ms_sketch *s, const double *v, size_t n,
                          const unsigned char *mask, uint64_t weight);
/* a (+)= b (the same bits; a plain, b of any kind): 0 or MS_ENOMEM. */
int ms__sketch_merge(struct ms_sketch *a, const struct ms_sketch *b);
/* The values a plain sketch counts. */
uint64_t ms__sketch_count(const struct ms_sketch *s);

/* The value of the bucket holding the k-th smallest counted value (k <
 * count, 0-based); 0 for a zero. */
double ms__sketch_rank(const struct ms_sketch *s, uint64_t k);

/* Walk the buckets in increasing order of value: fn(data, lo, hi, value,
 * count) for every bucket counted (zeros: lo = hi = value = 0). */
typedef void (*ms_sketch_visit)(void *data, double lo, double hi,
                                double value, uint64_t count);
void ms__sketch_walk(const struct ms_sketch *s, ms_sketch_visit fn,
                     void *data);
/* A sketch as bytes (to send to another process): its size, the bytes
 * into out, and their counts added to s (the same bits): 0, MS_ENOMEM,
 * or MS_EIO for bytes that are not a sketch of s's bits (*used: how many
 * it read). */
size_t ms__sketch_encoded_size(const struct ms_sketch *s);
void ms__sketch_encode(const struct ms_sketch *s, unsigned char *out);
int ms__sketch_merge_encoded(struct ms_sketch *s, const unsigned char *in,
                             size_t size, size_t *used);
/* Bytes a sketch holds with nbinades binades counted in all. */
size_t ms__sketch_bytes(unsigned bits, size_t nbinades);

#endif
