/*
 * _meshstats.c: the CPython extension under the meshstats package, over
 * libmeshstats's public header: the module and its compute().
 *
 * It does what needs C: it parses settings through the library's table
 * (so Python, the command line and config.txt accept the same values with
 * the same messages), runs a pass with the GIL released (other Python
 * threads run, and two passes in two threads run at once), and calls a
 * progress callable, warnings.warn and Python's signal handlers from the
 * library's callbacks with the GIL held again.  The result is a Result
 * (result.c); errors and messages are errors.c's.  Everything else a
 * Python user sees (numpy arrays, the Stats class, the bar) is the thin
 * layer in __init__.py.
 *
 *   compute(path, config, settings, progress, per_sample) -> Result
 *     settings: [(option, value, keyword)], option a long option of the
 *     settings table ("memory-limit"), keyword the name to blame.
 *   Result.groups() -> dict, .json() -> str, .per_sample_csv() -> str,
 *     .table() -> str, .write_back(path), .info() -> dict
 *   format_progress(record, columns) -> str;  version() -> (str, str)
 *   Error, MeshstatsWarning, SkippedSampleWarning
 */
#include "extension.h"

#include <string.h>

/* ------------------------------------------------------------------ */
/* A pass: settings, callbacks, the call without the GIL. */

/* What the library's callbacks need, on the thread that runs the pass. */
struct call {
    PyObject *progress;                      /* a callable, or NULL */
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
    PyObject *text = ms_py_message(message);
    PyObject *r = warnings && text
                      ? PyObject_CallMethod(warnings, "warn", "OOi", text,
                                            id >= 0 ? ms_py_skipped_warning
                                                    : ms_py_meshstats_warning,
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
    if (rc !=
        0) { /* a missing file is ms_py_error MS_ENOENT, a bad line EINVAL */
        if (rc == MS_EINVAL) {
            ms_py_raise_value_error(err.message);
        } else {
            ms_py_raise_error(rc, err.message);
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
            ms_py_raise_value_error(err.message);
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
    int given =
        (s->samples != NULL) + (s->sample_list != NULL) + (s->split != NULL);
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
    Py_END_ALLOW_THREADS if (rc == MS_EINVAL)
    {
        ms_py_raise_value_error(err.message);
        return -1;
    }
    if (rc != 0) {
        ms_py_raise_error(rc, err.message);
        return -1;
    }
    return 0;
}

/* Run the pass without the GIL; a ms_py_result, or NULL with the exception. */
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
    Py_BEGIN_ALLOW_THREADS rc = ms_stats_compute(path, opts, &stats, &err);
    Py_END_ALLOW_THREADS if (c->exc_type != NULL)
    {
        ms_stats_destroy(stats); /* a callback raised: that is the error */
        PyErr_Restore(c->exc_type, c->exc_value, c->exc_tb);
        c->exc_type = c->exc_value = c->exc_tb = NULL;
        return NULL;
    }
    if (rc == MS_EINVAL) { /* a model the file does not fit: usage */
        ms_py_raise_value_error(err.message);
        return NULL;
    }
    if (rc != 0) {
        return ms_py_raise_error(rc, err.message);
    }
    ms_py_result *r = PyObject_New(ms_py_result, &ms_py_result_type);
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
    int per_sample, trace = 0;
    if (!PyArg_ParseTuple(args, "O&O&O!Op|p", PyUnicode_FSConverter,
                          &path_obj, optional_path, &config_obj, &PyList_Type,
                          &settings, &progress, &per_sample, &trace)) {
        return NULL;
    }
    const char *path = PyBytes_AS_STRING(path_obj);
    const char *config = config_obj ? PyBytes_AS_STRING(config_obj) : NULL;
    struct ms_settings s;
    ms_settings_init(&s);
    struct ms_selection sel = {0};
    bool have = false;
    struct call c = {
        progress != Py_None ? progress : NULL, NULL, NULL, NULL, false, false};
    PyObject *out = NULL;
    if (apply_settings(&s, config, settings) == 0 &&
        selection(&s, path, &sel, &have) == 0) {
        struct ms_options opts = s.options;
        opts.workers = ms_settings_workers(&s);
        opts.selection = have ? &sel : NULL;
        opts.per_sample = per_sample != 0;
        opts.trace = trace != 0;
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
     "compute(path, config, settings, progress, per_sample) -> ms_py_result"},
    {"format_progress", format_progress, METH_VARARGS,
     "format_progress(record, columns) -> the command's progress line"},
    {"version", version, METH_NOARGS,
     "version() -> (meshstats version, its HDF5 and libuv)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    "_meshstats",
    "The C half of the meshstats package (use meshstats, not this).",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC PyInit__meshstats(void);

PyMODINIT_FUNC
PyInit__meshstats(void)
{
    if (PyType_Ready(&ms_py_result_type) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&module_def);
    if (m == NULL) {
        return NULL;
    }
    if (ms_py_add_errors(m) != 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
