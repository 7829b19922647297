/*
 * config.c: settings from config.txt, and the value parsers the config file
 * and the command line share (SPEC 5.4).
 *
 * The format is the training pipeline's, so one file configures both: one
 * `key value` per line, `%` starts a comment line, `#` starts a trailing
 * comment, keys are case-insensitive, booleans are True/False in any case,
 * unknown keys are ignored.  A known key with an unusable value is an error
 * that names the file and line.  Nothing here touches HDF5 or prints.
 */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MAX_WORKERS 1024
#define MAX_PREFETCH 4096
#define MAX_CONFIG_BYTES (16u << 20)

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
    ms__free(s->dataset);
    ms__free(s->samples);
    ms__free(s->config_path);
    s->dataset = NULL;
    s->samples = NULL;
    s->config_path = NULL;
}

unsigned
ms_settings_workers(const struct ms_settings *s)
{
    if (!s->use_parallel_stats && !s->workers_set) {
        return 1;
    }
    return s->options.workers;
}

/* ------------------------------------------------------------------ */
/* Value parsers. */

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

int
ms_parse_uint(const char *text, unsigned min, unsigned max, unsigned *out)
{
    uint64_t v;
    const char *end;
    if (parse_u64(text, &v, &end) != 0 || *end != '\0' || v < min ||
        v > max) {
        return MS_EINVAL;
    }
    *out = (unsigned)v;
    return 0;
}

int
ms_parse_count_or_auto(const char *text, unsigned max, unsigned *out)
{
    if (strcasecmp(text, "auto") == 0) {
        *out = 0;
        return 0;
    }
    return ms_parse_uint(text, 1, max, out);
}

int
ms_parse_size(const char *text, uint64_t *out)
{
    uint64_t v;
    const char *end;
    if (parse_u64(text, &v, &end) != 0) {
        return MS_EINVAL;
    }
    unsigned shift = 0;
    switch (toupper((unsigned char)*end)) {
    case '\0':
        break;
    case 'K':
        shift = 10;
        break;
    case 'M':
        shift = 20;
        break;
    case 'G':
        shift = 30;
        break;
    case 'T':
        shift = 40;
        break;
    default:
        return MS_EINVAL;
    }
    if (*end != '\0') {
        end++;
        /* 256M, 256MB and 256MiB all mean 256 * 2^20 bytes. */
        if (strcasecmp(end, "iB") != 0 && strcasecmp(end, "B") != 0 &&
            *end != '\0') {
            return MS_EINVAL;
        }
    }
    if (v == 0 || v > (UINT64_MAX >> shift)) {
        return MS_EINVAL;
    }
    *out = v << shift;
    return 0;
}

int
ms_parse_bool(const char *text, bool *out)
{
    if (strcasecmp(text, "true") == 0) {
        *out = true;
    } else if (strcasecmp(text, "false") == 0) {
        *out = false;
    } else {
        return MS_EINVAL;
    }
    return 0;
}

int
ms_parse_progress(const char *text, enum ms_progress_mode *out)
{
    static const char *const names[] = {"auto", "always", "never"};
    for (size_t i = 0; i < MS_ARRAY_SIZE(names); i++) {
        if (strcasecmp(text, names[i]) == 0) {
            *out = (enum ms_progress_mode)i;
            return 0;
        }
    }
    return MS_EINVAL;
}

/* ------------------------------------------------------------------ */
/* The config file. */

/* One known key: how to apply its value, and what a valid value is. */
struct key {
    const char *name;
    const char *expected;
    int (*apply)(struct ms_settings *s, const char *value);
    enum ms_setting setting;
};

static int
apply_input_var(struct ms_settings *s, const char *v)
{
    return ms_parse_uint(v, 1, MS_MAX_VARS, &s->options.input_var);
}

static int
apply_output_var(struct ms_settings *s, const char *v)
{
    return ms_parse_uint(v, 1, MS_MAX_VARS, &s->options.output_var);
}

static int
apply_max_timesteps(struct ms_settings *s, const char *v)
{
    return ms_parse_uint(v, 0, 1000000000u, &s->options.max_timesteps);
}

static int
apply_workers(struct ms_settings *s, const char *v)
{
    int rc = ms_parse_count_or_auto(v, MAX_WORKERS, &s->options.workers);
    s->workers_set = rc == 0 && s->options.workers != 0;
    return rc;
}

static int
apply_parallel(struct ms_settings *s, const char *v)
{
    return ms_parse_bool(v, &s->use_parallel_stats);
}

static int
apply_prefetch(struct ms_settings *s, const char *v)
{
    return ms_parse_count_or_auto(v, MAX_PREFETCH, &s->options.prefetch);
}

