/*
 * kernels_avx2.c: kernels.c compiled with AVX2 (src/meson.build gives this
 * file -mavx2), as ms__kernels_avx2; moments.c runs it only on a processor
 * that has AVX2.  The same source, so the same bits.
 */
#define MS_KERNELS_NAME ms__kernels_avx2
#include "kernels.c"
