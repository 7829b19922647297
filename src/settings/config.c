/*
 * config.c: settings from config.txt.
 *
 * The format is the training pipeline's, so one file configures both: one
 * `key value` per line, `%` starts a comment line, `#` starts a trailing
 * comment, keys are case-insensitive, booleans are True/False in any case,
 * unknown keys are ignored (they configure training).  Keys, types and
 * ranges come from the settings table (settings.c); a known key with an
 * unusable value is an error that names the file and line.  Nothing here
 * touches HDF5 or prints.
 */
#include "settings/settings.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_CONFIG_BYTES (16u << 20)

/* Remember a key left to the training pipeline, for --print-config. */
static int
note_ignored(struct ms_settings *s, const char *key, size_t lineno,
             const char *name, struct ms_error *err)
{
    size_t had = s->ignored_keys ? strlen(s->ignored_keys) : 0;
    size_t size = had + strlen(key) + 24;
    char *grown = ms__reallocarray(s->ignored_keys, size, 1);
    if (grown == NULL) {
        return ms__error_set(err, MS_ENOMEM, "%s: out of memory", name);
    }
    snprintf(grown + had, size - had, "%s%s:%zu", had ? " " : "", key,
             lineno);
    s->ignored_keys = grown;
    return 0;
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
    enum ms_setting setting;
    if (ms_setting_find_key(key, &setting) != 0) {
        return note_ignored(s, key, lineno, name, err);
    }
    char where[512];
    snprintf(where, sizeof(where), "%s:%zu: %s", name, lineno,
             ms_setting_info(setting)->key);
    return ms_settings_set(s, setting, value,
                           (struct ms_origin){MS_ORIGIN_FILE,
                                              (unsigned)lineno},
                           where, err);
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
    ms__free(s->ignored_keys);
    s->ignored_keys = NULL;
    char *line = ms__malloc(len + 1);
    if (line == NULL) {
        return ms__error_set(err, MS_ENOMEM, "%s: out of memory", name);
    }
    size_t lineno = 0, pos = 0;
    int rc = 0;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        pos = 3; /* a UTF-8 byte order mark (Windows editors write one) */
    }
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
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return ms__error_set(err, MS_EINVAL,
                             "%s: is a directory, not a config file", path);
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
