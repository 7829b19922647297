/*
 * settings.c: every setting of a run, described once.
 *
 * One table row per setting: its config.txt key, its command-line option,
 * the type and range of its value, its help text and where it is stored in
 * struct ms_settings.  The config file (config.c), the command line
 * (src/cli/args.c), --print-config, --help, the man page's option list and
 * the Python package's keyword arguments all follow from this table, so a
 * range or a message is written here and nowhere else.  Defaults are the
 * values ms_settings_init leaves, shown through ms_setting_value.  Nothing
 * here touches HDF5 or prints.
 */
#include "settings/settings.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_TIMESTEPS 1000000000u
#define MAX_TOP 1000000u
#define MAX_MBPS 1000000u

struct row {
    struct ms_setting_info info;
    size_t offset; /* of the value in struct ms_settings */
};

#define AT(field) offsetof(struct ms_settings, field)

static const struct row table[MS_SET_COUNT] = {
    {{MS_SET_MODEL, "model", "model", 0, NULL, "NAME", "Features",
      MS_VALUE_MODEL, 0, 0,
      "the features: auto (from the file), nodal, cloth, cfd or plate", 0},
     AT(options.model)},
    {{MS_SET_INPUT_VAR, "input_var", "input-var", 0, NULL, "N", "Features",
      MS_VALUE_UINT, 1, MS_MAX_VARS, "node features per node", 0},
     AT(options.input_var)},
    {{MS_SET_OUTPUT_VAR, "output_var", "output-var", 0, NULL, "N",
      "Features", MS_VALUE_UINT, 1, MS_MAX_VARS, "delta features per node", 0},
     AT(options.output_var)},
    {{MS_SET_EDGE_VAR, "edge_var", "edge-var", 0, NULL, "N", "Features",
      MS_VALUE_UINT, 4, 8,
      "edge features: 4 (r and |r| deformed) or 8 (and reference)", 4},
     AT(options.edge_var)},
    {{MS_SET_POSITIONAL_FEATURES, "positional_features",
      "positional-features", 0, NULL, "P", "Features", MS_VALUE_UINT, 0, 7,
      "static node features from the reference mesh, appended to the "
      "node features: 0 (none) to 7",
      0},
     AT(options.positional_features)},
    {{MS_SET_POSITIONAL_ENCODING, "positional_encoding",
      "positional-encoding", 0, NULL, "NAME", "Features", MS_VALUE_ENCODING,
      0, 0, "the encoding of positional features 3..P: rwpe", 0},
     AT(options.positional_encoding)},
    {{MS_SET_MAX_TIMESTEPS, "max_timesteps_for_stats", "sample-timesteps",
      's', NULL, "M", "Features", MS_VALUE_UINT, 0, MAX_TIMESTEPS,
      "at most M timesteps per sample (0: all; the seed used 50)", 0},
     AT(options.max_timesteps)},
    {{MS_SET_SKIP_NONFINITE, "stats_skip_nonfinite", "skip-nonfinite", 0,
      NULL, NULL, "Features", MS_VALUE_BOOL, 0, 1,
      "leave out rows with NaN/Inf (counted) instead of failing", 0},
     AT(options.skip_nonfinite)},
    {{MS_SET_QUANTILES, "stats_quantiles", "quantiles", 0, NULL, NULL,
      "Features", MS_VALUE_BOOL, 0, 1,
      "also every feature's quantiles, to --quantile-accuracy", 0},
     AT(options.quantiles)},
    {{MS_SET_QUANTILE_ACCURACY, "stats_quantile_accuracy",
      "quantile-accuracy", 0, NULL, "A", "Features", MS_VALUE_ACCURACY, 0, 0,
      "quantiles within A of the exact value, relatively: 0.0001 to 0.1",
      0},
     AT(options.quantile_accuracy)},
    {{MS_SET_WORKERS, "stats_workers", "workers", 'j', NULL, "N|auto",
      "Resources", MS_VALUE_COUNT, 1, MS_MAX_WORKERS,
      "worker threads (auto: the CPUs this process may use)", 0},
     AT(options.workers)},
    {{MS_SET_PARALLEL, "use_parallel_stats", NULL, 0, NULL, NULL,
      "Resources", MS_VALUE_BOOL, 0, 1,
      "False: one worker, unless stats_workers or -j says otherwise", 0},
     AT(use_parallel_stats)},
    {{MS_SET_PREFETCH, "prefetch_depth", "prefetch", 0, NULL, "N|auto",
      "Resources", MS_VALUE_COUNT, 1, MS_MAX_PREFETCH,
      "work units in flight (auto: 2 x workers, more for small samples, "
      "within the memory limit)", 0},
     AT(options.prefetch)},
    {{MS_SET_MEMORY_LIMIT, "stats_memory_limit", "memory-limit", 0, NULL,
      "SIZE", "Resources", MS_VALUE_SIZE, 1, UINT64_MAX,
      "bound on the data buffered at once (K, M, G, T suffixes)", 0},
     AT(options.memory_limit)},
    {{MS_SET_THROTTLE, NULL, "throttle", 0, NULL, "MBPS", "Resources",
      MS_VALUE_MBPS, 1, MAX_MBPS,
      "slow each read to MBPS MB/s, to benchmark slow storage", 0},
     AT(options.read_throttle)},
    {{MS_SET_SAMPLES, "stats_samples", "samples", 0, NULL, "LIST",
      "Samples", MS_VALUE_IDS, 0, 0,
      "only these sample ids, e.g. 1-80,85,90-99", 0},
     AT(samples)},
    {{MS_SET_SAMPLE_LIST, NULL, "sample-list", 0, NULL, "FILE", "Samples",
      MS_VALUE_TEXT, 0, 0, "only the ids in FILE, one a line ('-': stdin)", 0},
     AT(sample_list)},
    {{MS_SET_SPLIT, NULL, "split", 0, NULL, "NAME", "Samples", MS_VALUE_TEXT,
      0, 0, "only the ids stored at metadata/splits/NAME", 0},
     AT(split)},
    {{MS_SET_JSON, NULL, "json", 0, NULL, "FILE", "Output", MS_VALUE_TEXT, 0,
      0, "write the result as JSON ('-': stdout)", 0},
     AT(json)},
    {{MS_SET_WRITE_BACK, "write_normalization_params", "write-back", 0,
      "no-write-back", NULL, "Output", MS_VALUE_BOOL, 0, 1,
      "store the result in the dataset (metadata/normalization_params)", 0},
     AT(write_back)},
    {{MS_SET_PROGRESS, "progress", "progress", 0, NULL, "WHEN", "Output",
      MS_VALUE_PROGRESS, 0, 0,
      "progress bar on stderr: auto (on a terminal), always or never", 0},
     AT(progress)},
    {{MS_SET_PER_SAMPLE, NULL, "per-sample", 0, NULL, "FILE", "Output",
      MS_VALUE_TEXT, 0, 0, "one CSV row of statistics per sample", 0},
     AT(per_sample)},
    {{MS_SET_TRACE, NULL, "trace", 0, NULL, "FILE", "Output", MS_VALUE_TEXT,
      0, 0,
      "write the pass's timeline as a Chrome trace (Perfetto, "
      "chrome://tracing)",
      0},
     AT(trace)},
    {{MS_SET_REPORT, NULL, "report", 0, NULL, "FILE", "Output",
      MS_VALUE_TEXT, 0, 0,
      "write a self-contained HTML page of the result and the pass", 0},
     AT(report)},
    {{MS_SET_HISTOGRAMS, NULL, "histograms", 0, NULL, NULL, "Output",
      MS_VALUE_BOOL, 0, 1,
      "a text histogram of every feature under the table (turns "
      "--quantiles on)",
      0},
     AT(histograms)},
    {{MS_SET_TOP, NULL, "top", 0, NULL, "K", "Output", MS_VALUE_UINT, 1,
      MAX_TOP, "name the K most outlying samples on stderr", 0},
     AT(top)},
    {{MS_SET_QUIET, NULL, "quiet", 'q', NULL, NULL, "Output", MS_VALUE_BOOL,
      0, 1, "no table on stdout (and no automatic progress bar)", 0},
     AT(quiet)},
    {{MS_SET_STRICT, NULL, "strict", 0, NULL, NULL, "Behaviour",
      MS_VALUE_BOOL, 0, 1, "a bad sample fails the run instead of being "
                           "skipped", 0},
     AT(options.strict)},
    {{MS_SET_DATASET, "dataset_dir", NULL, 0, NULL, "DATASET.h5", "Input",
      MS_VALUE_TEXT, 0, 0, "the dataset, when none is given as an argument", 0},
     AT(dataset)},
};

