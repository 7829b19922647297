/*
 * meshstats.h: the one public header of libmeshstats.
 *
 * libmeshstats computes the z-score normalization statistics (count, mean,
 * population std, min, max) of the node, edge and delta features of an HDF5
 * mesh dataset in one streaming pass, and writes them as a table, as JSON or
 * back into the dataset.  No HDF5 or libuv type appears here: both stay
 * private to the library.
 *
 * Conventions: fallible functions return 0 or a negative MS_E* code and fill
 * a caller-provided struct ms_error (which may be NULL) with a message that
 * names the file, the sample id and the dataset path involved.  The library
 * never prints and never exits.  Heap objects are made by *_create or a
 * function that hands back a pointer, and freed by *_destroy, which accepts
 * NULL; caller-owned storage is set up by *_init and released by *_finish.
 */
#ifndef MESHSTATS_H
#define MESHSTATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MS_VERSION_MAJOR 0
#define MS_VERSION_MINOR 1
#define MS_VERSION_PATCH 0
#define MS_VERSION_STRING "0.1.0"

/* X(name, value, message): the one list of error codes. */
#define MS_ERRNO_MAP(X)                                                      \
    X(EINVAL, -1, "invalid argument or setting")                             \
    X(ENOMEM, -2, "out of memory")                                           \
    X(ENOENT, -3, "no such file")                                            \
    X(EACCES, -4, "permission denied")                                       \
    X(EIO, -5, "read or write error")                                        \
    X(ENOTHDF5, -6, "not an HDF5 file")                                      \
    X(ELAYOUT, -7, "dataset layout does not match the contract")             \
    X(ERANGE, -8, "edge index out of range")                                 \
    X(ENONFINITE, -9, "non-finite value in the data")                        \
    X(ENOSAMPLES, -10, "no usable samples")                                  \
    X(ETOOBIG, -11, "does not fit in the memory limit")                      \
    X(EOVERFLOW, -12, "size overflows")                                      \
    X(EBADSAMPLE, -13, "bad sample (strict mode)")                           \
    X(ECANCELED, -14, "operation canceled")                                  \
    X(EEMPTY, -15, "a statistics group has no rows")                         \
    X(ENOTFOUND, -16, "selected samples are not in the dataset")

enum ms_errno {
    MS_OK = 0,
#define MS_ERRNO_ENUM(name, value, msg) MS_##name = (value),
    MS_ERRNO_MAP(MS_ERRNO_ENUM)
#undef MS_ERRNO_ENUM
};

/* A failure's code and a sentence saying what went wrong and where. */
struct ms_error {
    int code;
    int signal; /* with MS_ECANCELED: the signal that stopped the pass */
    char message[1024];
};

/* The message for an error code ("unknown error" for codes not listed). */
const char *ms_strerror(int code);
/* The symbolic name of an error code ("MS_ENOMEM"). */
const char *ms_err_name(int code);

/* The version of the library, and of HDF5 and libuv it runs with. */
const char *ms_version(void);
void ms_version_dependencies(char *buf, size_t size);

/* ------------------------------------------------------------------ */
/* Options of a computation.                                           */

enum ms_progress_mode {
    MS_PROGRESS_AUTO = 0,
    MS_PROGRESS_ALWAYS,
    MS_PROGRESS_NEVER,
};

/* Called on the calling thread for every sample that is skipped, and for
 * every name under data/ that is not a sample id (then id is -1). */
typedef void (*ms_warning_fn)(void *userdata, int64_t id, const char *message);

/* Where a pass stands. */
struct ms_progress {
    size_t samples_done, samples_total;
    uint64_t units_done, units_total;
    uint64_t bytes_done, bytes_total; /* stored bytes of nodal_data */
    double elapsed;                   /* seconds since the pass started */
    bool finished;                    /* the last report of the pass */
};

/* Called on the calling thread at most every 100 ms while a pass runs, and
 * once more with finished set when it ends (successfully or not). */
