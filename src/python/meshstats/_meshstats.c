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
 *     .write_back(path), .warnings -> list, .info() -> dict
 *   format_progress(record, columns) -> str;  version() -> str
 *   Error: a failure of the library (.code "MS_ENOENT", .message)
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "meshstats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static PyObject *Error; /* meshstats.Error */

/* Raise Error for a library failure. */
static PyObject *
raise_error(int code, const char *message)
{
    PyObject *args = Py_BuildValue("(s)", message);
    PyObject *exc = args ? PyObject_Call(Error, args, NULL) : NULL;
    Py_XDECREF(args);
    if (exc == NULL) {
        return NULL;
    }
    if (PyObject_SetAttrString(exc, "code",
                               PyUnicode_FromString(ms_err_name(code))) ||
        PyObject_SetAttrString(exc, "message",
                               PyUnicode_FromString(message))) {
        Py_DECREF(exc);
        return NULL;
    }
    PyErr_SetObject(Error, exc);
    Py_DECREF(exc);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* The result object. */

typedef struct {
    PyObject_HEAD
    struct ms_stats *stats;
    PyObject *warnings; /* [(id, message)] in the order they came */
} Result;

static void
result_dealloc(Result *self)
{
    ms_stats_destroy(self->stats);
    Py_XDECREF(self->warnings);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* What fn writes, as a str. */
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
    PyObject *out = PyUnicode_DecodeUTF8(buf, (Py_ssize_t)len, "replace");
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

/* One group as a dict of lists. */
static PyObject *
group_dict(const struct ms_group_stats *g, enum ms_group_kind kind)
{
    PyObject *names = PyList_New((Py_ssize_t)g->nfeatures);
    PyObject *cols[4] = {PyList_New((Py_ssize_t)g->nfeatures),
                         PyList_New((Py_ssize_t)g->nfeatures),
                         PyList_New((Py_ssize_t)g->nfeatures),
                         PyList_New((Py_ssize_t)g->nfeatures)};
    for (size_t k = 0; names && cols[0] && cols[1] && cols[2] && cols[3] &&
                       k < g->nfeatures;
         k++) {
        char name[32];
        ms_feature_name(kind, k, name, sizeof(name));
        const struct ms_feature_stats *f = &g->features[k];
        double v[4] = {f->mean, f->std, f->min, f->max};
        PyList_SET_ITEM(names, (Py_ssize_t)k, PyUnicode_FromString(name));
        for (int c = 0; c < 4; c++) {
            PyList_SET_ITEM(cols[c], (Py_ssize_t)k,
                            g->count ? PyFloat_FromDouble(v[c])
                                     : PyFloat_FromDouble(Py_NAN));
        }
    }
    return Py_BuildValue("{s:K,s:K,s:N,s:N,s:N,s:N,s:N}", "count",
                         (unsigned long long)g->count, "nonfinite_skipped",
                         (unsigned long long)g->nonfinite_skipped, "features",
                         names, "mean", cols[0], "std", cols[1], "min",
                         cols[2], "max", cols[3]);
}

static PyObject *
result_groups(Result *self, PyObject *unused)
{
    (void)unused;
    const struct ms_stats *s = self->stats;
    PyObject *skipped = PyList_New((Py_ssize_t)s->nskipped);
    for (size_t i = 0; skipped && i < s->nskipped; i++) {
        PyList_SET_ITEM(skipped, (Py_ssize_t)i,
                        Py_BuildValue("(Ls)", (long long)s->skipped[i].id,
                                      s->skipped[i].reason));
    }
    return Py_BuildValue(
        "{s:N,s:N,s:N,s:n,s:n,s:n,s:N}", "node",
        group_dict(&s->groups[MS_GROUP_NODE], MS_GROUP_NODE), "edge",
        group_dict(&s->groups[MS_GROUP_EDGE], MS_GROUP_EDGE), "delta",
        group_dict(&s->groups[MS_GROUP_DELTA], MS_GROUP_DELTA),
        "samples_found", (Py_ssize_t)s->samples_found, "samples_selected",
        (Py_ssize_t)s->samples_selected, "samples_used",
        (Py_ssize_t)s->samples_used, "skipped", skipped);
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

static PyObject *
result_warnings(Result *self, void *closure)
{
    (void)closure;
    Py_INCREF(self->warnings);
    return self->warnings;
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

static PyGetSetDef result_getset[] = {
    {"warnings", (getter)result_warnings, NULL,
     "The warnings of the pass: [(sample id or -1, message)].", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject ResultType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "meshstats._meshstats.Result",
    .tp_basicsize = sizeof(Result),
    .tp_dealloc = (destructor)result_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The statistics of one pass (owned by the library).",
    .tp_methods = result_methods,
    .tp_getset = result_getset,
};

/* ------------------------------------------------------------------ */
/* A pass: settings, callbacks, the call without the GIL. */

/* What the library's callbacks need, on the thread that runs the pass. */
struct call {
    PyObject *progress;   /* a callable, or NULL */
    PyObject *warnings;   /* a list */
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

static void
on_warning(void *userdata, int64_t id, const char *message)
{
    struct call *c = userdata;
    PyGILState_STATE g = PyGILState_Ensure();
    PyObject *item = Py_BuildValue("(Ls)", (long long)id, message);
    if (item == NULL || PyList_Append(c->warnings, item) != 0) {
        keep_exception(c);
    }
    Py_XDECREF(item);
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
            PyErr_SetString(PyExc_ValueError, err.message);
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
            PyErr_SetString(PyExc_ValueError, err.message);
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
    int rc = s->samples ? ms_selection_parse(sel, s->samples, &err)
             : s->split ? ms_selection_from_split(sel, path, s->split, &err)
                        : ms_selection_read_list(sel, s->sample_list, &err);
    if (rc == MS_EINVAL) {
        PyErr_SetString(PyExc_ValueError, err.message);
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
    r->warnings = c->warnings;
    Py_INCREF(r->warnings);
    return (PyObject *)r;
}

static PyObject *
compute(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *path_obj, *settings, *progress;
    const char *config;
    int per_sample;
    if (!PyArg_ParseTuple(args, "O&zO!Op", PyUnicode_FSConverter, &path_obj,
                          &config, &PyList_Type, &settings, &progress,
                          &per_sample)) {
        return NULL;
    }
    const char *path = PyBytes_AS_STRING(path_obj);
    struct ms_settings s;
    ms_settings_init(&s);
    struct ms_selection sel = {0};
    bool have = false;
    struct call c = {progress != Py_None ? progress : NULL, PyList_New(0),
                     NULL, NULL, NULL, false, false};
    PyObject *out = NULL;
    if (c.warnings != NULL && apply_settings(&s, config, settings) == 0 &&
        selection(&s, path, &sel, &have) == 0) {
        struct ms_options opts = s.options;
        opts.workers = ms_settings_workers(&s);
        opts.selection = have ? &sel : NULL;
        opts.per_sample = per_sample != 0;
        opts.handle_signals = false; /* Python's handlers, through polling */
        out = run(path, &opts, &c);
    }
    Py_XDECREF(c.warnings);
    ms_selection_finish(&sel);
    ms_settings_finish(&s);
    Py_DECREF(path_obj);
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
    if (Error == NULL || PyModule_AddObject(m, "Error", Error) != 0) {
        Py_XDECREF(Error);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(Error); /* the module holds one reference, this file another */
    return m;
}
