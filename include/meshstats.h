/*
 * meshstats.h: the public header of libmeshstats (with its two parts,
 * meshstats/settings.h and meshstats/generate.h, which it includes).
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
 * never prints, never exits, never changes the process's environment or
 * signal dispositions of its own accord, and installs no handler but, with
 * ms_options.handle_signals, libuv's for SIGINT and SIGTERM while a pass
 * runs.  Heap objects are made by *_create or a function that hands back a
 * pointer, and freed by *_destroy, which accepts NULL; caller-owned storage
 * is set up by *_init and released by *_finish.  docs/spec.md is the
 * contract these functions meet.
 *
 * Threads: every function is safe to call from any thread on objects no
 * other thread is changing; each group below says what more it promises.
 * Passes are independent: two ms_stats_compute calls may run at the same
 * time in two threads, each on the worker threads it asked for, and give
 * the bytes each gives alone (HDF5's global lock serialises their HDF5
 * calls, not their reads and computing).  The exceptions: MPI (one pass at
 * a time, from the thread that called ms_parallel_init) and
 * ms_selection_read_list("-"), which reads standard input.
 *
 * Locale: numbers are written and read with a '.' (JSON, CSV, table,
 * trace, report, messages, settings) whatever locale the program set: a
 * function that formats or parses them switches its calling thread to the
 * C locale (uselocale) for the call and gives the thread's locale back.
 *
 * Stability: this is version 0.  Until 1.0 any of it may change; the
 * computation (options, ms_stats_compute, results, writers) is meant to
 * stay, the settings group serves the project's own front ends (the
 * command, the Python package) and is the likeliest to change.  The shared
 * library's symbols carry the version node MESHSTATS_0.
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
#define MS_VERSION_MINOR 2
#define MS_VERSION_PATCH 0
#define MS_VERSION_STRING "0.2.0"

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

/* Called on the thread that called ms_stats_compute, for every sample
 * that is skipped, and for every name under data/ that is not a sample id
 * (then id is -1).  Never from a worker thread, never concurrently. */
typedef void (*ms_warning_fn)(void *userdata, int64_t id, const char *message);

/* Where a pass stands.  Its samples are checked while others are read:
 * until the last are checked, units_total and bytes_total count those not
 * checked yet at the mean of those checked. */
struct ms_progress {
    size_t samples_done, samples_total;
    uint64_t units_done, units_total;
    uint64_t bytes_done, bytes_total; /* stored bytes of nodal_data */
    double elapsed;                   /* seconds since the pass started */
    bool finished;                    /* the last report of the pass */
};

/* Called on the thread that called ms_stats_compute: once as reading
 * starts (0%), at most every 100 ms while the pass runs, and once more
 * with finished set when it ends (successfully or not). */
typedef void (*ms_progress_fn)(void *userdata, const struct ms_progress *p);

/* Called on the thread that called ms_stats_compute about every 100 ms
 * while a pass checks the samples and while it reads them (and before it
 * reads anything): returning true stops the pass as a signal would, with
 * MS_ECANCELED (err.signal 0); what runs finishes, nothing more is read.
 * How an embedding program forwards Ctrl-C without giving the library its
 * signals. */
typedef bool (*ms_cancel_fn)(void *userdata);

/* Which samples a pass uses: sorted, distinct ids, and where they came
 * from ("samples 1-80,85", "list ids.txt", "split train").  Made by the
 * ms_selection_* functions, released with ms_selection_finish.  Each
 * works on the selection it is handed only. */
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

/* Which features a pass computes (docs/models.md).  NODAL is the
 * data/<id>/nodal_data layout's (input_var, output_var, edge_var say how
 * many); CLOTH, CFD and PLATE read DeepMind's trajectory layout (one group
 * of (T, N, F) arrays per trajectory) and fix their own features.  AUTO
 * takes NODAL for the nodal layout and, for trajectories, the model whose
 * fields the first one holds (velocity: CFD, stress: PLATE, else CLOTH). */
enum ms_model_kind {
    MS_MODEL_AUTO = 0,
    MS_MODEL_NODAL,
    MS_MODEL_CLOTH,
    MS_MODEL_CFD,
    MS_MODEL_PLATE,
    MS_MODEL_COUNT
};

/* "auto", "nodal", "cloth", "cfd", "plate" (NULL out of range). */
const char *ms_model_name(enum ms_model_kind model);