typedef void (*ms_progress_fn)(void *userdata, const struct ms_progress *p);

/* Which samples a pass uses: sorted, distinct ids, and where they came
 * from ("samples 1-80,85", "list ids.txt", "split train").  Made by the
 * ms_selection_* functions, released with ms_selection_finish. */
struct ms_selection {
    int64_t *ids;
    size_t count;
    char *source;
};

/* Parse "1-80,85,90-99" (inclusive ranges; overlaps and duplicates merge).
 * MS_EINVAL names the bad piece: garbage, a negative or reversed range. */
int ms_selection_parse(struct ms_selection *sel, const char *text,
                       struct ms_error *err);
/* Read ids from a file (one per line, `#` comments, blank lines ignored);
 * path "-" reads standard input. */
int ms_selection_read_list(struct ms_selection *sel, const char *path,
                           struct ms_error *err);
/* The ids stored in the dataset at metadata/splits/<name> (integers). */
int ms_selection_from_split(struct ms_selection *sel, const char *dataset,
                            const char *name, struct ms_error *err);
void ms_selection_finish(struct ms_selection *sel);

/* The largest input_var and output_var accepted. */
#define MS_MAX_VARS 1024

struct ms_options {
    unsigned input_var;     /* node features per node (rows 3..3+input_var) */
    unsigned output_var;    /* delta features per node */
    unsigned max_timesteps; /* 0: every timestep; M: the seed's sampling */
    unsigned workers;       /* worker threads; 0: the online cores */
    unsigned prefetch;      /* work units in flight; 0: automatic */
    uint64_t memory_limit;  /* bytes buffered at once */
    bool strict;            /* a bad sample fails the run */
    bool skip_nonfinite;    /* skip rows with NaN/Inf instead of failing */
    bool handle_signals;    /* SIGINT/SIGTERM stop the pass: MS_ECANCELED */
    uint64_t read_throttle; /* bytes/s each read is slowed to, emulating
                             * slow storage for benchmarks; 0: off */
    const struct ms_selection *selection; /* NULL: every sample; borrowed */
    bool per_sample;        /* keep each sample's statistics too */
    ms_warning_fn on_warning; /* may be NULL */
    ms_progress_fn on_progress; /* may be NULL */
    void *userdata;
};

/* Fill *opts with the documented defaults (input_var 4, output_var 4, all
 * timesteps, automatic workers and prefetch, 256 MiB, not strict). */
void ms_options_init(struct ms_options *opts);

/* ------------------------------------------------------------------ */
/* Results.                                                            */

enum ms_group_kind {
    MS_GROUP_NODE = 0,
    MS_GROUP_EDGE,
    MS_GROUP_DELTA,
    MS_GROUP_COUNT
};

struct ms_feature_stats {
    double mean;
    double std; /* population std (divide by count), not clamped */
    double min;
    double max;
};

struct ms_group_stats {
    uint64_t count;          /* rows */
    uint64_t nonfinite_skipped; /* rows skipped under skip_nonfinite */
    size_t nfeatures;
    struct ms_feature_stats *features; /* nfeatures entries */
};

struct ms_skipped_sample {
    int64_t id;
    char *reason;
};

/* How a pass ran (never part of the JSON, which must not vary). */
struct ms_run_info {
    unsigned workers;       /* threadpool size used */
    unsigned prefetch;      /* units in flight at most */
    size_t units;           /* work units run */
    uint64_t bytes_read;    /* stored bytes of nodal_data read */
    double wall_seconds;    /* the pass, from first read to last fold */
    double read_seconds;    /* summed over workers */
    double compute_seconds; /* summed over workers */
};

/* One sample's statistics (with ms_options.per_sample). */
struct ms_sample_report {
    int64_t id;
    size_t N, E;
    size_t timesteps; /* node timesteps used */
    struct ms_group_stats groups[MS_GROUP_COUNT];
};

