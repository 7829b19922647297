/*
 * errors.c: the library's failures and messages as Python sees them:
 * meshstats.Error (.code, the MS_E* name; .message, the sentence), the
 * warning classes, ValueError for a usage error, and every message decoded
 * as a file name.
 */
#include "extension.h"

PyObject *ms_py_error;
PyObject *ms_py_meshstats_warning;
PyObject *ms_py_skipped_warning;

PyObject *
ms_py_message(const char *message)
{
    return PyUnicode_DecodeFSDefault(message);
}

void
ms_py_raise_value_error(const char *message)
{
    PyObject *text = ms_py_message(message);
    if (text != NULL) {
        PyErr_SetObject(PyExc_ValueError, text);
        Py_DECREF(text);
    }
}

PyObject *
ms_py_raise_error(int code, const char *message)
{
    PyObject *text = ms_py_message(message);
    PyObject *name = PyUnicode_FromString(ms_err_name(code));
    PyObject *exc =
        text && name ? PyObject_CallOneArg(ms_py_error, text) : NULL;
    if (exc != NULL && (PyObject_SetAttrString(exc, "code", name) != 0 ||
                        PyObject_SetAttrString(exc, "message", text) != 0)) {
        Py_CLEAR(exc);
    }
    if (exc != NULL) {
        PyErr_SetObject(ms_py_error, exc);
    }
    Py_XDECREF(exc);
    Py_XDECREF(name);
    Py_XDECREF(text);
    return NULL;
}

int
ms_py_add_errors(PyObject *m)
{
    ms_py_error = PyErr_NewExceptionWithDoc(
        "meshstats.Error",
        "A failure of libmeshstats: .code is its MS_E* name (\"MS_ENOENT\"), "
        ".message the library's sentence, which names "
        "the file, the sample and the dataset involved.",
        NULL, NULL);
    ms_py_meshstats_warning = PyErr_NewExceptionWithDoc(
        "meshstats.MeshstatsWarning",
        "Something about the dataset a pass went on without (a group of the "
        "file that is not a sample).",
        PyExc_UserWarning, NULL);
    ms_py_skipped_warning = PyErr_NewExceptionWithDoc(
        "meshstats.SkippedSampleWarning",
        "A sample was left out of the statistics; the message says which, "
        "where in the file and why (Stats.skipped lists them too).",
        ms_py_meshstats_warning, NULL);
    /* The module holds one reference of each, this file another. */
    PyObject *types[3] = {ms_py_error, ms_py_meshstats_warning,
                          ms_py_skipped_warning};
    const char *names[3] = {"Error", "MeshstatsWarning",
                            "SkippedSampleWarning"};
    for (int i = 0; i < 3; i++) {
        if (types[i] == NULL ||
            PyModule_AddObjectRef(m, names[i], types[i]) != 0) {
            return -1;
        }
    }
    return 0;
}
