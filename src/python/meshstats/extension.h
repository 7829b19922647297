/*
 * extension.h: what the C files of the extension meshstats._meshstats
 * share: the exception and warning classes, the library's messages as
 * Python strings and errors (errors.c), and the Result type (result.c).
 * _meshstats.c is the module: a pass's settings, callbacks and call.
 */
#ifndef MESHSTATS_PY_EXTENSION_H
#define MESHSTATS_PY_EXTENSION_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "meshstats.h"

extern PyObject *ms_py_error;             /* meshstats.Error */
extern PyObject *ms_py_meshstats_warning; /* a group that is not a sample */
extern PyObject *ms_py_skipped_warning;   /* a sample left out */

/* errors.c */

/* A library message as a str: paths in it are bytes, decoded as Python
 * decodes file names (os.fsdecode), so a path that is not UTF-8 survives. */
PyObject *ms_py_message(const char *message);
/* Raise ValueError with a library message (a usage error). */
void ms_py_raise_value_error(const char *message);
/* Raise meshstats.Error for a library failure; returns NULL. */
PyObject *ms_py_raise_error(int code, const char *message);
/* Create the three classes and add them to module m: 0 or -1. */
int ms_py_add_errors(PyObject *m);

/* result.c: the statistics of one pass, owned by the library. */
typedef struct {
    PyObject_HEAD
    struct ms_stats *stats;
} ms_py_result;

extern PyTypeObject ms_py_result_type;

#endif
