/*
 * result.c: the Result type, the statistics of one pass as the library
 * keeps them: the groups as dicts of lists, the JSON, table and per-sample
 * CSV from the library's own writers (so they are the command's bytes),
 * how the pass ran, and the write-back.
 */
#include "extension.h"

#include <stdio.h>
#include <stdlib.h>

static void
result_dealloc(ms_py_result *self)
{
    ms_stats_destroy(self->stats);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* What fn writes, as a str (os.fsencode gives back its bytes). */
static PyObject *
written(int (*fn)(const struct ms_stats *, FILE *),
        const struct ms_stats *stats)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (m == NULL) {
        return PyErr_NoMemory();
    }
    int rc = fn(stats, m);
    if (fclose(m) != 0 || rc != 0) {
        free(buf);
        return PyErr_NoMemory();
    }
    PyObject *out = PyUnicode_DecodeFSDefaultAndSize(buf, (Py_ssize_t)len);
    free(buf);
    return out;
}

static PyObject *
result_json(ms_py_result *self, PyObject *unused)
{
    (void)unused;
    return written(ms_stats_write_json, self->stats);
}

static PyObject *
result_trace_json(ms_py_result *self, PyObject *unused)
{
    (void)unused;
    return written(ms_stats_write_trace, self->stats);
}

static PyObject *
result_report_html(ms_py_result *self, PyObject *unused)
{
    (void)unused;
    return written(ms_stats_write_report, self->stats);
}

static PyObject *
result_per_sample_csv(ms_py_result *self, PyObject *unused)
{
    (void)unused;
    return written(ms_stats_write_per_sample_csv, self->stats);
}

static PyObject *
result_table(ms_py_result *self, PyObject *unused)
{
    (void)unused;
    return written(ms_stats_write_table, self->stats);
}

static PyObject *
result_write_back(ms_py_result *self, PyObject *args)
{
    PyObject *path_obj;
    if (!PyArg_ParseTuple(args, "O&", PyUnicode_FSConverter, &path_obj)) {
        return NULL;
    }
    struct ms_error err;
    int rc;
    Py_BEGIN_ALLOW_THREADS rc =
        ms_stats_write_back(self->stats, PyBytes_AS_STRING(path_obj), &err);
    Py_END_ALLOW_THREADS Py_DECREF(path_obj);
    if (rc != 0) {
        return ms_py_raise_error(rc, err.message);
    }
    Py_RETURN_NONE;
}

/* A list of n items made by item(i, data); NULL with the exception. */
static PyObject *
list_of(size_t n, PyObject *(*item)(size_t i, const void *data),
        const void *data)
{
    PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list != NULL && i < n; i++) {
        PyObject *v = item(i, data);
        if (v == NULL) {
            Py_CLEAR(list);
        } else {
            PyList_SET_ITEM(list, (Py_ssize_t)i, v);
        }
    }
    return list;
}

struct group_view {
    const struct ms_stats *s;
    const struct ms_group_stats *g;
    enum ms_group_kind kind;
    int field; /* 0 mean, 1 std, 2 min, 3 max */
};

static PyObject *
feature_name(size_t k, const void *data)
{
    const struct group_view *v = data;
    char name[32];
    ms_stats_feature_name(v->s, v->kind, k, name, sizeof(name));
    return PyUnicode_FromString(name);
}

static PyObject *
feature_value(size_t k, const void *data)
{
    const struct group_view *v = data;
    const struct ms_feature_stats *f = &v->g->features[k];
    double x[4] = {f->mean, f->std, f->min, f->max};
    return PyFloat_FromDouble(v->g->count ? x[v->field] : Py_NAN);
}

/* One group as a dict of lists (NaN statistics for an empty group). */
static PyObject *
group_dict(const struct ms_stats *s, enum ms_group_kind kind)
{
    const struct ms_group_stats *g = &s->groups[kind];
    struct group_view v[4] = {
        {s, g, kind, 0}, {s, g, kind, 1}, {s, g, kind, 2}, {s, g, kind, 3}};
    return Py_BuildValue("{s:K,s:K,s:N,s:N,s:N,s:N,s:N}", "count",
                         (unsigned long long)g->count, "nonfinite_skipped",
                         (unsigned long long)g->nonfinite_skipped, "features",
                         list_of(g->nfeatures, feature_name, &v[0]), "mean",
                         list_of(g->nfeatures, feature_value, &v[0]), "std",
                         list_of(g->nfeatures, feature_value, &v[1]), "min",
                         list_of(g->nfeatures, feature_value, &v[2]), "max",
                         list_of(g->nfeatures, feature_value, &v[3]));
}

static PyObject *
skipped_item(size_t i, const void *data)
{
    const struct ms_stats *s = data;
    PyObject *reason = ms_py_message(s->skipped[i].reason);
    return reason ? Py_BuildValue("(LN)", (long long)s->skipped[i].id, reason)
                  : NULL;
}

static PyObject *
warning_item(size_t i, const void *data)
{
    const struct ms_stats *s = data;
    return ms_py_message(i < s->nwarnings
                             ? s->warnings[i]
                             : s->sample_warnings[i - s->nwarnings]);
}

static PyObject *
result_groups(ms_py_result *self, PyObject *unused)
{
    (void)unused;
    const struct ms_stats *s = self->stats;
    return Py_BuildValue("{s:N,s:N,s:N,s:N,s:n,s:n,s:n,s:N}", "warnings",
                         list_of(s->nwarnings + s->nsample_warnings,
                                 warning_item, s),
                         "node",
                         group_dict(s, MS_GROUP_NODE), "edge",
                         group_dict(s, MS_GROUP_EDGE), "delta",
                         group_dict(s, MS_GROUP_DELTA), "samples_found",
                         (Py_ssize_t)s->samples_found, "samples_selected",
                         (Py_ssize_t)s->samples_selected, "samples_used",
                         (Py_ssize_t)s->samples_used, "skipped",
                         list_of(s->nskipped, skipped_item, s));
}

