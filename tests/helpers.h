/*
 * helpers.h: fixtures and references shared by the Criterion tests.
 *
 * Fixtures are written to a fresh temporary folder, never to the working
 * directory.  The reference statistics are a two-pass computation in long
 * double, independent of src/moments.c.
 */
#ifndef MESHSTATS_TEST_HELPERS_H
#define MESHSTATS_TEST_HELPERS_H

#include <hdf5.h>

#include <stddef.h>
#include <stdint.h>

/* A new temporary folder (removed by helper_tmpdir_remove). */
char *helper_tmpdir(void);
void helper_tmpdir_remove(char *dir);
/* dir/name in a static buffer per call site's own copy: caller frees. */
char *helper_path(const char *dir, const char *name);

/* Two-pass mean and population std in long double. */
long double ref_mean(const double *x, size_t n);
long double ref_std(const double *x, size_t n);

/* A new HDF5 file (truncated), with a data group when with_data. */
hid_t helper_h5_create(const char *path, int with_data);
/* data/<name>/nodal_data of shape dims (rank 1..3) stored as file_type,
 * from doubles. */
void helper_h5_nodal(hid_t file, const char *name, hid_t file_type, int rank,
                     const hsize_t *dims, const double *values);
/* data/<name>/mesh_edge of shape (2, E) stored as file_type, from int64. */
void helper_h5_edges(hid_t file, const char *name, hid_t file_type,
                     const int64_t *edges, size_t E);
/* A whole plain sample: F x T x N float64 values and E edges. */
void helper_h5_sample(hid_t file, const char *name, size_t F, size_t T,
                      size_t N, const double *values, const int64_t *edges,
                      size_t E);

/* Run the meshstats executable with args (NULL-terminated) and return its
 * exit status; its stderr is captured into err (may be NULL, size bytes). */
int helper_run(const char *const *args, char *err, size_t size);
/* The path of the meshstats executable under test. */
const char *helper_exe(void);

/* Fill values (F x T x N) with a smooth deterministic field. */
void helper_fill(double *values, size_t F, size_t T, size_t N, double seed);

#endif