/* The largest input_var and output_var, workers and prefetch accepted. */
#define MS_MAX_VARS 1024
#define MS_MAX_POSITIONAL 7 /* positional node features at most */
#define MS_MAX_WORKERS 1024
#define MS_MAX_PREFETCH 4096

/* The random-walk encoding of positional node features (rwpe) is what
 * meshstats computes; lpe and rwpe+lpe (Laplacian eigenvectors) are named
 * so that they can be refused by name. */
enum ms_positional_encoding {
    MS_ENCODING_RWPE = 0,
    MS_ENCODING_LPE,
    MS_ENCODING_RWPE_LPE,
    MS_ENCODING_COUNT
};

struct ms_options {
    enum ms_model_kind model; /* which features; AUTO from the file */
    unsigned input_var;     /* node features per node (rows 3..3+input_var) */
    unsigned output_var;    /* delta features per node */
    unsigned edge_var;      /* edge features: 4 (r and |r| of the deformed
                             * mesh) or 8 (and of the reference mesh) */
    unsigned max_timesteps; /* 0: every timestep; M: the seed's sampling */
    unsigned workers;       /* worker threads; 0: the online cores */
    unsigned prefetch;      /* work units in flight; 0: automatic */
    uint64_t memory_limit;  /* bytes buffered at once */
    bool strict;            /* a bad sample fails the run */
    bool skip_nonfinite;    /* skip rows with NaN/Inf instead of failing */
    bool handle_signals;    /* SIGINT/SIGTERM stop the pass: MS_ECANCELED
                             * (one the process ignores stays ignored) */
    uint64_t read_throttle; /* bytes/s each read is slowed to, emulating
                             * slow storage for benchmarks; 0: off */
    const struct ms_selection *selection; /* NULL: every sample; borrowed */
    bool per_sample;        /* keep each sample's statistics too */
    ms_warning_fn on_warning; /* may be NULL */
    ms_progress_fn on_progress; /* may be NULL */
    ms_cancel_fn should_stop; /* may be NULL */
    void *userdata;
    /* The nodal model's positional node features (docs/spec.md section
     * 2.1): 0 (none) to 7 static columns appended to the node features,
     * from the reference mesh at the first timestep; their encoding. */
    unsigned positional_features;
    enum ms_positional_encoding positional_encoding;
    /* Keep a timeline of the pass in the result (ms_stats.trace): when
     * each worker read and computed each unit, when the loop folded. */
    bool trace;
    /* Count every value of every feature into a quantile sketch of
     * relative accuracy quantile_accuracy (MS_MIN_ACCURACY ..
     * MS_MAX_ACCURACY; docs/spec.md section 4.1): ms_group_stats'
     * quantiles, ms_stats_quantile, ms_stats_histogram. */
    bool quantiles;
    double quantile_accuracy;
};

#define MS_MIN_ACCURACY 0.0001
#define MS_MAX_ACCURACY 0.1
#define MS_DEFAULT_ACCURACY 0.01

/* Fill *opts with the documented defaults (input_var 4, output_var 4,
 * edge_var 4, all timesteps, automatic workers and prefetch, 256 MiB, not
 * strict, no quantiles, their accuracy 0.01). */
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

/* The probabilities of ms_group_stats.quantiles. */
#define MS_QUANTILES 9
/* Probability i of MS_QUANTILES: 0.001, 0.01, 0.05, 0.25, 0.5, 0.75,
 * 0.95, 0.99, 0.999 (NaN out of range). */
double ms_quantile_p(size_t i);

