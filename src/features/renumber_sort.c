/*
 * renumber_sort.c: the renumbering's sort of the nodes by cell, in parts
 * that workers take side by side (edge_order.h says what the order is).
 *
 * A counting sort, least significant digit of MS_ORDER_DIGIT bits first,
 * stable, so the nodes come by cell and then stored number, and the
 * result is the same however many parts there are.  The node range is cut
 * into sort_parts parts; the cells' first digits are counted per part as
 * the cells are made (ms__order_count_cells).  Step 0: each part puts its
 * nodes at their places by the first digit, after the same digit's nodes
 * of the parts before it (into high: the cells, then the nodes), counting
 * their second digits by the part of high they land in; with one digit,
 * those places are final and go straight into perm.  Step 1: each part of
 * high puts its nodes at their places by the second digit, after those of
 * the parts before it, into perm.  Every step reads what the one before
 * wrote in every part; the caller runs them in that order.
 */
#include "features/features.h"

#include <string.h>

#define DIGITS ((size_t)1 << MS_ORDER_DIGIT)
_Static_assert(MS_ORDER_SORT_PARTS == 4, "first_pass compares with 3 bounds");
#define DIGIT_MASK ((uint32_t)DIGITS - 1)

size_t
ms__order_sort_parts(size_t N)
{
    size_t parts = N == 0 ? 1 : (N - 1) / MS_ORDER_PART + 1;
    return parts < MS_ORDER_SORT_PARTS ? parts : MS_ORDER_SORT_PARTS;
}

unsigned
ms__order_sort_passes(unsigned bits)
{
    return bits > MS_ORDER_DIGIT ? 2 : 1;
}

int
ms__order_sort_init(struct ms_edge_order *o, unsigned bits)
{
    size_t P = ms__order_sort_parts(o->N);
    o->sort_parts = P;
    o->sort_passes = ms__order_sort_passes(bits);
    ms__free(o->sort_count); /* (a sort set up before: set up again) */
    o->sort_count = ms__calloc(P * DIGITS * (o->sort_passes == 2 ? 1 + P : 1),
                               sizeof(*o->sort_count));
    o->renumbered = true;
    return o->sort_count != NULL ? 0 : MS_ENOMEM;
}

/* The nodes a part holds (the last may hold fewer). */
static size_t
part_size(const struct ms_edge_order *o)
{
    return (o->N + o->sort_parts - 1) / o->sort_parts;
}

/* Nodes [*first, *end) of part p (of o->sort_parts). */
static void
part_range(const struct ms_edge_order *o, size_t p, size_t *first,
           size_t *end)
{
    size_t per = part_size(o);
    *first = p * per < o->N ? p * per : o->N;
    *end = *first + per < o->N ? *first + per : o->N;
}

void
ms__order_count_cells(struct ms_edge_order *o, size_t first, size_t n)
{
    size_t per = part_size(o);
    for (size_t i = first; i < first + n;) {
        size_t p = i / per, end = (p + 1) * per < first + n ? (p + 1) * per
                                                              : first + n;
        uint32_t *count = o->sort_count + p * DIGITS;
        for (; i < end; i++) {
            count[o->perm[i] & DIGIT_MASK]++;
        }
    }
}

/* Where part p's nodes of each digit go (off: DIGITS entries): after every
 * node of a smaller digit, and after the parts before p with that digit;
 * count[q * stride + d] is part q's count of digit d (q < parts). */
static void
offsets(const uint32_t *count, size_t parts, size_t stride, size_t p,
        size_t *off)
{
    size_t at = 0;
    for (size_t d = 0; d < DIGITS; d++) {
        size_t before = 0, all = 0;
        for (size_t q = 0; q < parts; q++) {
            before += q < p ? count[q * stride + d] : 0;
            all += count[q * stride + d];
        }
        off[d] = at + before;
        at += all;
    }
}

/* Step 0 for part p: by the first digit, into high (two passes) or perm. */
static void
first_pass(struct ms_edge_order *o, size_t p, size_t *off)
{
    size_t P = o->sort_parts, per = part_size(o), first, end;
    part_range(o, p, &first, &end);
    offsets(o->sort_count, P, DIGITS, p, off);
    if (o->sort_passes == 1) {
        for (size_t i = first; i < end; i++) {
            o->perm[i] = (uint32_t)off[o->perm[i] & DIGIT_MASK]++;
        }
        return;
    }
    uint32_t *key = o->high, *node = o->high + o->N;
    uint32_t *second = o->sort_count + P * DIGITS + p * P * DIGITS;
    /* (the part of high a place is in, by comparisons: no division) */
    size_t bound[MS_ORDER_SORT_PARTS];
    for (size_t q = 0; q < MS_ORDER_SORT_PARTS; q++) {
        bound[q] = q > 0 && q < P ? q * per : SIZE_MAX;
    }
    for (size_t i = first; i < end; i++) {
        uint32_t k = o->perm[i];
        size_t at = off[k & DIGIT_MASK]++;
        size_t q = (at >= bound[1]) + (at >= bound[2]) + (at >= bound[3]);
        key[at] = k;
        node[at] = (uint32_t)i;
        second[q * DIGITS + (k >> MS_ORDER_DIGIT)]++;
    }
}

/* Step 1 for part p of high: by the second digit, the places into perm;
 * by_part: DIGITS x sort_parts entries of room. */
static void
second_pass(struct ms_edge_order *o, size_t p, size_t *off,
            uint32_t *by_part)
{
    size_t P = o->sort_parts, first, end;
    /* Each part of high's count of each second digit, summed over the
     * parts of nodes that put them there. */
    const uint32_t *second = o->sort_count + P * DIGITS;
    for (size_t q = 0; q < P; q++) {
        for (size_t d = 0; d < DIGITS; d++) {
            uint32_t n = 0;
            for (size_t src = 0; src < P; src++) {
                n += second[src * P * DIGITS + q * DIGITS + d];
            }
            by_part[q * DIGITS + d] = n;
        }
    }
    offsets(by_part, P, DIGITS, p, off);
    part_range(o, p, &first, &end);
    const uint32_t *key = o->high, *node = o->high + o->N;
    for (size_t k = first; k < end; k++) {
        o->perm[node[k]] = (uint32_t)off[key[k] >> MS_ORDER_DIGIT]++;
    }
}

int
ms__order_sort_step(struct ms_edge_order *o, unsigned step, size_t part)
{
    if (step >= o->sort_passes) {
        return 0; /* (one digit: the first step placed them) */
    }
    size_t *off = ms__malloc(DIGITS * sizeof(*off));
    uint32_t *by_part =
        step == 1 ? ms__malloc(o->sort_parts * DIGITS * sizeof(*by_part))
                  : NULL;
    int rc = off == NULL || (step == 1 && by_part == NULL) ? MS_ENOMEM : 0;
    if (rc == 0 && step == 0) {
        first_pass(o, part, off);
    } else if (rc == 0) {
        second_pass(o, part, off, by_part);
    }
    ms__free(off);
    ms__free(by_part);
    return rc;
}

int
ms__order_renumber(struct ms_edge_order *o, unsigned bits)
{
    int rc = ms__order_sort_init(o, bits);
    if (rc == 0) {
        ms__order_count_cells(o, 0, o->N);
    }
    for (unsigned step = 0; rc == 0 && step < o->sort_passes; step++) {
        for (size_t part = 0; rc == 0 && part < o->sort_parts; part++) {
            rc = ms__order_sort_step(o, step, part);
        }
    }
    return rc;
}