static int
apply_memory(struct ms_settings *s, const char *v)
{
    return ms_parse_size(v, &s->options.memory_limit);
}

static int
apply_write_back(struct ms_settings *s, const char *v)
{
    return ms_parse_bool(v, &s->write_back);
}

static int
apply_progress(struct ms_settings *s, const char *v)
{
    return ms_parse_progress(v, &s->progress);
}

static int
apply_skip_nonfinite(struct ms_settings *s, const char *v)
{
    return ms_parse_bool(v, &s->options.skip_nonfinite);
}

static int
apply_dataset(struct ms_settings *s, const char *v)
{
    char *copy = ms__strdup(v);
    if (copy == NULL) {
        return MS_ENOMEM;
    }
    ms__free(s->dataset);
    s->dataset = copy;
    return 0;
}

static int
apply_samples(struct ms_settings *s, const char *v)
{
    /* Checked here so that a bad list names the config line. */
    struct ms_selection sel;
    int rc = ms_selection_parse(&sel, v, NULL);
    ms_selection_finish(&sel);
    if (rc != 0) {
        return rc;
    }
    char *copy = ms__strdup(v);
    if (copy == NULL) {
        return MS_ENOMEM;
    }
    ms__free(s->samples);
    s->samples = copy;
    return 0;
}

static const struct key keys[] = {
    {"input_var", "an integer 1..1024", apply_input_var, MS_SET_INPUT_VAR},
    {"output_var", "an integer 1..1024", apply_output_var, MS_SET_OUTPUT_VAR},
    {"max_timesteps_for_stats", "an integer >= 0 (0: every timestep)",
     apply_max_timesteps, MS_SET_MAX_TIMESTEPS},
    {"stats_workers", "auto or an integer 1..1024", apply_workers, MS_SET_WORKERS},
    {"use_parallel_stats", "True or False", apply_parallel, MS_SET_PARALLEL},
    {"prefetch_depth", "auto or an integer 1..4096", apply_prefetch, MS_SET_PREFETCH},
    {"stats_memory_limit", "a size such as 256M, 1G or 65536",
     apply_memory, MS_SET_MEMORY_LIMIT},
    {"write_normalization_params", "True or False", apply_write_back, MS_SET_WRITE_BACK},
    {"progress", "auto, always or never", apply_progress, MS_SET_PROGRESS},
    {"stats_skip_nonfinite", "True or False", apply_skip_nonfinite, MS_SET_SKIP_NONFINITE},
    {"dataset_dir", "a path", apply_dataset, MS_SET_DATASET},
    {"stats_samples", "sample ids and ranges such as 1-80,85,90-99",
     apply_samples, MS_SET_SAMPLES},
};

static const struct key *
find_key(const char *name)
{
    for (size_t i = 0; i < MS_ARRAY_SIZE(keys); i++) {
        if (strcasecmp(keys[i].name, name) == 0) {
            return &keys[i];
        }
    }
    return NULL;
}

/* Apply one line (NUL-terminated, modified in place). */
static int
apply_line(struct ms_settings *s, char *line, const char *name,
           size_t lineno, struct ms_error *err)
{
    char *hash = strchr(line, '#');
    if (hash != NULL) {
        *hash = '\0';
    }
    char *p = line;
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    if (*p == '\0' || *p == '%') {
        return 0;
    }
    char *key = p;
    while (*p && *p != ' ' && *p != '\t') {
        p++;
    }
    char *value = p;
    if (*p) {
        *p = '\0';
        value = p + 1;
    }
    while (*value == ' ' || *value == '\t') {
        value++;
    }
    size_t len = strlen(value);
    while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t' ||
                       value[len - 1] == '\r')) {
        value[--len] = '\0';
    }
    const struct key *k = find_key(key);
    if (k == NULL) {
        return 0; /* the training pipeline's own key */
    }
    if (len == 0) {
        return ms__error_set(err, MS_EINVAL, "%s:%zu: %s: missing value; "
                             "expected %s",
                             name, lineno, k->name, k->expected);
    }
    int rc = k->apply(s, value);
    if (rc == 0) {
        s->origin[k->setting] = (struct ms_origin){MS_ORIGIN_FILE,
                                                   (unsigned)lineno};
    }
    if (rc == MS_ENOMEM) {
        return ms__error_set(err, rc, "%s:%zu: out of memory", name, lineno);
    }
    if (rc != 0) {
        return ms__error_set(err, MS_EINVAL,
                             "%s:%zu: %s: '%s' is not valid; expected %s",
                             name, lineno, k->name, value, k->expected);
    }
    return 0;
}