struct ms_stats {
    char *dataset; /* the path as given */
    char *selection; /* its source, or NULL when every sample was used */
    int64_t *selection_ids; /* the selected ids (NULL: every sample) */
    size_t nselection_ids;
    unsigned input_var;
    unsigned output_var;
    unsigned max_timesteps;
    bool skip_nonfinite;
    size_t samples_found;
    size_t samples_used;
    size_t nskipped;
    struct ms_skipped_sample *skipped;
    struct ms_group_stats groups[MS_GROUP_COUNT];
    size_t nreports;                   /* with per_sample: samples_used */
    struct ms_sample_report *reports;  /* in id order */
    struct ms_run_info info;
};

/*
 * Compute the statistics of the dataset at path.  On success returns 0 and
 * sets *out to a new object (free it with ms_stats_destroy).  On failure
 * returns a negative MS_E* code, fills *err and leaves *out NULL.  The file
 * is opened read-only.  Samples that do not match the layout are skipped
 * (reported through opts->on_warning and listed in the result) unless
 * opts->strict is set.
 */
int ms_stats_compute(const char *path, const struct ms_options *opts,
                     struct ms_stats **out, struct ms_error *err);
void ms_stats_destroy(struct ms_stats *stats);

/* Write the result as JSON (SPEC 5.2), ending with a newline. */
int ms_stats_write_json(const struct ms_stats *stats, FILE *out);
/* Write the result as a human-readable table. */
int ms_stats_write_table(const struct ms_stats *stats, FILE *out);

/* How far sample report i lies from the dataset: the largest
 * |sample mean - dataset mean| / dataset std over every feature of every
 * group, and which group and feature that is. */
double ms_stats_outlier_score(const struct ms_stats *stats, size_t i,
                              enum ms_group_kind *group, size_t *feature);
/* Write the per-sample reports as CSV: id, N, E, timesteps, then count,
 * mean, std, min, max of every feature of every group, then the outlier
 * score and its feature. */
int ms_stats_write_per_sample_csv(const struct ms_stats *stats, FILE *out);

/*
 * Store the result in the dataset at path, under
 * metadata/normalization_params (SPEC 5.3): float32 datasets with std
 * clamped to at least 1e-8, replacing datasets of the same names, and
 * attributes with the mode and the meshstats version.  Touches nothing else.
 */
int ms_stats_write_back(const struct ms_stats *stats, const char *path,
                        struct ms_error *err);

/* Format a one-line progress bar for a terminal width columns wide, as pv
 * and tqdm do: percent, a bar, samples done of total, MB/s, elapsed and
 * ETA.  Returns the length written (always < size). */
size_t ms_progress_format(const struct ms_progress *p, unsigned columns,
                          char *buf, size_t size);

/* The display name of feature i of a group ("disp_x", "|r|", ...). */
void ms_feature_name(enum ms_group_kind group, size_t i, char *buf,
                     size_t size);
const char *ms_group_name(enum ms_group_kind group);

/* ------------------------------------------------------------------ */
/* Several processes (MPI).                                            */

/* Start MPI when the program was launched by mpirun or srun (and the
 * library was built with MPI); otherwise do nothing.  Every rank then runs
 * ms_stats_compute on its share of the samples, and rank 0's result is the
 * whole dataset's, byte-identical to one process.  Returns the rank. */
int ms_parallel_init(int *argc, char ***argv);
void ms_parallel_finish(void);
int ms_parallel_rank(void);
int ms_parallel_size(void);

/* ------------------------------------------------------------------ */
/* Settings: config.txt and the command line.                          */

enum ms_origin_kind {
    MS_ORIGIN_DEFAULT = 0,
    MS_ORIGIN_FILE,
    MS_ORIGIN_COMMAND_LINE,
    MS_ORIGIN_ENVIRONMENT,
};

/* Where a setting's value came from (line: of the config file). */
struct ms_origin {
    enum ms_origin_kind kind;
    unsigned line;
};

