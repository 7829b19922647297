/*
 * generate/generate.h: the synthetic datasets of meshstats generate.
 */
#ifndef MESHSTATS_GENERATE_H
#define MESHSTATS_GENERATE_H

#include "read/read.h"

/* ------------------------------------------------------------------ */
/* generate_util.c, generate_trajectory.c: the synthetic datasets. */

uint64_t ms__splitmix64(uint64_t *state);
/* Uniform in [0, 1). */
double ms__uniform(uint64_t *state);
/* metadata/splits/{train,val,test} of an HDF5 file (an hid_t): 80/10/10
 * of the ids 0 .. samples - 1.  0, MS_ENOMEM or MS_EIO. */
int ms__write_splits(int64_t file, unsigned samples);
/* ms_generate for a trajectory model (o->model CLOTH, CFD or PLATE). */
int ms__generate_trajectories(const char *path,
                              const struct ms_generate_options *o,
                              struct ms_error *err);
#endif /* MESHSTATS_GENERATE_H */
