/*
 * hdf5_file.h: the open dataset, shared by the two files that make HDF5
 * calls while reading (reader.c and sample_check.c) and by no other.
 */
#ifndef MESHSTATS_HDF5_FILE_H
#define MESHSTATS_HDF5_FILE_H

#include "read/read.h"

#include <hdf5.h>
#include <uv.h>

/* The files a pass reads directly, at most (their descriptors stay open
 * for the pass; past this, datasets of further files are read by HDF5). */
#define MS_MAX_SOURCE_FILES 256

struct ms_source_file;

/* What the checks learn of a datatype (dataset_check.c). */
struct ms_type_facts {
    H5T_class_t cls; /* H5T_NO_CLASS if it could not be read */
    size_t size, precision;
    bool native_float; /* H5T_NATIVE_FLOAT */
    bool float32;      /* IEEE float32 in either byte order */
    bool native_int;   /* H5T_NATIVE_INT64 (8 bytes) or _INT32 (4) */
};

struct ms_file {
    hid_t id;
    char *path;
    bool direct; /* direct reads allowed (MESHSTATS_NO_PREAD unset) */
    enum ms_layout layout;
    const char *prefix; /* where sample groups are: "data/", or "" */
    hid_t samples; /* that group, held open once listed (-1 before): a
                    * sample's datasets are looked up from it, not from
                    * the root (4 of a check's 24 us a sample) */
    /* source_files.c: a descriptor per file that holds data read
     * directly (this one, externally linked ones). */
    uv_mutex_t sources_lock;
    struct ms_source_file *sources;
    size_t nsources, max_sources;
    unsigned long last_fileno; /* the file last asked about (HDF5's */
    int last_fd;               /* number), and its answer; -2: none */
    /* virtual_check.c: how deep in virtual sources the check is. */
    int virtual_depth;
    /* dataset_check.c: the last datatype of nodal_data and of mesh_edge
     * the checks met (a copy, or -1), and what they learnt of it. */
    struct ms_known_type {
        hid_t type;
        struct ms_type_facts facts;
    } known_types[2];
};

/* file_driver.c: HDF5 reads the dataset file (and the files it links to)
 * through meshstats' driver: set it on fapl; false if it was not (it
 * cannot be registered, or MESHSTATS_HDF5_DRIVER=sec2).  Whether a driver's
 * handle is a POSIX descriptor (that driver, or sec2).  How many reads
 * HDF5 asked the driver for, and how many preads it made, since the
 * process started (tests, bench). */
bool ms__driver_use(hid_t fapl);
bool ms__driver_posix(hid_t driver);
void ms__driver_counts(unsigned long *reads_asked, unsigned long *preads);

/* source_files.c: set up and close the list of source files. */
void ms__sources_init(struct ms_file *f);
void ms__sources_close(struct ms_file *f);
/* A descriptor of the file that holds obj (the dataset file or one it
 * links to), valid until f is closed, for pread at the addresses HDF5
 * reports for obj; -1 if obj's bytes must be read through HDF5. */
int ms__source_fd(struct ms_file *f, hid_t obj);
/* The same for obj whose file's number (H5O_info_t.fileno) is known. */
int ms__source_fd_known(struct ms_file *f, hid_t obj, unsigned long fileno);

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
/* The object at path opened (close with H5Oclose, or as its type), or
 * H5I_BADID or H5I_UNINIT as above. */
hid_t ms__object_open(hid_t loc, const char *path);

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
/* The same, for reading: the calling thread's decoders are told the
 * dataset's chunk size (ms__filters_expect). */
int ms__sample_dataset_read_open(struct ms_file *f,
                                 const struct ms_sample_name *s,
                                 const char *leaf, hid_t *out,
                                 struct ms_error *err);

/* Frames [start[0], start[0] + count[0]) x the count[1] x count[2] block at
 * start of <prefix><name>/<leaf>, a rank-3 dataset, converted to mem_type
 * into buf: 0 or a sample failure naming the frames. */
int ms__sample_read_frames(struct ms_file *f, const struct ms_sample_name *s,
                           const char *leaf, const hsize_t start[3],
                           const hsize_t count[3], hid_t mem_type, void *buf,
                           struct ms_error *err);

/* linked_files.c: a file that referrer refers to by name (an external
 * link's, or a virtual dataset's source), looked for as HDF5 does
 * (prefix_env: "HDF5_EXT_PREFIX" or "HDF5_VDS_PREFIX"): 0 and its path in
 * out if found, else an errno (ENOENT: no such file anywhere HDF5
 * looks). */
int ms__find_linked_file(const char *referrer, const char *name,
                         const char *prefix_env, char *out, size_t size);
/* The words for ms__find_linked_file's failure: "does not exist
 * (looked for beside referrer ...)", or why it cannot be read. */
