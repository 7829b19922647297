/*
 * read/read.h: the files that read a dataset (the files of read/) as the
 * rest of the library calls them; no HDF5 type appears here (read/
 * hdf5_file.h is the folder's own, with them).
 */
#ifndef MESHSTATS_READ_H
#define MESHSTATS_READ_H

#include "features/features.h"

struct ms_file;

/* Where a file keeps its samples: data/<id>/nodal_data and mesh_edge, or
 * DeepMind's trajectory groups <id>/world_pos, ... at the root. */
enum ms_layout { MS_LAYOUT_NODAL, MS_LAYOUT_TRAJECTORY };

struct ms_sample_name {
    int64_t id;
    char *name; /* the group name as stored (may have leading zeros) */
};

/* HDF5's ids of the filters codecs.c can undo. */
enum {
    MS_FILTER_DEFLATE = 1,
    MS_FILTER_SHUFFLE = 2,
    MS_FILTER_LZF = 32000,
    MS_FILTER_BLOSC = 32001,
    MS_FILTER_LZ4 = 32004,
    MS_FILTER_ZSTD = 32015,
};
#define MS_MAX_FILTERS 4

/* The filter pipeline of a chunked dataset that chunk_decode.c can undo:
 * the ids in the order HDF5 applied them on write. */
struct ms_chunk_filters {
    size_t count;
    int id[MS_MAX_FILTERS];
    size_t elem_size;
};

/* One field of a trajectory group, as stored (trajectory_check.c). */
struct ms_field_shape {
    bool present;
    char leaf[12];          /* its name in the group: "mesh_pos" or "pos" */
    size_t T;               /* frames stored: the trajectory's T, or 1 */
    size_t count;           /* N (cells: C) */
    size_t F;               /* components (cells: vertices a cell) */
    size_t elem_size;
    bool single;            /* IEEE float32 */
    uint64_t direct_offset; /* contiguous native float32, else
                             * MS_NO_DIRECT_READ */
    int direct_fd;          /* the file that holds it, for pread */
};

struct ms_sample_shape {
    enum ms_layout layout;
    /* Trajectories: the fields the model reads (T, N and E below are the
     * trajectory's frames, nodes and distinct edges of its cells). */
    struct ms_field_shape *field; /* MS_FIELD_COUNT of them, the caller's
                                   * (ms__trajectory_shape); NULL for a
                                   * nodal sample, which has none */
    size_t F, T, N, E;
    size_t elem_size;  /* bytes per stored nodal_data value */
    bool single;       /* stored as IEEE float32: read into float blocks */
    /* Where nodal_data's bytes start when they can be read directly
     * (contiguous, unfiltered, native float32, no userblock), and a
     * descriptor of the file that holds them (the dataset file, or one
     * it links to: source_files.c); MS_NO_DIRECT_READ and -1 otherwise. */
    uint64_t direct_offset;
    int direct_fd;
    /* The same for mesh_edge, stored as native int64 or int32 (edge_elem
     * its bytes per index). */
    uint64_t edge_offset;
    int edge_fd;
    size_t edge_elem;
    /* Chunked storage: the chunk's extent in timesteps (1 if contiguous). */
    size_t chunk_t;
    /* Chunked native float32 whose filters codecs.c undoes (shuffles, then
     * deflate, LZF, Blosc, LZ4 or Zstandard), in chunks small beside the
     * memory limit: the chunk dims, decoded by the workers; chunk[0] == 0
     * otherwise. */
    size_t chunk[3];
    struct ms_chunk_filters filters;
};

#define MS_NO_DIRECT_READ UINT64_MAX

/* linked_files.c: 0 if path names a readable HDF5 file, else an errno
 * (ENOENT: no file there; ENODEV: not a regular file, which HDF5 would
 * wait on for ever if it is a named pipe; EINVAL: not HDF5; EMFILE and
 * the like: one that cannot be opened now). */
int ms__hdf5_file_at(const char *path);

/* Open path read-only.  MS_ENOENT, MS_EACCES, MS_ENOTHDF5 or MS_EIO. */
int ms__file_open(const char *path, struct ms_file **out,
                  struct ms_error *err);
void ms__file_close(struct ms_file *f);
const char *ms__file_path(const struct ms_file *f);

/* The sample groups under data/, sorted by id then name.  Names that are not
 * decimal integers are reported through warn (may be NULL) and left out.
 * MS_ELAYOUT if there is no data group. */