const struct ms_setting_info *
ms_setting_info(enum ms_setting setting)
{
    return (unsigned)setting < MS_SET_COUNT ? &table[setting].info : NULL;
}

int
ms_setting_find_key(const char *key, enum ms_setting *out)
{
    for (int i = 0; i < MS_SET_COUNT; i++) {
        if (table[i].info.key != NULL &&
            strcasecmp(table[i].info.key, key) == 0) {
            *out = (enum ms_setting)i;
            return 0;
        }
    }
    return MS_EINVAL;
}

void
ms_settings_init(struct ms_settings *s)
{
    memset(s, 0, sizeof(*s));
    ms_options_init(&s->options);
    s->use_parallel_stats = true;
    s->progress = MS_PROGRESS_AUTO;
}

void
ms_settings_finish(struct ms_settings *s)
{
    if (s == NULL) {
        return;
    }
    for (int i = 0; i < MS_SET_COUNT; i++) {
        if (table[i].info.type == MS_VALUE_TEXT ||
            table[i].info.type == MS_VALUE_IDS) {
            char **p = (char **)((char *)s + table[i].offset);
            ms__free(*p);
            *p = NULL;
        }
    }
    ms__free(s->config_path);
    s->config_path = NULL;
    ms__free(s->ignored_keys);
    s->ignored_keys = NULL;
}

