/*
 * simd.h: vectors of four doubles for the loops of kernels.c, and for no
 * other file.
 *
 * ms_v4d is one AVX register where the file is compiled for AVX
 * (kernels_avx2.c), else two SSE2 registers (a struct of two GCC vectors
 * of two doubles: left to the compiler, a vector of four would go through
 * memory).  Every operation is lane by lane and exact or correctly
 * rounded, so both give the same bits.
 */
#ifndef MESHSTATS_SIMD_H
#define MESHSTATS_SIMD_H

#include <stdbool.h>

typedef double ms_v2d __attribute__((vector_size(16)));
typedef float ms_v4f __attribute__((vector_size(16)));

#define MS_SIMD_INLINE static inline __attribute__((always_inline))

/* Every function here is inlined, so the calling convention of a vector
 * argument (which compilers warn differs with and without AVX) never
 * applies. */
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wpsabi"
#elif defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

MS_SIMD_INLINE ms_v2d
ms_v2d_load(const double *p)
{
    ms_v2d v;
    __builtin_memcpy(&v, p, sizeof(v));
    return v;
}

#if defined(__AVX__)
#include <immintrin.h>

typedef double ms_v4d __attribute__((vector_size(32)));

#define MS_V4D_OP(name, op)                                                    \
    MS_SIMD_INLINE ms_v4d name(ms_v4d a, ms_v4d b)                             \
    {                                                                          \
        return a op b;                                                         \
    }
/* VMINPD/VMAXPD are exactly v < lo ? v : lo and v > hi ? v : hi. */
#define MS_V4D_MINMAX(name, insn)                                              \
    MS_SIMD_INLINE ms_v4d name(ms_v4d v, ms_v4d w)                             \
    {                                                                          \
        return (ms_v4d)insn((__m256d)v, (__m256d)w);                           \
    }
MS_V4D_MINMAX(ms_v4d_min, _mm256_min_pd)
MS_V4D_MINMAX(ms_v4d_max, _mm256_max_pd)

MS_SIMD_INLINE ms_v4d
ms_v4d_sqrt(ms_v4d v)
{
    return (ms_v4d)_mm256_sqrt_pd((__m256d)v);
}

MS_SIMD_INLINE ms_v4d
ms_v4d_of(double a, double b, double c, double d)
{
    return (ms_v4d){a, b, c, d};
}

MS_SIMD_INLINE double
ms_v4d_lane(ms_v4d v, int l)
{
    return v[l];
}

MS_SIMD_INLINE ms_v4d
ms_v4d_load(const double *p)
{
    return (ms_v4d)_mm256_loadu_pd(p);
}

/* Four floats, widened exactly. */
MS_SIMD_INLINE ms_v4d
ms_v4d_load4f(const float *p)
{
    return (ms_v4d)_mm256_cvtps_pd(_mm_loadu_ps(p));
}

MS_SIMD_INLINE void
ms_v4d_store(double *p, ms_v4d v)
{
    _mm256_storeu_pd(p, (__m256d)v);
}

/* From the x, y pairs of four points, the four x and the four y. */
MS_SIMD_INLINE void
ms_v4d_split_xy(const ms_v2d xy[4], ms_v4d *x, ms_v4d *y)
{
    __m256d xy02 = _mm256_insertf128_pd(
        _mm256_castpd128_pd256((__m128d)xy[0]), (__m128d)xy[2], 1);
    __m256d xy13 = _mm256_insertf128_pd(
        _mm256_castpd128_pd256((__m128d)xy[1]), (__m128d)xy[3], 1);
    *x = (ms_v4d)_mm256_unpacklo_pd(xy02, xy13);
    *y = (ms_v4d)_mm256_unpackhi_pd(xy02, xy13);
}

#if defined(__AVX2__)
/* Four 64-bit integers (AVX2 only: the baseline build counts one value at
 * a time). */
typedef long long ms_v4i __attribute__((vector_size(32)));

MS_SIMD_INLINE ms_v4i
ms_v4i_all(long long a)
{
    return (ms_v4i){a, a, a, a};
}

/* Each lane shifted right, logically, by the same count. */
MS_SIMD_INLINE ms_v4i
ms_v4i_shift_right(ms_v4i v, unsigned count)
{
    return (ms_v4i)_mm256_srl_epi64((__m256i)v,
                                    _mm_cvtsi32_si128((int)count));
}

MS_SIMD_INLINE bool
ms_v4i_none(ms_v4i mask)
{
    return _mm256_testz_si256((__m256i)mask, (__m256i)mask) != 0;
}
#endif

MS_SIMD_INLINE ms_v4d
ms_v4d_abs(ms_v4d v)
{
    typedef long long v4l __attribute__((vector_size(32)));
    const long long m = 0x7fffffffffffffffLL;
    return (ms_v4d)((v4l)v & (v4l){m, m, m, m});
}

