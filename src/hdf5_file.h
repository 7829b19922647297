/*
 * hdf5_file.h: the open dataset, shared by the two files that make HDF5
 * calls while reading (reader.c and sample_check.c) and by no other.
 */
#ifndef MESHSTATS_HDF5_FILE_H
#define MESHSTATS_HDF5_FILE_H

#include "internal.h"

#include <hdf5.h>

struct ms_file {
    hid_t id;
    char *path;
    int fd; /* for direct reads; -1 if they are off */
    enum ms_layout layout;
    const char *prefix; /* where sample groups are: "data/", or "" */
};

/* Fail the sample: set rc and err to "<file>: sample <id>: <what>" and go
 * to the function's done label (f, s, rc and err are in scope). */
#define SAMPLE_FAIL(code, ...)                                               \
    do {                                                                     \
        char what_[640];                                                     \
        snprintf(what_, sizeof(what_), __VA_ARGS__);                         \
        rc = ms__error_set(err, (code), "%s: sample %lld: %s", f->path,     \
                           (long long)s->id, what_);                         \
        goto done;                                                           \
    } while (0)

/* The HDF5 object type at path: H5I_BADID if there is none, H5I_UNINIT
 * if HDF5 fails to look it up or open it (damaged metadata, or out of
 * memory; ms__hdf5_last_error says which). */
H5I_type_t ms__object_type(hid_t loc, const char *path);

/* ms__object_type of path inside sample s, as a sample failure ("cannot
 * be looked up: <HDF5's reason>") when HDF5 fails to look it up. */
int ms__sample_object_type(struct ms_file *f, const struct ms_sample_name *s,
                           const char *path, H5I_type_t *type,
                           struct ms_error *err);

/* Open data/<name>/<leaf> as a dataset into *out (close it with
 * H5Dclose), or explain why it cannot be: 0 or a sample failure. */
int ms__sample_dataset_open(struct ms_file *f, const struct ms_sample_name *s,
                            const char *leaf, hid_t *out,
                            struct ms_error *err);

/* Frames [start[0], start[0] + count[0]) x the count[1] x count[2] block at
 * start of <prefix><name>/<leaf>, a rank-3 dataset, converted to mem_type
 * into buf: 0 or a sample failure naming the frames. */
int ms__sample_read_frames(struct ms_file *f, const struct ms_sample_name *s,
                           const char *leaf, const hsize_t start[3],
                           const hsize_t count[3], hid_t mem_type, void *buf,
                           struct ms_error *err);

/* dataset_check.c: one dataset of a sample, <prefix><name>/<leaf>. */

/* A dataset opened, with its class, rank, dims (rank at most 3) and value
 * size. */
struct ms_dataset_shape {
    hid_t id;
    H5T_class_t cls;
    int rank;
    hsize_t dims[3];
    size_t elem;
};

/* Open <prefix><name>/<leaf> into ds and read its shape (close ds->id
 * with H5Dclose), or a sample failure (missing, not a dataset, a damaged
 * datatype or dataspace) with nothing left open. */
int ms__dataset_open_shape(struct ms_file *f, const struct ms_sample_name *s,
                           const char *leaf, struct ms_dataset_shape *ds,
                           struct ms_error *err);
/* That it is stored whole and undamaged (never written, partly written,
 * virtual, damaged layout): 0 or a sample failure.  dims are non-zero. */
int ms__dataset_check_storage(struct ms_file *f,
                              const struct ms_sample_name *s,
                              const char *leaf, hid_t dset, int rank,
                              const hsize_t *dims, size_t elem,
                              struct ms_error *err);

/* Where a dataset's values start in the file if they can be read without
 * HDF5 (contiguous, allocated, no filters or external files, stored as
 * the native type given, a descriptor for direct reads), else
 * MS_NO_DIRECT_READ. */
uint64_t ms__dataset_direct_offset(struct ms_file *f, hid_t dset,
                                   hid_t native);

/* chunk_read.c: read the slots of chunked native float32 whose filters
 * chunk_decode.c can undo, chunk by chunk, decoding in the calling worker
 * (rs: its scratch, sized for the plan's largest chunk). */
int ms__read_slots_chunked(struct ms_file *f, const struct ms_sample_name *s,
                           const struct ms_sample_shape *shape,
                           const struct ms_slot_list *sl, float *buf,
                           struct ms_read_scratch *rs, struct ms_error *err);

#endif