unsigned
ms_settings_workers(const struct ms_settings *s)
{
    /* use_parallel_stats False means one worker unless a count (or auto)
     * was asked for explicitly, from the file or the command line. */
    if (!s->use_parallel_stats &&
        s->origin[MS_SET_WORKERS].kind == MS_ORIGIN_DEFAULT) {
        return 1;
    }
    return s->options.workers;
}

/* ------------------------------------------------------------------ */
/* Values. */

/* A decimal integer with nothing after it but *end's suffix. */
static int
parse_u64(const char *text, uint64_t *out, const char **end)
{
    if (!isdigit((unsigned char)text[0])) {
        return MS_EINVAL;
    }
    errno = 0;
    char *stop;
    unsigned long long v = strtoull(text, &stop, 10);
    if (errno == ERANGE) {
        return MS_EINVAL;
    }
    *out = v;
    *end = stop;
    return 0;
}

/* 256M, 256MB and 256MiB all mean 256 * 2^20 bytes. */
static int
parse_size(const char *text, uint64_t *out)
{
    static const char units[] = "KMGT";
    uint64_t v;
    const char *end;
    if (parse_u64(text, &v, &end) != 0) {
        return MS_EINVAL;
    }
    unsigned shift = 0;
    if (*end != '\0') {
        const char *u = strchr(units, toupper((unsigned char)*end));
        if (u == NULL) {
            return MS_EINVAL;
        }
        shift = 10 * (unsigned)(u - units + 1);
        end++;
        if (*end != '\0' && strcasecmp(end, "iB") != 0 &&
            strcasecmp(end, "B") != 0) {
            return MS_EINVAL;
        }
    }
    if (v == 0 || v > (UINT64_MAX >> shift)) {
        return MS_EINVAL;
    }
    *out = v << shift;
    return 0;
}

static int
parse_bool(const char *text, bool *out)
{
    if (strcasecmp(text, "true") == 0 || strcasecmp(text, "false") == 0) {
        *out = strcasecmp(text, "true") == 0;
        return 0;
    }
    return MS_EINVAL;
}

static const char *const progress_names[] = {"auto", "always", "never"};
static const char *const encoding_names[] = {"rwpe", "lpe", "rwpe+lpe"};

static int
parse_encoding(const char *text, enum ms_positional_encoding *out)
{
    for (size_t i = 0; i < MS_ARRAY_SIZE(encoding_names); i++) {
        if (strcasecmp(text, encoding_names[i]) == 0) {
            *out = (enum ms_positional_encoding)i;
            return 0;
        }
    }
    return MS_EINVAL;
}

static int
parse_model(const char *text, enum ms_model_kind *out)
{
    /* The training code's config.txt names its network "MeshGraphNets"
     * under the same key: the family, whose features follow from the
     * file, as auto. */
    if (strcasecmp(text, "MeshGraphNets") == 0) {
        *out = MS_MODEL_AUTO;
        return 0;
    }
    for (int m = 0; m < MS_MODEL_COUNT; m++) {
        if (strcasecmp(text, ms_model_name((enum ms_model_kind)m)) == 0) {
            *out = (enum ms_model_kind)m;
            return 0;
        }
    }
    return MS_EINVAL;
}

static int
parse_progress(const char *text, enum ms_progress_mode *out)
{
    for (size_t i = 0; i < MS_ARRAY_SIZE(progress_names); i++) {
        if (strcasecmp(text, progress_names[i]) == 0) {
            *out = (enum ms_progress_mode)i;
            return 0;
        }
    }
    return MS_EINVAL;
}