int ms__file_list_samples(struct ms_file *f, ms_warning_fn warn,
                          void *userdata, struct ms_sample_name **out,
                          size_t *count, struct ms_error *err);
void ms__sample_names_free(struct ms_sample_name *names, size_t count);

/* Which layout the file holds, from its groups: data/ (nodal), else
 * groups named by integers at the root (trajectories); sets where
 * ms__file_list_samples looks.  MS_ELAYOUT if neither. */
int ms__file_detect_layout(struct ms_file *f, struct ms_error *err);
enum ms_layout ms__file_layout(const struct ms_file *f);

/* Check the sample's datasets against the layout (ranks, types, sizes)
 * without reading data.  MS_ELAYOUT with a message on mismatch. */
int ms__sample_shape(struct ms_file *f, const struct ms_sample_name *s,
                     unsigned input_var, unsigned output_var,
                     struct ms_sample_shape *shape, struct ms_error *err);

/* Read edges [first, first + count) of mesh_edge into from and to (the
 * i's and the j's as uint32), checking every index against [0, N), by
 * blocks of at most MS_EDGE_READ_BLOCK edges (16 bytes an edge);
 * MS_ERANGE names the first bad edge.  With from NULL, only check. */
#define MS_EDGE_READ_BLOCK 16384
int ms__sample_read_edges(struct ms_file *f, const struct ms_sample_name *s,
                          const struct ms_sample_shape *shape, size_t first,
                          size_t count, uint32_t *from, uint32_t *to,
                          struct ms_error *err);

/* trajectory_check.c: a trajectory group's fields. */

/* The fields a trajectory holds: the name each is stored under (NULL if
 * absent; mesh_pos may be "pos") and mesh_pos's components (0 if it has
 * none or they cannot be read). */
struct ms_trajectory_fields {
    const char *leaf[MS_FIELD_COUNT];
    size_t mesh_dims;
};

int ms__trajectory_fields(struct ms_file *f, const struct ms_sample_name *s,
                          struct ms_trajectory_fields *out,
                          struct ms_error *err);
/* Check the fields model m reads (class, rank, dims, storage, at least 3
 * frames) and how the dynamic ones can be read.  A sample failure names
 * the field. */
int ms__trajectory_shape(struct ms_file *f, const struct ms_sample_name *s,
                         const struct ms_model *m,
                         struct ms_field_shape *fields,
                         struct ms_sample_shape *shape, struct ms_error *err);

/* trajectory_statics.c: what a trajectory holds once, at frame 0. */

/* Read mesh_pos into mesh_pos (3 doubles a node: x, y and z, 0 for a 2D
 * mesh), node_type into node_type (N values, checked 0..8), and the
 * distinct edges of the cells into from and to (checked against N), their
 * number into *E.  Any output may be NULL: then it is checked only. */
int ms__trajectory_read_statics(struct ms_file *f,
                                const struct ms_sample_name *s,
                                const struct ms_sample_shape *shape,
                                double *mesh_pos, unsigned char *node_type,
                                uint32_t *from, uint32_t *to, size_t *E,
                                struct ms_error *err);

/* A worker's scratch for reading: for chunked data a growable buffer of
 * stored bytes and two of decoded chunk bytes; and the pass's read rate
 * limit (bytes/s, 0: none), which emulates slow storage. */
struct ms_read_scratch {
    unsigned char *raw;
    size_t raw_cap;
    unsigned char *chunk, *tmp;
    size_t chunk_cap;
    unsigned char *frames; /* a trajectory field's frames, as stored */
    size_t frames_cap;
    uint64_t throttle;
};

/* The timesteps a unit reads, which rows of each it needs, and for which
 * nodes: [first, first + count). */
struct ms_slot_list {
    const size_t *t;           /* sorted, distinct */
    const unsigned char *full; /* 1: rows [0, nrows); 0: [3, 3 + part) */
    size_t n;
    size_t nrows;
    size_t part; /* output_var: the displacement rows of a delta slot */
    size_t first, count;
};

/* Read the rows of nodal_data that sl asks for, over its nodes, into buf,
 * laid out as struct ms_block describes (N = sl->count), as float if
 * shape->single, else as double
 * (rows a slot does not need are left as they were; nothing reads them).
 * Contiguous native float32 is read with pread straight into buf, outside
 * HDF5's global lock; chunked data whose filters codecs.c undoes is
 * fetched raw and decoded here (rs is the worker's scratch); everything
 * else goes through H5Dread.  Every path gives the same values.  Safe
 * from worker threads. */