int
ms_settings_parse_config(struct ms_settings *s, const char *text, size_t len,
                         const char *name, struct ms_error *err)
{
    char *path = ms__strdup(name);
    if (path == NULL) {
        return ms__error_set(err, MS_ENOMEM, "%s: out of memory", name);
    }
    ms__free(s->config_path);
    s->config_path = path;
    char *line = ms__malloc(len + 1);
    if (line == NULL) {
        return ms__error_set(err, MS_ENOMEM, "%s: out of memory", name);
    }
    size_t lineno = 0, pos = 0;
    int rc = 0;
    while (rc == 0 && pos < len) {
        size_t end = pos;
        while (end < len && text[end] != '\n') {
            end++;
        }
        lineno++;
        size_t n = end - pos;
        memcpy(line, text + pos, n);
        line[n] = '\0';
        if (strlen(line) != n) {
            rc = ms__error_set(err, MS_EINVAL,
                               "%s:%zu: contains a NUL byte; not a text file",
                               name, lineno);
            break;
        }
        rc = apply_line(s, line, name, lineno, err);
        pos = end + 1;
    }
    ms__free(line);
    return rc;
}

int
ms_settings_load_config(struct ms_settings *s, const char *path,
                        struct ms_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return ms__error_set(err, errno == ENOENT ? MS_ENOENT : MS_EACCES,
                             "%s: cannot open config file: %s", path,
                             strerror(errno));
    }
    char *text = ms__malloc(MAX_CONFIG_BYTES);
    int rc = 0;
    if (text == NULL) {
        rc = ms__error_set(err, MS_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    size_t len = fread(text, 1, MAX_CONFIG_BYTES, f);
    if (ferror(f)) {
        rc = ms__error_set(err, MS_EIO, "%s: read error", path);
    } else if (len == MAX_CONFIG_BYTES) {
        rc = ms__error_set(err, MS_EINVAL, "%s: larger than %u bytes; not a "
                           "config file",
                           path, MAX_CONFIG_BYTES);
    } else {
        rc = ms_settings_parse_config(s, text, len, path, err);
    }
done:
    ms__free(text);
    fclose(f);
    return rc;
}

const char *
ms_setting_key(enum ms_setting setting)
{
    for (size_t i = 0; i < MS_ARRAY_SIZE(keys); i++) {
        if (keys[i].setting == setting) {
            return keys[i].name;
        }
    }
    return "?";
}

static void
count_or_auto(unsigned v, char *buf, size_t size)
{
    if (v == 0) {
        snprintf(buf, size, "auto");
    } else {
        snprintf(buf, size, "%u", v);
    }
}

void
ms_setting_value(const struct ms_settings *s, enum ms_setting setting,
                 char *buf, size_t size)
{
    const struct ms_options *o = &s->options;
    static const char *const progress[] = {"auto", "always", "never"};
    switch (setting) {
    case MS_SET_INPUT_VAR:
        snprintf(buf, size, "%u", o->input_var);
        break;
    case MS_SET_OUTPUT_VAR:
        snprintf(buf, size, "%u", o->output_var);
        break;
    case MS_SET_MAX_TIMESTEPS:
        snprintf(buf, size, "%u", o->max_timesteps);
        break;
    case MS_SET_WORKERS:
        count_or_auto(o->workers, buf, size);
        break;
    case MS_SET_PARALLEL:
        snprintf(buf, size, "%s", s->use_parallel_stats ? "True" : "False");
        break;
    case MS_SET_PREFETCH:
        count_or_auto(o->prefetch, buf, size);
        break;
    case MS_SET_MEMORY_LIMIT: {
        uint64_t v = o->memory_limit;
        const char *unit = "";
        if (v % (1ULL << 30) == 0) {
            v >>= 30;
            unit = "G";
        } else if (v % (1ULL << 20) == 0) {
            v >>= 20;
            unit = "M";
        } else if (v % 1024 == 0) {
            v >>= 10;
            unit = "K";
        }
        snprintf(buf, size, "%llu%s", (unsigned long long)v, unit);
        break;
    }
    case MS_SET_WRITE_BACK:
        snprintf(buf, size, "%s", s->write_back ? "True" : "False");
        break;
    case MS_SET_PROGRESS:
        snprintf(buf, size, "%s", progress[s->progress]);
        break;
    case MS_SET_SKIP_NONFINITE:
        snprintf(buf, size, "%s", o->skip_nonfinite ? "True" : "False");
        break;
    case MS_SET_DATASET:
        snprintf(buf, size, "%s", s->dataset ? s->dataset : "(none)");
        break;
    case MS_SET_SAMPLES:
        snprintf(buf, size, "%s", s->samples ? s->samples : "(all)");
        break;
    default:
        snprintf(buf, size, "?");
    }
}