static PyObject *
result_info(ms_py_result *self, PyObject *unused)
{
    (void)unused;
    const struct ms_run_info *i = &self->stats->info;
    return Py_BuildValue(
        "{s:I,s:I,s:n,s:K,s:d,s:d,s:d}", "workers", i->workers, "prefetch",
        i->prefetch, "units", (Py_ssize_t)i->units, "bytes_read",
        (unsigned long long)i->bytes_read, "wall_seconds", i->wall_seconds,
        "read_seconds", i->read_seconds, "compute_seconds", i->compute_seconds);
}

/* The group named by its index, or a ValueError. */
static int
group_arg(int g, enum ms_group_kind *out)
{
    if (g < 0 || g >= MS_GROUP_COUNT) {
        PyErr_SetString(PyExc_ValueError, "no such group");
        return -1;
    }
    *out = (enum ms_group_kind)g;
    return 0;
}

/* quantile(group, feature, p): the library's answer, or its error. */
static PyObject *
result_quantile(ms_py_result *self, PyObject *args)
{
    int g;
    Py_ssize_t k;
    double p, q;
    enum ms_group_kind kind;
    if (!PyArg_ParseTuple(args, "ind", &g, &k, &p) || group_arg(g, &kind)) {
        return NULL;
    }
    int rc = ms_stats_quantile(self->stats, kind, (size_t)k, p, &q);
    if (rc != 0) {
        return ms_py_raise_error(rc, "no quantile: the pass ran without "
                                     "quantiles, p is outside [0, 1], or "
                                     "the group has no values");
    }
    return PyFloat_FromDouble(q);
}

/* histogram(group, feature, bins): (edges, counts) as lists. */
static PyObject *
result_histogram(ms_py_result *self, PyObject *args)
{
    int g;
    Py_ssize_t k, bins;
    enum ms_group_kind kind;
    if (!PyArg_ParseTuple(args, "inn", &g, &k, &bins) ||
        group_arg(g, &kind)) {
        return NULL;
    }
    if (bins < 1 || bins > 1000000) {
        PyErr_SetString(PyExc_ValueError, "bins: expected 1..1000000");
        return NULL;
    }
    double *edges = PyMem_Calloc((size_t)bins + 1, sizeof(*edges));
    unsigned long long *counts = PyMem_Calloc((size_t)bins, sizeof(*counts));
    PyObject *out = NULL;
    int rc = edges && counts ? ms_stats_histogram(self->stats, kind,
                                                  (size_t)k, (size_t)bins,
                                                  edges,
                                                  (uint64_t *)counts)
                             : MS_ENOMEM;
    if (rc != 0) {
        ms_py_raise_error(rc, "no histogram: the pass ran without "
                              "quantiles, or the group has no values");
    } else {
        PyObject *e = PyList_New(bins + 1), *c = PyList_New(bins);
        for (Py_ssize_t i = 0; e && c && i <= bins; i++) {
            PyList_SET_ITEM(e, i, PyFloat_FromDouble(edges[i]));
            if (i < bins) {
                PyList_SET_ITEM(c, i, PyLong_FromUnsignedLongLong(counts[i]));
            }
        }
        if (e != NULL && c != NULL) {
            out = Py_BuildValue("(NN)", e, c);
        } else {
            Py_XDECREF(e);
            Py_XDECREF(c);
        }
    }
    PyMem_Free(edges);
    PyMem_Free(counts);
    return out;
}

static PyObject *
result_quantile_accuracy(ms_py_result *self, PyObject *unused)
{
    (void)unused;
    return PyFloat_FromDouble(self->stats->quantile_accuracy);
}

static PyMethodDef result_methods[] = {
    {"quantile", (PyCFunction)result_quantile, METH_VARARGS,
     "Feature k of group g at probability p (a pass with quantiles)."},
    {"histogram", (PyCFunction)result_histogram, METH_VARARGS,
     "Feature k of group g in bins equal bins: (edges, counts)."},
    {"quantile_accuracy", (PyCFunction)result_quantile_accuracy,
     METH_NOARGS, "The quantiles' relative accuracy (0: none)."},
    {"json", (PyCFunction)result_json, METH_NOARGS,
     "The result as meshstats --json prints it."},
    {"table", (PyCFunction)result_table, METH_NOARGS,
     "The result as meshstats prints its table."},
    {"per_sample_csv", (PyCFunction)result_per_sample_csv, METH_NOARGS,
     "The per-sample report as meshstats --per-sample writes it."},
    {"trace_json", (PyCFunction)result_trace_json, METH_NOARGS,
     "The pass's timeline as meshstats --trace writes it."},
    {"report_html", (PyCFunction)result_report_html, METH_NOARGS,
     "The HTML page meshstats --report writes."},
    {"groups", (PyCFunction)result_groups, METH_NOARGS,
     "The statistics as a dict of lists."},
    {"info", (PyCFunction)result_info, METH_NOARGS,
     "How the pass ran: workers, prefetch, units, seconds."},
    {"write_back", (PyCFunction)result_write_back, METH_VARARGS,
     "Store the result in the dataset at path."},
    {NULL, NULL, 0, NULL},
};

PyTypeObject ms_py_result_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "meshstats._meshstats.Result",
    .tp_basicsize = sizeof(ms_py_result),
    .tp_dealloc = (destructor)result_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The statistics of one pass (owned by the library).",
    .tp_methods = result_methods,
};