/* An integer in [min, max], or (count) auto for 0. */
static int
parse_ranged(const struct ms_setting_info *in, const char *text,
             uint64_t *out)
{
    if (in->type == MS_VALUE_COUNT && strcasecmp(text, "auto") == 0) {
        *out = 0;
        return 0;
    }
    const char *end;
    if (parse_u64(text, out, &end) != 0 || *end != '\0' || *out < in->min ||
        *out > in->max || (in->step > 1 && (*out - in->min) % in->step)) {
        return MS_EINVAL;
    }
    return 0;
}

/* A relative accuracy: a decimal number in [MS_MIN_ACCURACY,
 * MS_MAX_ACCURACY] ("0.001", "1e-3"). */
static int
parse_accuracy(const char *text, double *out)
{
    errno = 0;
    char *end;
    double v = strtod(text, &end);
    /* (the bounds with a margin for their decimal spelling) */
    if (errno != 0 || *end != '\0' || end == text ||
        !(v >= MS_MIN_ACCURACY * (1 - 1e-12) &&
          v <= MS_MAX_ACCURACY * (1 + 1e-12))) {
        return MS_EINVAL;
    }
    *out = v;
    return 0;
}

/* A copy of text into the string setting at p. */
static int
set_text(char **p, const char *text)
{
    char *copy = ms__strdup(text);
    if (copy == NULL) {
        return MS_ENOMEM;
    }
    ms__free(*p);
    *p = copy;
    return 0;
}

/* Parse text as the setting's type and store it at p. */
static int
store(const struct row *r, void *p, const char *text)
{
    const struct ms_setting_info *in = &r->info;
    uint64_t v;
    switch (in->type) {
    case MS_VALUE_UINT:
    case MS_VALUE_COUNT:
        if (parse_ranged(in, text, &v) != 0) {
            return MS_EINVAL;
        }
        *(unsigned *)p = (unsigned)v;
        return 0;
    case MS_VALUE_MBPS:
        if (parse_ranged(in, text, &v) != 0) {
            return MS_EINVAL;
        }
        *(uint64_t *)p = v * 1000000u;
        return 0;
    case MS_VALUE_SIZE:
        return parse_size(text, p);
    case MS_VALUE_BOOL:
        return parse_bool(text, p);
    case MS_VALUE_PROGRESS:
        return parse_progress(text, p);
    case MS_VALUE_MODEL:
        return parse_model(text, p);
    case MS_VALUE_ENCODING:
        return parse_encoding(text, p);
    case MS_VALUE_ACCURACY:
        return parse_accuracy(text, p);
    case MS_VALUE_TEXT:
    case MS_VALUE_IDS:
        return set_text(p, text);
    }
    return MS_EINVAL;
}

static void
expected_text(enum ms_setting setting, char *buf, size_t size)
{
    const struct ms_setting_info *in = ms_setting_info(setting);
    switch (in != NULL ? in->type : MS_VALUE_TEXT) {
    case MS_VALUE_UINT:
        if (in->step > 1 && in->max - in->min == in->step) {
            snprintf(buf, size, "%llu or %llu", (unsigned long long)in->min,
                     (unsigned long long)in->max);
        } else {
            snprintf(buf, size, "an integer %llu..%llu",
                     (unsigned long long)in->min, (unsigned long long)in->max);
        }
        break;
    case MS_VALUE_COUNT:
        snprintf(buf, size, "auto or an integer %llu..%llu",
                 (unsigned long long)in->min, (unsigned long long)in->max);
        break;
    case MS_VALUE_MBPS:
        snprintf(buf, size, "MB/s, an integer %llu..%llu",
                 (unsigned long long)in->min, (unsigned long long)in->max);
        break;
    case MS_VALUE_SIZE:
        snprintf(buf, size, "a size such as 256M, 1G or 65536");
        break;
    case MS_VALUE_BOOL:
        snprintf(buf, size, "True or False");
        break;
    case MS_VALUE_PROGRESS:
        snprintf(buf, size, "auto, always or never");
        break;
    case MS_VALUE_MODEL:
        snprintf(buf, size, "auto, nodal, cloth, cfd or plate");
        break;
    case MS_VALUE_ENCODING:
        snprintf(buf, size, "rwpe, lpe or rwpe+lpe");
        break;
    case MS_VALUE_ACCURACY:
        snprintf(buf, size, "a number from %g to %g", MS_MIN_ACCURACY,
                 MS_MAX_ACCURACY);
        break;
    case MS_VALUE_IDS:
        snprintf(buf, size, "sample ids and ranges such as 1-80,85,90-99");
        break;
    case MS_VALUE_TEXT:
        snprintf(buf, size, "a value");
        break;
    }
}

