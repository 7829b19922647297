/*
 * _meshstats.c: the CPython extension under the meshstats package, over
 * libmeshstats's public header.
 *
 * It does what needs C: it parses settings through the library's table
 * (so Python, the command line and config.txt accept the same values with
 * the same messages), runs a pass with the GIL released (other Python
 * threads run, and two passes in two threads run at once), calls a progress
 * callable and Python's signal handlers from the library's callbacks with
 * the GIL held again, and keeps the result object for the JSON, the
 * per-sample CSV and the write-back.  Everything a Python user sees (numpy
 * arrays, warnings, the Stats class) is the thin layer in __init__.py.
 *
 *   compute(path, config, settings, progress, per_sample) -> Result
 *     settings: [(option, value, keyword)], option a long option of the
 *     settings table ("memory-limit"), keyword the name to blame.
 *   Result.groups() -> dict, .json() -> str, .per_sample_csv() -> str,
 *     .write_back(path), .info() -> dict
 *   format_progress(record, columns) -> str;  version() -> str
 *   Error: a failure of the library (.code "MS_ENOENT", .message)
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "meshstats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static PyObject *Error;                /* meshstats.Error */
static PyObject *MeshstatsWarning;     /* a group that is not a sample */
static PyObject *SkippedSampleWarning; /* a sample left out */

/* A library message as a str: paths in it are bytes, decoded as Python
 * decodes file names (os.fsdecode), so a path that is not UTF-8 survives. */
static PyObject *
message_str(const char *message)
{
    return PyUnicode_DecodeFSDefault(message);
}

/* Raise ValueError with a library message (a usage error). */
static void
raise_value_error(const char *message)
{
    PyObject *text = message_str(message);
    if (text != NULL) {
        PyErr_SetObject(PyExc_ValueError, text);
        Py_DECREF(text);
    }
}

