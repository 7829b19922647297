/*
 * generate/generate.h: the synthetic datasets of meshstats generate.
 */
#ifndef MESHSTATS_GENERATE_H
#define MESHSTATS_GENERATE_H

#include "read/read.h"
#include "results/results.h"

/* ------------------------------------------------------------------ */
/* generate_util.c, generate_trajectory.c: the synthetic datasets. */

uint64_t ms__splitmix64(uint64_t *state);
/* Uniform in [0, 1). */
double ms__uniform(uint64_t *state);
/* metadata/splits/{train,val,test} of an HDF5 file (an hid_t): 80/10/10
 * of the ids 0 .. samples - 1.  0, MS_ENOMEM or MS_EIO. */
int ms__write_splits(int64_t file, unsigned samples);
/* A generated file while it is written: at a temporary name beside path,
 * through the write-back driver (direct), which stops at the first failed
 * write (a full disk, a file size limit) and lets HDF5 close the file
 * cleanly (HDF5 1.10 crashes at exit on a file whose close failed). */
struct ms_gen_file {
    int64_t file; /* an hid_t; < 0 if it could not be created */
    int failed;   /* the first failed write's errno */
    char *temp;
};
/* Create it: 0, or MS_EIO / MS_ENOMEM said in err. */
int ms__gen_create(struct ms_gen_file *g, const char *path,
                   struct ms_error *err);
/* Close it: with rc 0 and every write done, renamed to path; otherwise
 * removed, and the failure said in err (the write's errno before HDF5's
 * message).  Returns the result. */
int ms__gen_finish(struct ms_gen_file *g, const char *path, int rc,
                   struct ms_error *err);
/* ms_generate for a trajectory model (o->model CLOTH, CFD or PLATE). */
int ms__generate_trajectories(const char *path,
                              const struct ms_generate_options *o,
                              struct ms_error *err);
#endif /* MESHSTATS_GENERATE_H */