const char *ms__linked_file_problem(int problem, const char *referrer);
/* Why path (in loc, of the file referrer) cannot be looked up, if a link
 * on it leads nowhere: an external link to a file that is not there or
 * lacks the object, or a dangling soft link.  False if no link explains
 * it. */
bool ms__explain_links(hid_t loc, const char *referrer, const char *path,
                       char *buf, size_t size);

/* dataset_check.c: one dataset of a sample, <prefix><name>/<leaf>. */

/* A dataset opened, with its class, rank, dims (rank at most 3) and value
 * size. */
struct ms_dataset_shape {
    hid_t id;
    hid_t type, dcpl; /* its datatype and creation list, got once (no
                       * list for contiguous data at an address) */
    struct ms_type_facts facts; /* (its class and value size among them) */
    int rank;
    hsize_t dims[3];
    /* From the creation list, asked once (H5D_LAYOUT_ERROR and -1 if it
     * could not be got), or known from the address alone: */
    H5D_layout_t layout;
    int nfilters, nexternal;
    haddr_t offset; /* where contiguous data starts, or HADDR_UNDEF */
    bool here;            /* at offset in a file of HDF5's number fileno,
                           * known from the address alone */
    unsigned long fileno;
};

/* Open <prefix><name>/<leaf> into ds and read its shape (close with
 * ms__dataset_shape_close), or a sample failure (missing, not a dataset,
 * a damaged datatype or dataspace) with nothing left open. */
int ms__dataset_open_shape(struct ms_file *f, const struct ms_sample_name *s,
                           const char *leaf, struct ms_dataset_shape *ds,
                           struct ms_error *err);
void ms__dataset_shape_close(struct ms_dataset_shape *ds);
/* That it is stored whole and undamaged (never written, partly written,
 * virtual, damaged layout): 0 or a sample failure.  ds->dims are
 * non-zero. */
int ms__dataset_check_storage(struct ms_file *f,
                              const struct ms_sample_name *s,
                              const char *leaf,
                              const struct ms_dataset_shape *ds,
                              struct ms_error *err);

/* filters.c: check that HDF5 can decode every filter of a dataset's
 * pipeline (dcpl), registering codecs.c's decoder of LZF, Blosc, LZ4 or
 * Zstandard where HDF5 has none: 0 or a sample failure naming the filter
 * and what provides it.  ms__filters_expect: the calling thread is about
 * to read dset through HDF5 (its chunk size bounds what the registered
 * decoders return). */
int ms__filters_check(struct ms_file *f, const struct ms_sample_name *s,
                      const char *leaf, hid_t dcpl, struct ms_error *err);
void ms__filters_expect(hid_t dset);

/* How a virtual dataset's source is checked (dataset_check.c's storage
 * check): what names it in a message. */
typedef int (*ms_source_check_fn)(struct ms_file *f,
                                  const struct ms_sample_name *s,
                                  const char *what, hid_t dset,
                                  struct ms_error *err);

/* virtual_check.c: that every value of a virtual dataset comes from a
 * source dataset that is there (file, dataset, shape, every value mapped)
 * and passes check: 0 or a sample failure naming the source. */
int ms__virtual_check(struct ms_file *f, const struct ms_sample_name *s,
                      const char *leaf, hid_t dset, hid_t dcpl,
                      ms_source_check_fn check, struct ms_error *err);

/* external_check.c: that a dataset stored in count external raw files
 * (H5Pset_external) finds its want bytes there, none past a file's end:
 * 0 or a sample failure naming the raw file. */
int ms__external_check(struct ms_file *f, const struct ms_sample_name *s,
                       const char *leaf, hid_t dset, hid_t dcpl, int count,
                       hsize_t want, struct ms_error *err);

/* Whether a dataset holds IEEE float32 in either byte order (which
 * converts to a native float exactly), and (*native) the native float. */
bool ms__dataset_float32(const struct ms_dataset_shape *ds, bool *native);
/* Where a dataset's values start, and in which file (*fd, from
 * ms__source_fd), if they can be read without HDF5 (contiguous,
 * allocated, no filters or external storage, stored as the native type
 * the caller wants: native, a descriptor of the file that holds them),
 * else MS_NO_DIRECT_READ and *fd -1. */
uint64_t ms__dataset_direct_offset(struct ms_file *f,
                                   const struct ms_dataset_shape *ds,
                                   bool native, int *fd);

/* chunk_read.c: read the slots of chunked native float32 whose filters
 * chunk_decode.c can undo, chunk by chunk, decoding in the calling worker
 * (rs: its scratch, sized for the plan's largest chunk). */
int ms__read_slots_chunked(struct ms_file *f, const struct ms_sample_name *s,
                           const struct ms_sample_shape *shape,
                           const struct ms_slot_list *sl, float *buf,
                           struct ms_read_scratch *rs, struct ms_error *err);

#endif