void
ms_setting_expected(enum ms_setting setting, char *buf, size_t size)
{
    locale_t caller = ms__c_locale_enter();
    expected_text(setting, buf, size);
    ms__c_locale_leave(caller);
}

static int
set_value(struct ms_settings *s, enum ms_setting setting, const char *value,
          struct ms_origin origin, const char *where, struct ms_error *err)
{
    if ((unsigned)setting >= MS_SET_COUNT) {
        return ms__error_set(err, MS_EINVAL, "%s: no such setting", where);
    }
    const struct row *r = &table[setting];
    char expected[96];
    ms_setting_expected(setting, expected, sizeof(expected));
    if (value == NULL || value[0] == '\0') {
        return ms__error_set(err, MS_EINVAL, "%s: missing value; expected %s",
                             where, expected);
    }
    if (r->info.type == MS_VALUE_IDS) {
        /* Checked now, so that a bad list is named where it was given,
         * with the selection's own words for what is wrong. */
        struct ms_selection sel;
        struct ms_error why;
        int rc = ms_selection_parse(&sel, value, &why);
        ms_selection_finish(&sel);
        if (rc != 0) {
            return ms__error_set(err, rc, "%s: %s", where, why.message);
        }
    }
    int rc = store(r, (char *)s + r->offset, value);
    if (rc == MS_ENOMEM) {
        return ms__error_set(err, rc, "%s: out of memory", where);
    }
    if (rc != 0) {
        return ms__error_set(err, MS_EINVAL,
                             "%s: '%s' is not valid; expected %s", where,
                             value, expected);
    }
    s->origin[setting] = origin;
    return 0;
}

int
ms_settings_set(struct ms_settings *s, enum ms_setting setting,
                const char *value, struct ms_origin origin,
                const char *where, struct ms_error *err)
{
    locale_t caller = ms__c_locale_enter();
    int rc = set_value(s, setting, value, origin, where, err);
    ms__c_locale_leave(caller);
    return rc;
}

/* "256M" for a size that is a whole number of some unit. */
static void
size_text(uint64_t v, char *buf, size_t size)
{
    const char *unit = "";
    for (const char *u = "KMGT"; *u && v != 0 && v % 1024 == 0; u++) {
        v /= 1024;
        unit = u;
    }
    snprintf(buf, size, "%llu%.1s", (unsigned long long)v, unit);
}

static void
value_text(const struct ms_settings *s, enum ms_setting setting, char *buf,
           size_t size)
{
    const struct row *r = ms_setting_info(setting) ? &table[setting] : NULL;
    const void *p = r != NULL ? (const char *)s + r->offset : NULL;
    switch (r != NULL ? r->info.type : MS_VALUE_TEXT) {
    case MS_VALUE_UINT:
        snprintf(buf, size, "%u", *(const unsigned *)p);
        break;
    case MS_VALUE_COUNT:
        if (*(const unsigned *)p == 0) {
            snprintf(buf, size, "auto");
        } else {
            snprintf(buf, size, "%u", *(const unsigned *)p);
        }
        break;
    case MS_VALUE_MBPS:
        snprintf(buf, size, "%llu",
                 (unsigned long long)(*(const uint64_t *)p / 1000000u));
        break;
    case MS_VALUE_SIZE:
        size_text(*(const uint64_t *)p, buf, size);
        break;
    case MS_VALUE_BOOL:
        snprintf(buf, size, "%s", *(const bool *)p ? "True" : "False");
        break;
    case MS_VALUE_PROGRESS:
        snprintf(buf, size, "%s",
                 progress_names[*(const enum ms_progress_mode *)p]);
        break;
    case MS_VALUE_MODEL:
        snprintf(buf, size, "%s",
                 ms_model_name(*(const enum ms_model_kind *)p));
        break;
    case MS_VALUE_ENCODING:
        snprintf(buf, size, "%s",
                 encoding_names[*(const enum ms_positional_encoding *)p]);
        break;
    case MS_VALUE_ACCURACY:
        snprintf(buf, size, "%g", *(const double *)p);
        break;
    case MS_VALUE_TEXT:
    case MS_VALUE_IDS: {
        const char *text = p != NULL ? *(char *const *)p : NULL;
        snprintf(buf, size, "%s", text != NULL ? text : "");
        break;
    }
    }
}

void
ms_setting_value(const struct ms_settings *s, enum ms_setting setting,
                 char *buf, size_t size)
{
    locale_t caller = ms__c_locale_enter();
    value_text(s, setting, buf, size);
    ms__c_locale_leave(caller);
}
