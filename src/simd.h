/*
 * simd.h: two-lane SIMD helpers for the kernels of moments.c and
 * features.c, and for no other file.
 */
#ifndef MESHSTATS_SIMD_H
#define MESHSTATS_SIMD_H

/* Two-lane SIMD helpers (moments.c and features.c): GCC vectors of two
 * doubles; on x86-64 the SSE2 instructions, elsewhere the same operations
 * lane by lane.  Every one is exact or correctly rounded, so all builds
 * give the same bits. */
typedef double ms_v2d __attribute__((vector_size(16)));

#if defined(__SSE2__)
#include <emmintrin.h>
/* MINPD/MAXPD are exactly v < lo ? v : lo and v > hi ? v : hi. */
static inline ms_v2d
ms_v2d_min(ms_v2d v, ms_v2d lo)
{
    return (ms_v2d)_mm_min_pd((__m128d)v, (__m128d)lo);
}
static inline ms_v2d
ms_v2d_max(ms_v2d v, ms_v2d hi)
{
    return (ms_v2d)_mm_max_pd((__m128d)v, (__m128d)hi);
}
static inline ms_v2d
ms_v2d_sqrt(ms_v2d v)
{
    return (ms_v2d)_mm_sqrt_pd((__m128d)v);
}
#else
#include <math.h>
static inline ms_v2d
ms_v2d_min(ms_v2d v, ms_v2d lo)
{
    return (ms_v2d){v[0] < lo[0] ? v[0] : lo[0], v[1] < lo[1] ? v[1] : lo[1]};
}
static inline ms_v2d
ms_v2d_max(ms_v2d v, ms_v2d hi)
{
    return (ms_v2d){v[0] > hi[0] ? v[0] : hi[0], v[1] > hi[1] ? v[1] : hi[1]};
}
static inline ms_v2d
ms_v2d_sqrt(ms_v2d v)
{
    return (ms_v2d){sqrt(v[0]), sqrt(v[1])};
}
#endif

/* |v|, the sign bit cleared: for every value (zeros and NaNs included)
 * what max(v, -v) feeds the max that follows it. */
static inline ms_v2d
ms_v2d_abs(ms_v2d v)
{
    typedef long long ms_v2l __attribute__((vector_size(16)));
    return (ms_v2d)((ms_v2l)v & (ms_v2l){0x7fffffffffffffffLL,
                                         0x7fffffffffffffffLL});
}

static inline ms_v2d
ms_v2d_load(const double *p)
{
    ms_v2d v;
    __builtin_memcpy(&v, p, sizeof(v));
    return v;
}

#endif