#else
/* Two lanes: SSE2 where there is SSE2 (every x86-64), else lane by lane. */
#if defined(__SSE2__)
#include <emmintrin.h>
#define MS_V2D_MIN(a, b) ((ms_v2d)_mm_min_pd((__m128d)(a), (__m128d)(b)))
#define MS_V2D_MAX(a, b) ((ms_v2d)_mm_max_pd((__m128d)(a), (__m128d)(b)))
#define MS_V2D_SQRT(a) ((ms_v2d)_mm_sqrt_pd((__m128d)(a)))
#else
#include <math.h>
#define MS_V2D_MIN(a, b)                                                       \
    ((ms_v2d){(a)[0] < (b)[0] ? (a)[0] : (b)[0],                               \
              (a)[1] < (b)[1] ? (a)[1] : (b)[1]})
#define MS_V2D_MAX(a, b)                                                       \
    ((ms_v2d){(a)[0] > (b)[0] ? (a)[0] : (b)[0],                               \
              (a)[1] > (b)[1] ? (a)[1] : (b)[1]})
#define MS_V2D_SQRT(a) ((ms_v2d){sqrt((a)[0]), sqrt((a)[1])})
#endif

typedef struct {
    ms_v2d lo, hi; /* lanes 0-1, 2-3 */
} ms_v4d;

#define MS_V4D_OP(name, op)                                                    \
    MS_SIMD_INLINE ms_v4d name(ms_v4d a, ms_v4d b)                             \
    {                                                                          \
        return (ms_v4d){a.lo op b.lo, a.hi op b.hi};                           \
    }

/* Exactly v < w ? v : w and v > w ? v : w, lane by lane. */
MS_SIMD_INLINE ms_v4d
ms_v4d_min(ms_v4d v, ms_v4d w)
{
    return (ms_v4d){MS_V2D_MIN(v.lo, w.lo), MS_V2D_MIN(v.hi, w.hi)};
}

MS_SIMD_INLINE ms_v4d
ms_v4d_max(ms_v4d v, ms_v4d w)
{
    return (ms_v4d){MS_V2D_MAX(v.lo, w.lo), MS_V2D_MAX(v.hi, w.hi)};
}

MS_SIMD_INLINE ms_v4d
ms_v4d_sqrt(ms_v4d v)
{
    return (ms_v4d){MS_V2D_SQRT(v.lo), MS_V2D_SQRT(v.hi)};
}

MS_SIMD_INLINE ms_v4d
ms_v4d_of(double a, double b, double c, double d)
{
    return (ms_v4d){{a, b}, {c, d}};
}

MS_SIMD_INLINE double
ms_v4d_lane(ms_v4d v, int l)
{
    return l < 2 ? v.lo[l] : v.hi[l - 2];
}

MS_SIMD_INLINE ms_v4d
ms_v4d_load(const double *p)
{
    return (ms_v4d){ms_v2d_load(p), ms_v2d_load(p + 2)};
}

MS_SIMD_INLINE ms_v4d
ms_v4d_load4f(const float *p)
{
    typedef float v2f __attribute__((vector_size(8)));
    v2f a, b;
    __builtin_memcpy(&a, p, sizeof(a));
    __builtin_memcpy(&b, p + 2, sizeof(b));
    return (ms_v4d){__builtin_convertvector(a, ms_v2d),
                    __builtin_convertvector(b, ms_v2d)};
}

MS_SIMD_INLINE void
ms_v4d_store(double *p, ms_v4d v)
{
    __builtin_memcpy(p, &v.lo, sizeof(v.lo));
    __builtin_memcpy(p + 2, &v.hi, sizeof(v.hi));
}

MS_SIMD_INLINE void
ms_v4d_split_xy(const ms_v2d xy[4], ms_v4d *x, ms_v4d *y)
{
    *x = (ms_v4d){{xy[0][0], xy[1][0]}, {xy[2][0], xy[3][0]}};
    *y = (ms_v4d){{xy[0][1], xy[1][1]}, {xy[2][1], xy[3][1]}};
}

MS_SIMD_INLINE ms_v4d
ms_v4d_abs(ms_v4d v)
{
    typedef long long v2l __attribute__((vector_size(16)));
    const long long m = 0x7fffffffffffffffLL;
    return (ms_v4d){(ms_v2d)((v2l)v.lo & (v2l){m, m}),
                    (ms_v2d)((v2l)v.hi & (v2l){m, m})};
}
#endif

MS_V4D_OP(ms_v4d_add, +)
MS_V4D_OP(ms_v4d_sub, -)
MS_V4D_OP(ms_v4d_mul, *)

MS_SIMD_INLINE ms_v4d
ms_v4d_all(double x)
{
    return ms_v4d_of(x, x, x, x);
}

/* The sum of the lanes, as (l0 + l1) + (l2 + l3). */
MS_SIMD_INLINE double
ms_v4d_total(ms_v4d v)
{
    return (ms_v4d_lane(v, 0) + ms_v4d_lane(v, 1)) +
           (ms_v4d_lane(v, 2) + ms_v4d_lane(v, 3));
}

#endif
