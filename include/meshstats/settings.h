/*
 * meshstats/settings.h: the settings of a run (config.txt, the command line,
 * the Python keywords), for the project's own front ends.
 * Part of meshstats.h, which includes it; include <meshstats.h>.
 */
#ifndef MESHSTATS_PUBLIC_SETTINGS_H
#define MESHSTATS_PUBLIC_SETTINGS_H

#ifndef MESHSTATS_H
#error "include <meshstats.h>, which includes this part"
#endif

/* ------------------------------------------------------------------ */
/* Settings of a run: config.txt, the command line, the Python keywords.
 * One table describes every setting (ms_setting_info); the front ends
 * parse values through ms_settings_set and show them through
 * ms_setting_value.  This group serves the project's own front ends and
 * may change before 1.0.  Functions on one struct ms_settings are not
 * thread-safe; distinct ones may be used from distinct threads. */

enum ms_origin_kind {
    MS_ORIGIN_DEFAULT = 0,
    MS_ORIGIN_FILE,         /* a config file (line: its line) */
    MS_ORIGIN_COMMAND_LINE, /* an argument of the command or the caller */
};

/* Where a setting's value came from. */
struct ms_origin {
    enum ms_origin_kind kind;
    unsigned line;
};

/* Every setting, in the order --help and --print-config list them. */
enum ms_setting {
    MS_SET_MODEL = 0,
    MS_SET_INPUT_VAR,
    MS_SET_OUTPUT_VAR,
    MS_SET_EDGE_VAR,
    MS_SET_POSITIONAL_FEATURES,
    MS_SET_POSITIONAL_ENCODING,
    MS_SET_MAX_TIMESTEPS,
    MS_SET_SKIP_NONFINITE,
    MS_SET_QUANTILES,
    MS_SET_QUANTILE_ACCURACY,
    MS_SET_WORKERS,
    MS_SET_PARALLEL,
    MS_SET_PREFETCH,
    MS_SET_MEMORY_LIMIT,
    MS_SET_THROTTLE,
    MS_SET_SAMPLES,
    MS_SET_SAMPLE_LIST,
    MS_SET_SPLIT,
    MS_SET_JSON,
    MS_SET_WRITE_BACK,
    MS_SET_PROGRESS,
    MS_SET_PER_SAMPLE,
    MS_SET_TRACE,
    MS_SET_REPORT,
    MS_SET_HISTOGRAMS,
    MS_SET_TOP,
    MS_SET_QUIET,
    MS_SET_STRICT,
    MS_SET_DATASET,
    MS_SET_COUNT
};

/* How a setting's value is written. */
enum ms_value_type {
    MS_VALUE_UINT,     /* an integer in [min, max] */
    MS_VALUE_COUNT,    /* auto (0) or an integer in [min, max] */
    MS_VALUE_SIZE,     /* bytes, with K, M, G, T suffixes */
    MS_VALUE_MBPS,     /* MB/s in [min, max], stored as bytes/s */
    MS_VALUE_BOOL,     /* True / False; on the command line, a flag */
    MS_VALUE_PROGRESS, /* auto, always, never */
    MS_VALUE_MODEL,    /* auto, nodal, cloth, cfd, plate */
    MS_VALUE_ENCODING, /* rwpe, lpe, rwpe+lpe */
    MS_VALUE_ACCURACY, /* a relative accuracy in [MS_MIN_ACCURACY,
                        * MS_MAX_ACCURACY], stored as a double */
    MS_VALUE_IDS,      /* sample ids and ranges: 1-80,85 */
    MS_VALUE_TEXT,     /* a path or a name */
};

/* One row of the settings table. */
struct ms_setting_info {
    enum ms_setting setting;
    const char *key;       /* config.txt key; NULL: not in config.txt */
    const char *option;    /* long option; NULL: not on the command line */
    char short_option;     /* 0: none */
    const char *no_option; /* for a flag: the option that sets False */
    const char *arg;       /* the value's placeholder in --help ("N") */
    const char *group;     /* its heading in --help */
    enum ms_value_type type;
    uint64_t min, max;     /* for the integer types */
    const char *help;      /* one line */
    uint64_t step;         /* MS_VALUE_UINT: valid values are min + k x step
                            * (0: every integer) */
};

/* Everything a run can be asked: the options of the computation, what to
 * read and where to write. */
struct ms_settings {
    struct ms_options options;
    char *dataset;            /* owned strings, NULL when not given */
    char *samples;
    char *sample_list;
    char *split;
    char *json;
    char *per_sample;
    unsigned top;
    bool quiet;
    bool write_back;
    bool use_parallel_stats;
    enum ms_progress_mode progress;
    struct ms_origin origin[MS_SET_COUNT];
    char *config_path;        /* the file FILE origins refer to; owned */
    /* The config file's keys meshstats left to the training code (not
     * about statistics), as "key:line" separated by spaces; owned, NULL
     * when there were none. */
    char *ignored_keys;
    char *trace;  /* --trace FILE: the pass's timeline; owned */
    char *report; /* --report FILE: the HTML page; owned */
    bool histograms; /* a text histogram a feature under the table */
};

/* The table row of a setting (NULL for a value out of range). */
const struct ms_setting_info *ms_setting_info(enum ms_setting setting);
/* The setting whose config.txt key is key (any case): 0 or MS_EINVAL. */
int ms_setting_find_key(const char *key, enum ms_setting *out);
/* What a valid value looks like ("an integer 1..1024"). */
void ms_setting_expected(enum ms_setting setting, char *buf, size_t size);

/* Defaults: those of ms_options_init, use_parallel_stats True. */
void ms_settings_init(struct ms_settings *s);
void ms_settings_finish(struct ms_settings *s);

/*
 * Parse value as the setting's type and store it, recording origin.
 * MS_EINVAL with "<where>: '<value>' is not valid; expected ..." (where:
 * "--workers", "config.txt:12: stats_workers", a keyword's name); the
 * setting is then unchanged.  A flag takes "True" or "False".
 */
int ms_settings_set(struct ms_settings *s, enum ms_setting setting,
                    const char *value, struct ms_origin origin,
                    const char *where, struct ms_error *err);
/* The effective value of a setting as text ("auto", "256M", "True"). */
void ms_setting_value(const struct ms_settings *s, enum ms_setting setting,
                      char *buf, size_t size);

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
 * is False and no worker count (nor auto) was given explicitly, else the
 * given count (0: auto, the CPUs this process may use). */
unsigned ms_settings_workers(const struct ms_settings *s);

#endif /* MESHSTATS_PUBLIC_SETTINGS_H */