int ms__sample_read_slots(struct ms_file *f, const struct ms_sample_name *s,
                          const struct ms_sample_shape *shape,
                          const struct ms_slot_list *sl, void *buf,
                          struct ms_read_scratch *rs, struct ms_error *err);

/* trajectory_read.c: the model's dynamic fields (world_pos, velocity,
 * stress) at sl's frames, over every node, transposed into buf laid out
 * as struct ms_block describes (row r: the model's r-th component), as
 * float if shape->single, else double; by pread for contiguous native
 * float32, else H5Dread.  Safe from worker threads. */
int ms__trajectory_read_frames(struct ms_file *f,
                               const struct ms_sample_name *s,
                               const struct ms_sample_shape *shape,
                               const struct ms_model *m,
                               const struct ms_slot_list *sl, void *buf,
                               struct ms_read_scratch *rs,
                               struct ms_error *err);

/* Whether slot i of sl needs row. */
static inline bool
ms__slot_needs_row(const struct ms_slot_list *sl, size_t i, size_t row)
{
    return sl->full[i] || (row >= MS_ROW_DISPLACEMENT &&
                           row < MS_ROW_DISPLACEMENT + sl->part);
}

/* codecs.c: filter (an MS_FILTER_ id) undone on in_bytes of in, into
 * exactly want bytes of out (elem: the value size, for shuffle): 0,
 * MS_EIO if they do not decode to want bytes, or MS_ENOMEM.  Reentrant. */
int ms__codec_decode(int filter, const unsigned char *in, size_t in_bytes,
                     unsigned char *out, size_t want, size_t elem);
/* Whether codecs.c can undo filter. */
bool ms__codec_known(int filter);
/* The size in decodes to, from its own header or the filter's client
 * data cd (LZF): false if it cannot be told. */
bool ms__codec_decoded_size(int filter, const unsigned char *in,
                            size_t in_bytes, const unsigned *cd, size_t ncd,
                            size_t *want);

/* chunk_decode.c: turn a chunk's stored bytes (raw_bytes of them, with
 * HDF5's filter_mask) into its chunk_bytes of values in out; tmp is
 * chunk_bytes of scratch.  MS_EIO if the bytes do not decode. */
int ms__chunk_decode(const struct ms_chunk_filters *filters,
                     uint32_t filter_mask, const unsigned char *raw,
                     size_t raw_bytes, unsigned char *out, size_t chunk_bytes,
                     unsigned char *tmp);

/* direct_read.c: what a direct read needs to know. */
struct ms_direct_source {
    int fd;
    const char *path;
    const struct ms_sample_name *sample;
    const struct ms_sample_shape *shape;
};

/* Read exactly want bytes (or count floats) at byte offset of fd into
 * dst: 0 or errno. */
int ms__pread_bytes(int fd, uint64_t offset, size_t bytes, void *dst);
int ms__pread_floats(int fd, uint64_t offset, size_t count, float *dst);
int ms__direct_read_slots(const struct ms_direct_source *src,
                          const struct ms_slot_list *sl, float *buf,
                          struct ms_error *err);
/* Sleep until a read of bytes started at start has taken at least
 * bytes / bps seconds (no-op for bps 0): the pass's --throttle. */
struct timespec;
void ms__throttle_reads(const struct timespec *start, size_t bytes,
                        uint64_t bps);

/* read_verify.c: whether MESHSTATS_VERIFY_READS=1 asks every read that
 * bypassed H5Dread to be compared with H5Dread's (never in a release
 * build), and the sample's error when they differ (at: the first value
 * that differs). */
bool ms__verify_reads(void);
int ms__verify_failed(struct ms_error *err, const char *path,
                      const struct ms_sample_name *s, const char *dataset,
                      size_t at);

/* Test hook (process-wide, set between passes): force every read through
 * H5Dread, to compare the read paths. */
void ms__reader_force_hdf5(bool force);

/* Turn off HDF5's automatic error printing for the calling thread. */
void ms__hdf5_quiet(void);
/* HDF5's innermost message for the failure that just happened. */
void ms__hdf5_last_error(char *buf, size_t size);
/* The ids stored at metadata/splits/<name> of the dataset at path (any
 * integer type, rank 0 or 1), in a new array (free with ms__free). */
int ms__read_split(const char *path, const char *name, int64_t **ids,
                   size_t *count, struct ms_error *err);

/* The HDF5 library version, for --version. */
void ms__hdf5_version(char *buf, size_t size);

#endif
