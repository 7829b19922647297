/*
 * selection.c: which samples a pass uses, from a list of ids and ranges, a
 * file of ids, or a split stored in the dataset.
 *
 * Every form ends as sorted, distinct ids and a sentence saying where they
 * came from (for the JSON and the write-back).  Parsing never trusts its
 * input: each bad piece is named.  The split is read by reader.c.
 */
#include "settings/settings.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RANGE (1 << 24) /* ids a single range may expand to */

void
ms_selection_finish(struct ms_selection *sel)
{
    if (sel == NULL) {
        return;
    }
    ms__free(sel->ids);
    ms__free(sel->source);
    memset(sel, 0, sizeof(*sel));
}

static int
compare_ids(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Sort and merge duplicates; set the source. */
static int
finish_ids(struct ms_selection *sel, const char *kind, const char *what,
           struct ms_error *err)
{
    if (sel->count > 1) {
        qsort(sel->ids, sel->count, sizeof(*sel->ids), compare_ids);
    }
    size_t kept = 0;
    for (size_t i = 0; i < sel->count; i++) {
        if (kept == 0 || sel->ids[i] != sel->ids[kept - 1]) {
            sel->ids[kept++] = sel->ids[i];
        }
    }
    sel->count = kept;
    size_t len = strlen(kind) + strlen(what) + 2;
    sel->source = ms__malloc(len);
    if (sel->source == NULL) {
        return ms__error_set(err, MS_ENOMEM, "out of memory");
    }
    snprintf(sel->source, len, "%s %s", kind, what);
    if (sel->count == 0) {
        return ms__error_set(err, MS_EINVAL, "%s %s: selects no samples",
                             kind, what);
    }
    return 0;
}

static int
push_id(struct ms_selection *sel, size_t *cap, int64_t id)
{
    if (sel->count == *cap) {
        size_t grown = *cap ? 2 * *cap : 64;
        void *p = ms__reallocarray(sel->ids, grown, sizeof(*sel->ids));
        if (p == NULL) {
            return MS_ENOMEM;
        }
        sel->ids = p;
        *cap = grown;
    }
    sel->ids[sel->count++] = id;
    return 0;
}

/* A non-negative decimal id at *p, advancing past it. */
static bool
read_id(const char **p, int64_t *out)
{
    const char *s = *p;
    if (!isdigit((unsigned char)*s)) {
        return false;
    }
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno == ERANGE || v > (long long)1e18) {
        return false;
    }
    *out = v;
    *p = end;
    return true;
}

static int
parse_piece(struct ms_selection *sel, size_t *cap, const char *piece,
            const char *text, struct ms_error *err)
{
    const char *p = piece;
    int64_t lo, hi;
    if (!read_id(&p, &lo)) {
        return ms__error_set(err, MS_EINVAL,
                             "'%s' in '%s' is not an id or a "
                             "range like 10-20",
                             piece, text);
    }
    hi = lo;
    if (*p == '-') {
        p++;
        if (!read_id(&p, &hi)) {
            return ms__error_set(err, MS_EINVAL,
                                 "'%s' in '%s' is not a range "
                                 "like 10-20",
                                 piece, text);
        }
        if (hi < lo) {
            return ms__error_set(err, MS_EINVAL,
                                 "the range '%s' in '%s' is "
                                 "reversed; write %lld-%lld",
                                 piece, text, (long long)hi, (long long)lo);
        }
        if (hi - lo >= MAX_RANGE) {
            return ms__error_set(err, MS_EINVAL,
                                 "the range '%s' is larger than "
                                 "%d ids",
                                 piece, MAX_RANGE);
        }
    }
    if (*p != '\0') {
        return ms__error_set(err, MS_EINVAL,
                             "'%s' in '%s' is not an id or a "
                             "range like 10-20",
                             piece, text);
    }
    for (int64_t id = lo; id <= hi; id++) {
        if (push_id(sel, cap, id) != 0) {
            return ms__error_set(err, MS_ENOMEM, "out of memory");
        }
    }
    return 0;
}