struct ms_group_stats {
    uint64_t count;          /* rows */
    uint64_t nonfinite_skipped; /* rows skipped under skip_nonfinite */
    size_t nfeatures;
    struct ms_feature_stats *features; /* nfeatures entries */
    /* With ms_options.quantiles: quantiles[q * nfeatures + k] is feature
     * k's quantile at probability ms_quantile_p(q); else NULL. */
    double *quantiles;
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

/* One span of the pass's timeline: what a thread did, from start_ns for
 * dur_ns (nanoseconds from the start of the pass).  thread 0 is the loop
 * (the calling thread), 1..workers the pass's workers, workers + 1 the
 * thread that checks the samples. */
enum ms_trace_kind {
    MS_TRACE_READ,    /* a unit's data read (bytes: stored bytes) */
    MS_TRACE_COMPUTE, /* a unit's features computed */
    MS_TRACE_EDGES,   /* a sample's first task: its edges read, checked;
                       * for a large mesh also the tasks that order them
                       * (step, unit: the step's part) */
    MS_TRACE_FOLD,    /* the loop folding results and dispatching work */
    MS_TRACE_CHECK    /* a segment's samples checked (sample: the first's
                       * id, unit: how many) */
};
/* What an MS_TRACE_EDGES span did (docs/design.md, "Edge order"); new in
 * 0.2.0, which added ms_trace_event.step (so the struct grew: until 1.0
 * the soname stays 0, src/libmeshstats.map). */
enum ms_trace_step {
    MS_TRACE_STEP_NONE,       /* not an MS_TRACE_EDGES span */
    MS_TRACE_STEP_LIST,       /* the sample's first task: its edge list read
                               * and checked, or for a large mesh its order
                               * decided (and a renumbered one's grid) */
    MS_TRACE_STEP_KEEP,       /* a part of the list kept as stored */
    MS_TRACE_STEP_MAP,        /* the order's memory mapped */
    MS_TRACE_STEP_SORT_NODES, /* the nodes sorted by grid cell (the
                               * parts of the first digit, then of the
                               * second) */
    MS_TRACE_STEP_COUNT,      /* a part of the list read, its ends looked
                               * up in the nodes' places and counted */
    MS_TRACE_STEP_PUT,        /* a part put in order of its lower node */
    MS_TRACE_STEP_SORT_EDGES, /* a share of the segments sorted */
    MS_TRACE_STEP_NOT_KEPT    /* nothing: the list is left in the file, each
                               * EDGES unit reading its own block (or the
                               * mesh has no edges) */
};
struct ms_trace_event {
    enum ms_trace_kind kind;
    unsigned thread;
    uint64_t start_ns, dur_ns;
    uint64_t bytes;
    int64_t sample; /* the sample's id, -1 for none */
    size_t unit;
    enum ms_trace_step step;
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
    enum ms_model_kind model; /* the model the pass computed (never AUTO) */
    char *selection; /* its source, or NULL when every sample was used */
    int64_t *selection_ids; /* the selected ids (NULL: every sample) */
    size_t nselection_ids;
    unsigned input_var;
    unsigned output_var;
    unsigned edge_var;
    unsigned max_timesteps;
    bool skip_nonfinite;
    size_t samples_found;    /* sample groups in the file */
    size_t samples_selected; /* of those, the ones the selection names */
    size_t samples_used;     /* of those, the ones not skipped */
    size_t nskipped;
    struct ms_skipped_sample *skipped;
    struct ms_group_stats groups[MS_GROUP_COUNT];
    size_t nreports;                   /* with per_sample: samples_used */
    struct ms_sample_report *reports;  /* in id order */
    struct ms_run_info info;
    unsigned positional_features; /* node features after input_var's */
    /* With ms_options.trace: the pass's events, in the order the loop
     * learned of them (ms_stats_write_trace writes them). */
    struct ms_trace_event *trace;
    size_t ntrace;
    /* With ms_options.quantiles: their relative accuracy (else 0), and
     * every feature's distribution, which ms_stats_quantile and
     * ms_stats_histogram read. */
    double quantile_accuracy;
    struct ms_stats_sketches *sketches;
    /* What the data suggests about normalizing it (docs/spec.md section
     * 4.2): one sentence each, in group and feature order; the JSON's.
     * sample_warnings: those the per-sample reports show (a feature
     * whose sum one sample holds), not in the JSON, which must not
     * depend on the outputs asked for. */
    char **warnings;
    size_t nwarnings;
    char **sample_warnings;
    size_t nsample_warnings;
};

/*
 * Compute the statistics of the dataset at path.  On success returns 0 and
 * sets *out to a new object (free it with ms_stats_destroy).  On failure
 * returns a negative MS_E* code, fills *err and leaves *out NULL.  The file
 * is opened read-only.  Samples that do not match the layout are skipped
 * (reported through opts->on_warning and listed in the result) unless
 * opts->strict is set.  The pass starts opts->workers threads of its own
 * (0: the CPUs this process may use) and joins them before it returns;
 * info.workers says how many ran.  opts and what it points to are
 * borrowed for the call.  Thread-safe: see the top of this header.
 */
int ms_stats_compute(const char *path, const struct ms_options *opts,
                     struct ms_stats **out, struct ms_error *err);
void ms_stats_destroy(struct ms_stats *stats);

/* Feature k of group g (a result computed with ms_options.quantiles) at
 * probability p in [0, 1]: a value within quantile_accuracy x |x| of x,
 * the exact k-th smallest of its n values for k = floor(p (n - 1))
 * (numpy's method "lower"); 0 for a zero.  0, or MS_EINVAL (no
 * quantiles, p out of range, no such feature) or MS_EEMPTY (no values). */
int ms_stats_quantile(const struct ms_stats *stats, enum ms_group_kind g,
                      size_t k, double p, double *out);
/* Feature k of group g as a histogram of bins equal bins from its min to
 * its max: edges[0..bins] and counts[0..bins-1] (every value counted, in
 * the bin of its sketch bucket's value; the last bin holds the max).
 * 0, MS_EINVAL or MS_EEMPTY as ms_stats_quantile. */
int ms_stats_histogram(const struct ms_stats *stats, enum ms_group_kind g,
                       size_t k, size_t bins, double *edges,
                       uint64_t *counts);

/* The writers read the result only: several threads may write one result
 * to distinct streams at once.  Each returns 0, or MS_EIO if the stream
 * reported an error (the caller flushes and closes it). */

/* Write the result as JSON (docs/spec.md), ending with a newline. */
int ms_stats_write_json(const struct ms_stats *stats, FILE *out);
/* Write the result as a human-readable table. */
int ms_stats_write_table(const struct ms_stats *stats, FILE *out);
/* With quantiles: a line a feature, its distribution from its min to its
 * max in MS_HISTOGRAM_BINS bins of UTF-8 block characters (U+2581 ..
 * U+2588, the tallest bin full; a space for an empty bin). */
#define MS_HISTOGRAM_BINS 48
int ms_stats_write_histograms(const struct ms_stats *stats, FILE *out);

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
 * metadata/normalization_params (docs/spec.md): float32 datasets with std
 * clamped to at least 1e-8, replacing datasets of the same names, and
 * attributes with the mode and the meshstats version.  Touches nothing
 * else.  Fails (HDF5's file lock) while any pass or program reads path.
 */
int ms_stats_write_back(const struct ms_stats *stats, const char *path,
                        struct ms_error *err);

/* The pass's timeline (ms_options.trace) as a Chrome trace-event file
 * (the JSON object format: Perfetto and chrome://tracing open it): one
 * complete event a span, thread names, the settings and totals in its
 * metadata.  0 or MS_EIO. */
int ms_stats_write_trace(const struct ms_stats *stats, FILE *out);

/* A self-contained HTML page of the result (no network): the run, a plot
 * of every group's features, the samples' distances from the dataset
 * (with ms_options.per_sample) and the timeline (with trace).  0 or
 * MS_EIO. */
int ms_stats_write_report(const struct ms_stats *stats, FILE *out);

/* Format a one-line progress bar at most columns wide, as pv and tqdm do:
 * percent, a bar, samples done of total, MB/s, elapsed and ETA.  As the
 * width shrinks, the ETA, the elapsed time, the rate and the counts are
 * left out in that order, then the bar shortens; at 10 columns or fewer
 * it is the percentage alone.  Plain ASCII.  Returns the length written
 * (always < size, and <= columns). */
size_t ms_progress_format(const struct ms_progress *p, unsigned columns,
                          char *buf, size_t size);

/* The display name of feature i of a group of the nodal model ("disp_x",
 * "|r|", ...). */
void ms_feature_name(enum ms_group_kind group, size_t i, char *buf,
                     size_t size);
/* The display name of feature i of a group of stats's model ("vel_x",
 * "type_3", "|r0|", ...). */
void ms_stats_feature_name(const struct ms_stats *stats,
                           enum ms_group_kind group, size_t i, char *buf,
                           size_t size);
const char *ms_group_name(enum ms_group_kind group);

/* ------------------------------------------------------------------ */
/* Several processes (MPI).                                            */

/* Start MPI when the program was launched by mpirun or srun (and the
 * library was built with MPI); otherwise do nothing.  Every rank then runs
 * ms_stats_compute on its share of the samples, and rank 0's result is the
 * whole dataset's, byte-identical to one process (another rank's result
 * holds its share only).  Returns the rank.  Not thread-safe: call it
 * first, from the main thread, and ms_parallel_finish last; in between run
 * one pass at a time, from that thread. */
int ms_parallel_init(int *argc, char ***argv);
void ms_parallel_finish(void);
int ms_parallel_rank(void);
int ms_parallel_size(void);
/* The largest of every rank's status (each rank calls it: a collective),
 * so that the ranks stop or go on together; status itself without MPI. */
int ms_parallel_agree(int status);

#include "meshstats/settings.h"
#include "meshstats/generate.h"

#ifdef __cplusplus
}
#endif

#endif /* MESHSTATS_H */