/* Every setting config.txt can hold, by its key. */
enum ms_setting {
    MS_SET_INPUT_VAR = 0,
    MS_SET_OUTPUT_VAR,
    MS_SET_MAX_TIMESTEPS,
    MS_SET_WORKERS,
    MS_SET_PARALLEL,
    MS_SET_PREFETCH,
    MS_SET_MEMORY_LIMIT,
    MS_SET_WRITE_BACK,
    MS_SET_PROGRESS,
    MS_SET_SKIP_NONFINITE,
    MS_SET_DATASET,
    MS_SET_SAMPLES,
    MS_SET_COUNT
};

/* Everything config.txt can set, with the options of a computation. */
struct ms_settings {
    struct ms_options options;
    char *dataset;            /* dataset_dir; owned, may be NULL */
    char *samples;            /* stats_samples ("1-80,85"); owned, may be NULL */
    bool write_back;          /* write_normalization_params */
    bool use_parallel_stats;  /* False forces one worker */
    bool workers_set;         /* workers came from stats_workers or -j */
    enum ms_progress_mode progress;
    struct ms_origin origin[MS_SET_COUNT];
    char *config_path;        /* the file FILE origins refer to; owned */
};

/* The config key of a setting ("input_var"). */
const char *ms_setting_key(enum ms_setting setting);
/* The effective value of a setting as text ("auto", "256M", "True"). */
void ms_setting_value(const struct ms_settings *s, enum ms_setting setting,
                      char *buf, size_t size);

void ms_settings_init(struct ms_settings *s);
void ms_settings_finish(struct ms_settings *s);

/*
 * Apply the config text (len bytes, need not be NUL-terminated) to *s.
 * name is used in messages ("config.txt:12: ...").  Unknown keys are
 * ignored; a known key with an unusable value is MS_EINVAL naming the line.
 */
int ms_settings_parse_config(struct ms_settings *s, const char *text,
                             size_t len, const char *name,
                             struct ms_error *err);
/* Read the config file at path and apply it (MS_ENOENT if it is missing). */
int ms_settings_load_config(struct ms_settings *s, const char *path,
                            struct ms_error *err);
/* The workers option the settings resolve to: 1 when use_parallel_stats
 * is False and no worker count was given, else the given count (0: auto,
 * which the library resolves to $UV_THREADPOOL_SIZE or the online cores). */
unsigned ms_settings_workers(const struct ms_settings *s);

/* Parsers shared by the config file and the command line.  Each returns 0
 * or MS_EINVAL; values are range-checked. */
int ms_parse_size(const char *text, uint64_t *out);      /* 256M, 1G, 4096 */
int ms_parse_bool(const char *text, bool *out);          /* True / False */
int ms_parse_uint(const char *text, unsigned min, unsigned max,
                  unsigned *out);
int ms_parse_count_or_auto(const char *text, unsigned max,
                           unsigned *out);               /* auto -> 0 */
int ms_parse_progress(const char *text, enum ms_progress_mode *out);

/* ------------------------------------------------------------------ */
/* Synthetic datasets.                                                 */

struct ms_generate_options {
    unsigned samples;
    unsigned timesteps;
    unsigned nodes;
    unsigned features; /* rows of nodal_data, >= 6; default 8 */
    uint64_t seed;
    bool chunked;
    bool gzip; /* implies chunked; gzip + shuffle */
};

void ms_generate_options_init(struct ms_generate_options *opts);

/*
 * Write a deterministic deforming-plate-like dataset in the layout of
 * SPEC section 1 to path (created or truncated): a triangulated plate,
 * smooth displacements growing in time, a stress field and a part number.
 * Memory use is bounded by one timestep block, whatever the size.
 */
int ms_generate(const char *path, const struct ms_generate_options *opts,
                struct ms_error *err);

#ifdef __cplusplus
}
#endif

#endif /* MESHSTATS_H */