int
ms_selection_parse(struct ms_selection *sel, const char *text,
                   struct ms_error *err)
{
    memset(sel, 0, sizeof(*sel));
    char *copy = ms__strdup(text);
    if (copy == NULL) {
        return ms__error_set(err, MS_ENOMEM, "out of memory");
    }
    size_t cap = 0;
    int rc = 0;
    char *save = NULL;
    for (char *piece = strtok_r(copy, ",", &save); rc == 0 && piece;
         piece = strtok_r(NULL, ",", &save)) {
        while (*piece == ' ') {
            piece++;
        }
        size_t len = strlen(piece);
        while (len > 0 && piece[len - 1] == ' ') {
            piece[--len] = '\0';
        }
        rc = parse_piece(sel, &cap, piece, text, err);
    }
    if (rc == 0) {
        rc = finish_ids(sel, "samples", text, err);
    }
    ms__free(copy);
    if (rc != 0) {
        ms_selection_finish(sel);
    }
    return rc;
}

/* One line of a list file (len bytes, its newline included): blank, a
 * comment, or one id; a CRLF ending is a newline, any other CR or a NUL
 * byte is an error (cutting the line there would drop ids unseen). */
static int
list_line(struct ms_selection *sel, size_t *cap, char *line, size_t len,
          const char *path, size_t lineno, struct ms_error *err)
{
    if (memchr(line, '\0', len) != NULL) {
        return ms__error_set(err, MS_EINVAL,
                             "%s:%zu: contains a NUL byte; not a sample list",
                             path, lineno);
    }
    if (len > 0 && line[len - 1] == '\n') {
        line[--len] = '\0';
    }
    if (len > 0 && line[len - 1] == '\r') {
        line[--len] = '\0';
    }
    line[strcspn(line, "#")] = '\0';
    const char *p = line;
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    if (*p == '\0') {
        return 0;
    }
    int64_t id;
    if (!read_id(&p, &id)) {
        return ms__error_set(err, MS_EINVAL, "%s:%zu: '%s' is not a sample id",
                             path, lineno, line);
    }
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    if (*p != '\0') {
        return ms__error_set(err, MS_EINVAL,
                             "%s:%zu: one id per line expected", path,
                             lineno);
    }
    if (push_id(sel, cap, id) != 0) {
        return ms__error_set(err, MS_ENOMEM, "out of memory");
    }
    return 0;
}

int
ms_selection_read_list(struct ms_selection *sel, const char *path,
                       struct ms_error *err)
{
    memset(sel, 0, sizeof(*sel));
    bool std_in = strcmp(path, "-") == 0;
    FILE *f = std_in ? stdin : fopen(path, "r");
    if (f == NULL) {
        return ms__error_set(err, errno == ENOENT ? MS_ENOENT : MS_EACCES,
                             "%s: cannot open the sample list: %s", path,
                             strerror(errno));
    }
    char *line = NULL;
    size_t line_cap = 0, cap = 0, lineno = 0;
    ssize_t len;
    int rc = 0;
    errno = 0;
    while (rc == 0 && (len = getline(&line, &line_cap, f)) >= 0) {
        rc = list_line(sel, &cap, line, (size_t)len, path, ++lineno, err);
    }
    free(line); /* (getline's, with malloc) */
    if (rc == 0 && ferror(f)) {
        /* A read error (EIO, a directory): the list would be partial. */
        rc = ms__error_set(err, MS_EIO, "%s: cannot read the sample list: %s",
                           path, strerror(errno ? errno : EIO));
    }
    if (!std_in) {
        fclose(f);
    }
    if (rc == 0) {
        rc = finish_ids(sel, "list", std_in ? "(standard input)" : path, err);
    }
    if (rc != 0) {
        ms_selection_finish(sel);
    }
    return rc;
}

int
ms_selection_from_split(struct ms_selection *sel, const char *dataset,
                        const char *name, struct ms_error *err)
{
    memset(sel, 0, sizeof(*sel));
    int rc = ms__read_split(dataset, name, &sel->ids, &sel->count, err);
    bool read = rc == 0;
    if (read) {
        rc = finish_ids(sel, "split", name, err);
    }
    if (read && rc == MS_EINVAL && sel->count == 0) {
        /* (the split is the file's: name it) */
        rc = ms__error_set(err, rc, "%s: metadata/splits/%s: selects no "
                           "samples (an empty split)",
                           dataset, name);
    }
    if (rc != 0) {
        ms_selection_finish(sel);
    }
    return rc;
}