/* Raise Error for a library failure. */
static PyObject *
raise_error(int code, const char *message)
{
    PyObject *text = message_str(message);
    PyObject *name = PyUnicode_FromString(ms_err_name(code));
    PyObject *exc = text && name ? PyObject_CallOneArg(Error, text) : NULL;
    if (exc != NULL && (PyObject_SetAttrString(exc, "code", name) != 0 ||
                        PyObject_SetAttrString(exc, "message", text) != 0)) {
        Py_CLEAR(exc);
    }
    if (exc != NULL) {
        PyErr_SetObject(Error, exc);
    }
    Py_XDECREF(exc);
    Py_XDECREF(name);
    Py_XDECREF(text);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* The result object. */

typedef struct {
    PyObject_HEAD
    struct ms_stats *stats;
} Result;

static void
result_dealloc(Result *self)
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
result_json(Result *self, PyObject *unused)
{
    (void)unused;
    return written(ms_stats_write_json, self->stats);
}

static PyObject *
result_per_sample_csv(Result *self, PyObject *unused)
{
    (void)unused;
    return written(ms_stats_write_per_sample_csv, self->stats);
}

static PyObject *
result_table(Result *self, PyObject *unused)
{
    (void)unused;
    return written(ms_stats_write_table, self->stats);
}

static PyObject *
result_write_back(Result *self, PyObject *args)
{
    PyObject *path_obj;
    if (!PyArg_ParseTuple(args, "O&", PyUnicode_FSConverter, &path_obj)) {
        return NULL;
    }
    struct ms_error err;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = ms_stats_write_back(self->stats, PyBytes_AS_STRING(path_obj), &err);
    Py_END_ALLOW_THREADS
    Py_DECREF(path_obj);
    if (rc != 0) {
        return raise_error(rc, err.message);
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
    const struct ms_group_stats *g;
    enum ms_group_kind kind;
    int field; /* 0 mean, 1 std, 2 min, 3 max */
};

static PyObject *
feature_name(size_t k, const void *data)
{
    const struct group_view *v = data;
    char name[32];
    ms_feature_name(v->kind, k, name, sizeof(name));
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
group_dict(const struct ms_group_stats *g, enum ms_group_kind kind)
{
    struct group_view v[4] = {{g, kind, 0}, {g, kind, 1}, {g, kind, 2},
                              {g, kind, 3}};
    return Py_BuildValue(
        "{s:K,s:K,s:N,s:N,s:N,s:N,s:N}", "count",
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
    PyObject *reason = message_str(s->skipped[i].reason);
    return reason ? Py_BuildValue("(LN)", (long long)s->skipped[i].id, reason)
                  : NULL;
}

static PyObject *
result_groups(Result *self, PyObject *unused)
{
    (void)unused;
    const struct ms_stats *s = self->stats;
    return Py_BuildValue(
        "{s:N,s:N,s:N,s:n,s:n,s:n,s:N}", "node",
        group_dict(&s->groups[MS_GROUP_NODE], MS_GROUP_NODE), "edge",
        group_dict(&s->groups[MS_GROUP_EDGE], MS_GROUP_EDGE), "delta",
        group_dict(&s->groups[MS_GROUP_DELTA], MS_GROUP_DELTA),
        "samples_found", (Py_ssize_t)s->samples_found, "samples_selected",
        (Py_ssize_t)s->samples_selected, "samples_used",
        (Py_ssize_t)s->samples_used, "skipped",
        list_of(s->nskipped, skipped_item, s));
}

static PyObject *
result_info(Result *self, PyObject *unused)
{
    (void)unused;
    const struct ms_run_info *i = &self->stats->info;
    return Py_BuildValue("{s:I,s:I,s:n,s:K,s:d,s:d,s:d}", "workers",
                         i->workers, "prefetch", i->prefetch, "units",
                         (Py_ssize_t)i->units, "bytes_read",
                         (unsigned long long)i->bytes_read, "wall_seconds",
                         i->wall_seconds, "read_seconds", i->read_seconds,
                         "compute_seconds", i->compute_seconds);
}

static PyMethodDef result_methods[] = {
    {"json", (PyCFunction)result_json, METH_NOARGS,
     "The result as meshstats --json prints it."},
    {"table", (PyCFunction)result_table, METH_NOARGS,
     "The result as meshstats prints its table."},
    {"per_sample_csv", (PyCFunction)result_per_sample_csv, METH_NOARGS,
     "The per-sample report as meshstats --per-sample writes it."},
    {"groups", (PyCFunction)result_groups, METH_NOARGS,
     "The statistics as a dict of lists."},
    {"info", (PyCFunction)result_info, METH_NOARGS,
     "How the pass ran: workers, prefetch, units, seconds."},
    {"write_back", (PyCFunction)result_write_back, METH_VARARGS,
     "Store the result in the dataset at path."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ResultType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "meshstats._meshstats.Result",
    .tp_basicsize = sizeof(Result),
    .tp_dealloc = (destructor)result_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The statistics of one pass (owned by the library).",
    .tp_methods = result_methods,
};

/* ------------------------------------------------------------------ */
/* A pass: settings, callbacks, the call without the GIL. */

/* What the library's callbacks need, on the thread that runs the pass. */
struct call {
    PyObject *progress;   /* a callable, or NULL */
    PyObject *exc_type, *exc_value, *exc_tb; /* raised in a callback */
    bool stop;            /* stop the pass: the exception above ends it */
    bool progress_raised; /* call the progress callable no more */
};

/* Keep the first exception a callback raised; the pass then stops. */
static void
keep_exception(struct call *c)
{
    if (c->exc_type == NULL) {
        PyErr_Fetch(&c->exc_type, &c->exc_value, &c->exc_tb);
    } else {
        PyErr_Clear();
    }
    c->stop = true;
}

/* A warning as it comes, through warnings.warn, pointing at the caller of
 * meshstats.compute (stacklevel 2): a sample left out is a
 * SkippedSampleWarning.  A filter that makes it an error stops the pass. */
static void
on_warning(void *userdata, int64_t id, const char *message)
{
    struct call *c = userdata;
    PyGILState_STATE g = PyGILState_Ensure();
    PyObject *warnings = PyImport_ImportModule("warnings");
    PyObject *text = message_str(message);
    PyObject *r = warnings && text
                      ? PyObject_CallMethod(warnings, "warn", "OOi", text,
                                            id >= 0 ? SkippedSampleWarning
                                                    : MeshstatsWarning,
                                            2)
                      : NULL;
    if (r == NULL) {
        keep_exception(c);
    }
    Py_XDECREF(r);
    Py_XDECREF(text);
    Py_XDECREF(warnings);
    PyGILState_Release(g);
}

static void
on_progress(void *userdata, const struct ms_progress *p)
{
    struct call *c = userdata;
    if (c->progress == NULL || c->progress_raised) {
        return; /* after Ctrl-C it is still called: the bar ends its line */
    }
    PyGILState_STATE g = PyGILState_Ensure();
    PyObject *r = PyObject_CallFunction(
        c->progress, "(nnKKKKdO)", (Py_ssize_t)p->samples_done,
        (Py_ssize_t)p->samples_total, (unsigned long long)p->units_done,
        (unsigned long long)p->units_total, (unsigned long long)p->bytes_done,
        (unsigned long long)p->bytes_total, p->elapsed,
        p->finished ? Py_True : Py_False);
    if (r == NULL) {
        /* Ctrl-C may land in the callable's own bytecode: that is not the
         * callable failing, so it still gets the last, finished record. */
        c->progress_raised = !PyErr_ExceptionMatches(PyExc_KeyboardInterrupt);
        keep_exception(c);
    }
    Py_XDECREF(r);
    PyGILState_Release(g);
}

/* Every 100 ms: Python's signal handlers (Ctrl-C raises KeyboardInterrupt
 * there, in the main thread), and a callback's exception, stop the pass. */
static bool
should_stop(void *userdata)
{
    struct call *c = userdata;
    if (c->stop) {
        return true;
    }
    PyGILState_STATE g = PyGILState_Ensure();
    if (PyErr_CheckSignals() != 0) {
        keep_exception(c);
    }
    PyGILState_Release(g);
    return c->stop;
}

/* The setting whose long option is option. */
static int
find_option(const char *option, enum ms_setting *out)
{
    for (int k = 0; k < MS_SET_COUNT; k++) {
        const struct ms_setting_info *in = ms_setting_info(k);
        if (in->option != NULL && strcmp(in->option, option) == 0) {
            *out = (enum ms_setting)k;
            return 0;
        }
    }
    return -1;
}

/* The config file, then each (option, value, keyword) of settings: a
 * ValueError naming the keyword (or the config line) for a value that
 * does not parse. */
static int
apply_settings(struct ms_settings *s, const char *config, PyObject *settings)
{
    struct ms_error err;
    int rc = config != NULL ? ms_settings_load_config(s, config, &err) : 0;
    if (rc != 0) { /* a missing file is Error MS_ENOENT, a bad line EINVAL */
        if (rc == MS_EINVAL) {
            raise_value_error(err.message);
        } else {
            raise_error(rc, err.message);
        }
        return -1;
    }
    Py_ssize_t n = PyList_Size(settings);
    for (Py_ssize_t i = 0; i < n; i++) {
        const char *option, *value, *keyword;
        enum ms_setting k;
        if (!PyArg_ParseTuple(PyList_GET_ITEM(settings, i), "sss", &option,
                              &value, &keyword)) {
            return -1;
        }
        if (find_option(option, &k) != 0) {
            PyErr_Format(PyExc_ValueError, "%s: no such setting", keyword);
            return -1;
        }
        if (ms_settings_set(s, k, value,
                            (struct ms_origin){MS_ORIGIN_COMMAND_LINE, 0},
                            keyword, &err) != 0) {
            raise_value_error(err.message);
            return -1;
        }
    }
    return 0;
}

/* The selection the settings ask for (at most one way). */
static int
selection(const struct ms_settings *s, const char *path,
          struct ms_selection *sel, bool *have)
{
    int given = (s->samples != NULL) + (s->sample_list != NULL) +
                (s->split != NULL);
    *have = given > 0;
    if (given > 1) {
        PyErr_SetString(PyExc_ValueError,
                        "samples, sample_list and split choose samples each "
                        "in their own way: give one");
        return -1;
    }
    if (given == 0) {
        return 0;
    }
    struct ms_error err;
    int rc;
    Py_BEGIN_ALLOW_THREADS /* a list file, or the dataset's split */
    rc = s->samples ? ms_selection_parse(sel, s->samples, &err)
         : s->split ? ms_selection_from_split(sel, path, s->split, &err)
                    : ms_selection_read_list(sel, s->sample_list, &err);
    Py_END_ALLOW_THREADS
    if (rc == MS_EINVAL) {
        raise_value_error(err.message);
        return -1;
    }
    if (rc != 0) {
        raise_error(rc, err.message);
        return -1;
    }
    return 0;
}

/* Run the pass without the GIL; a Result, or NULL with the exception. */
static PyObject *
run(const char *path, struct ms_options *opts, struct call *c)
{
    struct ms_stats *stats = NULL;
    struct ms_error err;
    int rc;
    opts->on_warning = on_warning;
    opts->on_progress = on_progress;
    opts->should_stop = should_stop;
    opts->userdata = c;
    Py_BEGIN_ALLOW_THREADS
    rc = ms_stats_compute(path, opts, &stats, &err);
    Py_END_ALLOW_THREADS
    if (c->exc_type != NULL) {
        ms_stats_destroy(stats); /* a callback raised: that is the error */
        PyErr_Restore(c->exc_type, c->exc_value, c->exc_tb);
        c->exc_type = c->exc_value = c->exc_tb = NULL;
        return NULL;
    }
    if (rc != 0) {
        return raise_error(rc, err.message);
    }
    Result *r = PyObject_New(Result, &ResultType);
    if (r == NULL) {
        ms_stats_destroy(stats);
        return NULL;
    }
    r->stats = stats;
    return (PyObject *)r;
}

/* PyUnicode_FSConverter that lets None through (as NULL). */
static int
optional_path(PyObject *in, void *out)
{
    if (in == Py_None) {
        *(PyObject **)out = NULL;
        return 1;
    }
    return PyUnicode_FSConverter(in, out);
}

static PyObject *
compute(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *path_obj, *config_obj, *settings, *progress;
    int per_sample;
    if (!PyArg_ParseTuple(args, "O&O&O!Op", PyUnicode_FSConverter, &path_obj,
                          optional_path, &config_obj, &PyList_Type, &settings,
                          &progress, &per_sample)) {
        return NULL;
    }
    const char *path = PyBytes_AS_STRING(path_obj);
    const char *config = config_obj ? PyBytes_AS_STRING(config_obj) : NULL;
    struct ms_settings s;
    ms_settings_init(&s);
    struct ms_selection sel = {0};
    bool have = false;
    struct call c = {progress != Py_None ? progress : NULL, NULL, NULL, NULL,
                     false, false};
    PyObject *out = NULL;
    if (apply_settings(&s, config, settings) == 0 &&
        selection(&s, path, &sel, &have) == 0) {
        struct ms_options opts = s.options;
        opts.workers = ms_settings_workers(&s);
        opts.selection = have ? &sel : NULL;
        opts.per_sample = per_sample != 0;
        opts.handle_signals = false; /* Python's handlers, through polling */
        out = run(path, &opts, &c);
    }
    ms_selection_finish(&sel);
    ms_settings_finish(&s);
    Py_DECREF(path_obj);
    Py_XDECREF(config_obj);
    return out;
}

static PyObject *
format_progress(PyObject *module, PyObject *args)
{
    (void)module;
    struct ms_progress p = {0};
    unsigned columns;
    int finished;
    Py_ssize_t sd, st;
    unsigned long long ud, ut, bd, bt;
    if (!PyArg_ParseTuple(args, "(nnKKKKdp)I", &sd, &st, &ud, &ut, &bd, &bt,
                          &p.elapsed, &finished, &columns)) {
        return NULL;
    }
    p.samples_done = (size_t)sd;
    p.samples_total = (size_t)st;
    p.units_done = ud;
    p.units_total = ut;
    p.bytes_done = bd;
    p.bytes_total = bt;
    p.finished = finished != 0;
    char line[512];
    size_t len = ms_progress_format(&p, columns, line, sizeof(line));
    return PyUnicode_FromStringAndSize(line, (Py_ssize_t)len);
}

static PyObject *
version(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    char deps[128];
    ms_version_dependencies(deps, sizeof(deps));
    return Py_BuildValue("(ss)", ms_version(), deps);
}

static PyMethodDef methods[] = {
    {"compute", compute, METH_VARARGS,
     "compute(path, config, settings, progress, per_sample) -> Result"},
    {"format_progress", format_progress, METH_VARARGS,
     "format_progress(record, columns) -> the command's progress line"},
    {"version", version, METH_NOARGS,
     "version() -> (meshstats version, its HDF5 and libuv)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_meshstats",
    "The C half of the meshstats package (use meshstats, not this).", -1,
    methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__meshstats(void);

PyMODINIT_FUNC
PyInit__meshstats(void)
{
    if (PyType_Ready(&ResultType) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&module_def);
    if (m == NULL) {
        return NULL;
    }
    Error = PyErr_NewExceptionWithDoc(
        "meshstats.Error",
        "A failure of libmeshstats: .code is its MS_E* name (\"MS_ENOENT\"), "
        ".message the library's sentence, which names "
        "the file, the sample and the dataset involved.",
        NULL, NULL);
    MeshstatsWarning = PyErr_NewExceptionWithDoc(
        "meshstats.MeshstatsWarning",
        "Something about the dataset a pass went on without (a group of the "
        "file that is not a sample).",
        PyExc_UserWarning, NULL);
    SkippedSampleWarning = PyErr_NewExceptionWithDoc(
        "meshstats.SkippedSampleWarning",
        "A sample was left out of the statistics; the message says which, "
        "where in the file and why (Stats.skipped lists them too).",
        MeshstatsWarning, NULL);
    /* The module holds one reference of each, this file another. */
    PyObject *types[3] = {Error, MeshstatsWarning, SkippedSampleWarning};
    const char *names[3] = {"Error", "MeshstatsWarning",
                            "SkippedSampleWarning"};
    for (int i = 0; i < 3; i++) {
        if (types[i] == NULL || PyModule_AddObjectRef(m, names[i],
                                                      types[i]) != 0) {
            Py_DECREF(m);
            return NULL;
        }
    }
    return m;
}
