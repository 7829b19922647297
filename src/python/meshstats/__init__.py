"""meshstats: normalization statistics of HDF5 mesh datasets, from Python.

    >>> import meshstats
    >>> stats = meshstats.compute("dataset.h5", edge_var=8, samples=train_ids)
    >>> stats.node.mean, stats.node.std          # numpy float64 arrays
    >>> params = stats.normalization_params()     # float32, std >= 1e-8

One streaming pass over the dataset in C (libmeshstats), with the GIL
released: count, mean, standard deviation, min and max of the node, edge
and output (delta) features, exact to double precision and the same bytes
as the meshstats command prints.  docs/python.md has the whole API.
"""

import collections
import csv
import errno
import io
import numbers
import os
import shutil
import sys

import numpy as np

from ._meshstats import Error, MeshstatsWarning, SkippedSampleWarning
from ._meshstats import compute as _compute
from ._meshstats import format_progress as _format_progress
from ._meshstats import version as _version

__all__ = ["compute", "Stats", "Group", "ProgressRecord", "Error",
           "MeshstatsWarning", "SkippedSampleWarning", "__version__"]

__version__, _DEPENDENCIES = _version()

ProgressRecord = collections.namedtuple("ProgressRecord", [
    "samples_done", "samples_total", "units_done", "units_total",
    "bytes_done", "bytes_total", "elapsed", "finished"])
ProgressRecord.__doc__ = """Where a pass is: samples and units (the pieces
the pass reads) done of total, bytes read of the bytes to read, seconds
since it started, and finished (True in the last call, success or not)."""


_GROUPS = ("node", "edge", "delta")


class Group:
    """The statistics of one group of features (node, edge or delta).

    features: the names of the features (as the table and the CSV name them)
    mean, std, min, max: numpy float64 arrays, one value per feature (NaN
        when count is 0)
    count: how many values each feature has
    nonfinite_skipped: values left out as NaN/Inf (skip_nonfinite)
    quantile(p), histogram(bins): with compute(..., quantiles=True)
    """

    __slots__ = ("name", "features", "mean", "std", "min", "max", "count",
                 "nonfinite_skipped", "_result")

    def __init__(self, name, d, result=None):
        self.name = name
        self.features = tuple(d["features"])
        for field in ("mean", "std", "min", "max"):
            a = np.array(d[field], dtype=np.float64)
            a.setflags(write=False)
            setattr(self, field, a)
        self.count = d["count"]
        self.nonfinite_skipped = d["nonfinite_skipped"]
        self._result = result

    def _index(self):
        if self._result is None or self._result.quantile_accuracy() == 0:
            raise ValueError(f"{self.name}: no distributions: run "
                             "compute(..., quantiles=True)")
        if self.count == 0:
            raise ValueError(f"{self.name}: no values (count 0: no sample "
                             "used has any), so no distribution")
        return _GROUPS.index(self.name)

    def quantile(self, p):
        """Each feature's quantile at probability p (a float, or an array
        of them): within the pass's quantile_accuracy of the exact order
        statistic at rank floor(p (count - 1)) (docs/spec.md section 4.1).
        A float p gives an array of one value a feature; an array of p
        gives one row a p."""
        g = self._index()
        try:
            if p is None:
                raise TypeError
            ps = np.asarray(p, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError("p: expected a number or an array of numbers")
        if not np.all((ps >= 0) & (ps <= 1)):
            raise ValueError("p: expected probabilities in [0, 1]")
        out = np.array([[self._result.quantile(g, k, float(q))
                         for k in range(len(self.features))]
                        for q in ps.reshape(-1)], dtype=np.float64)
        return out[0] if ps.ndim == 0 else out.reshape(
            ps.shape + (len(self.features),))

    def histogram(self, bins=10, feature=None):
        """(edges, counts) of the features' values in bins equal bins from
        each one's min to its max, as numpy arrays: edges (features, bins
        + 1) and counts (features, bins), or of one feature (its index or
        name) as 1-D arrays.  A value is counted in the bin of its sketch
        bucket's value, which is within the accuracy of the value."""
        g = self._index()
        if feature is not None:
            n = len(self.features)
            if isinstance(feature, str):
                if feature not in self.features:
                    raise ValueError(f"feature: no feature {feature!r} in "
                                     f"{self.name}: {self.features}")
                k = self.features.index(feature)
            elif (isinstance(feature, (bool, np.bool_)) or
                  not isinstance(feature, (int, np.integer))):
                raise TypeError("feature: expected an index (an integer) or "
                                f"a name, not {feature!r}")
            else:
                k = int(feature) + (n if int(feature) < 0 else 0)
                if not 0 <= k < n:
                    raise IndexError(f"feature: {feature} is out of range "
                                     f"for the {n} features of {self.name}")
            edges, counts = self._result.histogram(g, k, int(bins))
            return (np.array(edges, dtype=np.float64),
                    np.array(counts, dtype=np.int64))
        pairs = [self.histogram(bins, k) for k in range(len(self.features))]
        return (np.stack([e for e, _ in pairs]),
                np.stack([c for _, c in pairs]))

    def __repr__(self):
        return (f"<meshstats.Group {self.name}: {len(self.features)} features,"
                f" count {self.count}>")


class Stats:
    """The result of compute().

    node, edge, delta: Group
    samples_found, samples_selected, samples_used: ints
    skipped: [(sample id, reason)] for the samples left out
    warnings: what the statistics suggest about normalizing (str each)
    per_sample: a structured numpy array with the columns of the CSV
        (compute(..., per_sample=True)), else None
    info: how the pass ran (workers, prefetch, units, bytes_read, seconds)
    """

    def __init__(self, path, result, per_sample):
        self.path = path
        self._result = result
        g = result.groups()
        self.node = Group("node", g["node"], result)
        self.edge = Group("edge", g["edge"], result)
        self.delta = Group("delta", g["delta"], result)
        self.quantile_accuracy = result.quantile_accuracy() or None
        self.samples_found = g["samples_found"]
        self.samples_selected = g["samples_selected"]
        self.samples_used = g["samples_used"]
        self.skipped = [tuple(s) for s in g["skipped"]]
        self.warnings = list(g["warnings"])
        self.info = result.info()
        self.per_sample = (_per_sample_array(result.per_sample_csv())
                           if per_sample else None)

    def to_json(self):
        """The JSON report as a str: the bytes `meshstats --json -` prints
        for the same dataset path and settings, once encoded (UTF-8)."""
        return self._result.json()

    def to_table(self):
        """The table the meshstats command prints."""
        return self._result.table()

    def per_sample_csv(self):
        """The per-sample report as `--per-sample FILE` writes it (the
        pass must have been run with per_sample=True)."""
        if self.per_sample is None:
            raise ValueError("per_sample_csv: run compute(..., "
                             "per_sample=True) to have the per-sample report")
        return self._result.per_sample_csv()

    def normalization_params(self, method="zscore"):
        """The float32 arrays a loader normalizes with, by method:

        "zscore" (what the write-back stores): node_mean, node_std,
            edge_mean, edge_std, delta_mean, delta_std, delta_min,
            delta_max; x -> (x - mean) / std.
        "robust": the same keys, mean the median and std the
            interquartile range / 1.349 (the std of a normal
            distribution with that IQR), which outliers do not move.
        "quantile": node_q01, node_q99, edge_q01, edge_q99, delta_q01,
            delta_q99; x -> 2 (x - q01) / (q99 - q01) - 1, as
            robot-learning codebases normalize.
        Each std (and each q99 - q01) is at least 1e-8.  "robust" and
        "quantile" need compute(..., quantiles=True).  Raises Error
        (MS_EEMPTY) when a group has no values, as the write-back does:
        there is nothing to normalize with."""
        if method not in ("zscore", "robust", "quantile"):
            raise ValueError(f"method: '{method}' is not valid; expected "
                             "zscore, robust or quantile")
        for group in (self.node, self.edge, self.delta):
            if group.count == 0:
                raise _error("MS_EEMPTY", f"{os.fsdecode(self.path)}: the "
                             f"{group.name} group has no values, so there "
                             "are no normalization parameters")
        out = {}
        for group, fields in ((self.node, ("mean", "std")),
                              (self.edge, ("mean", "std")),
                              (self.delta, ("mean", "std", "min", "max"))):
            if method == "quantile":
                q01, q99 = group.quantile([0.01, 0.99])
                lo = q01.astype(np.float32)
                # at least lo + 1e-8 in float32: rounded, then one step up
                least = np.nextafter((lo.astype(np.float64) + 1e-8).astype(
                    np.float32), np.float32(np.inf))
                out[f"{group.name}_q01"] = lo
                out[f"{group.name}_q99"] = np.fmax(q99.astype(np.float32),
                                                   least)
                continue
            for field in fields:
                v = getattr(group, field)
                if method == "robust" and field in ("mean", "std"):
                    q25, q50, q75 = group.quantile([0.25, 0.5, 0.75])
                    v = q50 if field == "mean" else (q75 - q25) / 1.349
                if field == "std":
                    v = np.fmax(v, 1e-8)
                out[f"{group.name}_{field}"] = v.astype(np.float32)
        return out

    def write_back(self, path=None):
        """Store the normalization parameters in the dataset (the one
        computed when path is None), as `meshstats --write-back` does."""
        self._result.write_back(os.fspath(self.path if path is None
                                          else path))

    def __repr__(self):
        return (f"<meshstats.Stats {self.path!r}: {self.samples_used} of "
                f"{self.samples_found} samples, node {self.node.count}, "
                f"edge {self.edge.count}, delta {self.delta.count}>")


def compute(path, *, input_var=None, output_var=None, edge_var=None,
            sample_timesteps=None, samples=None, sample_list=None, split=None,
            workers=None, prefetch=None, memory_limit=None, strict=False,
            skip_nonfinite=None, per_sample=False, config=None,
            progress=None, throttle=None, model=None,
            positional_features=None, positional_encoding=None, trace=None,
            report=None, quantiles=None, quantile_accuracy=None):
    """Compute the normalization statistics of the dataset at path.

    input_var, output_var: features per node read and predicted (4)
    edge_var: 4 (r and |r| of the deformed mesh) or 8 (then the same of
        the reference mesh) (4)
    sample_timesteps: timesteps per sample, evenly spaced; 0 for all (0)
    samples: ids (an iterable of ints) or a string such as "1-80,85";
    sample_list: a file of ids; split: a split name of the dataset (one of
        the three at most; None: every sample)
    workers, prefetch: an int or "auto" (auto)
    memory_limit: bytes (an int) or a size such as "1G" (256M)
    strict: fail on the first bad sample instead of skipping it
    skip_nonfinite: leave NaN/Inf values out instead of failing (False)
    per_sample: keep each sample's statistics (Stats.per_sample)
    config: a config.txt read as the command reads it; keyword arguments
        given (not None) win over it
    progress: a callable taking a ProgressRecord, or True for a bar on
        stderr (tqdm's when tqdm is installed)
    throttle: slow each read to this many MB/s, to try slow storage
    model: "auto" (from the file), "nodal", or for DeepMind's trajectory
        files "cloth", "cfd" or "plate" (docs/models.md)
    positional_features: 0..7 static node features from the reference mesh
        appended to the node features (docs/spec.md section 2.1) (0)
    positional_encoding: "rwpe" (computed); "lpe" and "rwpe+lpe" raise
        ValueError (rwpe)
    trace: a file to write the pass's timeline to, as meshstats --trace
        does (a Chrome trace: Perfetto, chrome://tracing)
    report: a file to write the HTML page meshstats --report writes
        (it keeps the per-sample results for it)
    quantiles: also every feature's distribution (Group.quantile,
        Group.histogram, normalization_params(method=...)) (False)
    quantile_accuracy: their relative accuracy, 0.0001 to 0.1 (0.01)

    Returns Stats.  Raises meshstats.Error for a failure of the pass (.code
    names it), ValueError or TypeError for an argument, KeyboardInterrupt
    when Ctrl-C stops the pass (nothing is written).  Skipped samples are
    reported as SkippedSampleWarning.
    """
    path = os.fspath(path)
    settings = []
    for keyword, option, value in (
            ("input_var", "input-var", _integer(input_var, "input_var")),
            ("output_var", "output-var", _integer(output_var, "output_var")),
            ("edge_var", "edge-var", _integer(edge_var, "edge_var")),
            ("sample_timesteps", "sample-timesteps",
             _integer(sample_timesteps, "sample_timesteps")),
            ("samples", "samples", _ids(samples)),
            ("sample_list", "sample-list", _path(sample_list, "sample_list")),
            ("split", "split", _text(split, "split")),
            ("workers", "workers", _count(workers, "workers")),
            ("prefetch", "prefetch", _count(prefetch, "prefetch")),
            ("memory_limit", "memory-limit", _size(memory_limit)),
            ("strict", "strict", _flag(strict, "strict")),
            ("skip_nonfinite", "skip-nonfinite",
             _flag(skip_nonfinite, "skip_nonfinite")),
            ("throttle", "throttle", _integer(throttle, "throttle")),
            ("model", "model", _text(model, "model")),
            ("positional_features", "positional-features",
             _integer(positional_features, "positional_features")),
            ("positional_encoding", "positional-encoding",
             _text(positional_encoding, "positional_encoding")),
            ("quantiles", "quantiles", _flag(quantiles, "quantiles")),
            ("quantile_accuracy", "quantile-accuracy",
             _real(quantile_accuracy, "quantile_accuracy"))):
        if value is not None:
            settings.append((option, value, keyword))
    config = _path(config, "config")
    if not isinstance(per_sample, (bool, np.bool_)):
        raise TypeError("per_sample: expected True or False")
    per_sample = bool(per_sample)
    trace = _writable(_path(trace, "trace"), "trace")
    report = _writable(_path(report, "report"), "report")
    callback, done = _progress(progress)
    try:
        result = _compute(path, config, settings, callback,
                          per_sample or report is not None,
                          trace is not None or report is not None)
    finally:
        done()
    for target, text in ((trace, result.trace_json),
                         (report, result.report_html)):
        if target is not None:
            data = os.fsencode(text())  # (a file name's bytes as they are)
            with open(target, "wb") as f:
                f.write(data)
    return Stats(path, result, per_sample)


def _error(code, message):
    e = Error(message)
    e.code, e.message = code, message
    return e


# -- arguments ----------------------------------------------------------


def _integer(value, keyword):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{keyword}: expected an integer, not "
                        f"{type(value).__name__}")
    return str(int(value))


def _count(value, keyword):
    if isinstance(value, str):  # "auto", or checked by the settings table
        return value
    try:
        return _integer(value, keyword)
    except TypeError:
        raise TypeError(f"{keyword}: expected an integer or \"auto\", not "
                        f"{type(value).__name__}") from None


def _size(value):
    if isinstance(value, str):
        return value
    try:
        return _integer(value, "memory_limit")
    except TypeError:
        raise TypeError("memory_limit: expected bytes (an integer) or a size "
                        f"such as \"256M\", not {type(value).__name__}") from None


def _real(value, keyword):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{keyword}: expected a number")
    return repr(float(value))


def _flag(value, keyword):
    if value is None:
        return None
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{keyword}: expected True or False")
    return "true" if value else "false"


def _text(value, keyword):
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"{keyword}: expected a str, not {type(value).__name__}")


def _path(value, keyword):
    if value is None:
        return None
    try:
        return os.fsdecode(os.fspath(value))
    except TypeError:
        raise TypeError(f"{keyword}: expected a path, not "
                        f"{type(value).__name__}") from None


def _writable(target, keyword):
    """target, once it is known that it can be written as far as can be
    told without writing it (as the command checks its outputs): a file
    may not cost a long pass its result by a mistyped folder."""
    if target is None:
        return None
    if os.path.exists(target):
        code = (errno.EISDIR if os.path.isdir(target) else
                0 if os.access(target, os.W_OK) else errno.EACCES)
    else:
        folder = os.path.dirname(target) or "."
        code = (errno.ENOENT if not os.path.exists(folder) else
                errno.ENOTDIR if not os.path.isdir(folder) else
                0 if os.access(folder, os.W_OK | os.X_OK) else errno.EACCES)
    if code != 0:
        raise OSError(code, f"{keyword}: cannot write it: "
                      f"{os.strerror(code)} (checked before the pass: "
                      "nothing was read)", target)
    return target


def _ids(value):
    """samples as the command's LIST: a str as it is, ids joined by commas."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bytes, numbers.Number)):
        raise TypeError("samples: expected ids (an iterable of ints) or a "
                        f"str such as \"1-80,85\", not {type(value).__name__}")
    ids = []
    for i in value:
        if isinstance(i, bool) or not isinstance(i, numbers.Integral):
            raise TypeError(f"samples: expected integer ids, not {i!r}")
        ids.append(str(int(i)))
    if not ids:
        raise ValueError("samples: no sample ids (give None for every "
                         "sample)")
    return ",".join(ids)


# -- progress -----------------------------------------------------------


def _progress(progress):
    """(the callable the extension calls, what to call when the pass ends)."""
    if progress is None or progress is False:
        return None, lambda: None
    close = lambda: None  # noqa: E731
    if progress is True:
        progress = _bar()
        close = progress.close
    if not callable(progress):
        raise TypeError("progress: expected a callable taking a "
                        "ProgressRecord, or True for a bar")
    return (lambda *fields: progress(ProgressRecord(*fields))), close


def _bar():
    try:
        import tqdm
    except ImportError:
        return _LineBar()
    return _TqdmBar(tqdm)


class _LineBar:
    """The command's progress bar on stderr: redrawn in place on a
    terminal, a plain line about once a second elsewhere."""

    def __init__(self):
        self._last = None

    def __call__(self, r):
        stream = sys.stderr
        terminal = stream.isatty()
        if not terminal and not r.finished and self._last is not None \
                and r.elapsed - self._last < 1.0:
            return
        self._last = r.elapsed
        columns = shutil.get_terminal_size((80, 24)).columns
        line = _format_progress(tuple(r), columns)
        if terminal:
            stream.write("\r" + line + ("\n" if r.finished else ""))
        else:
            stream.write(line.rstrip() + "\n")
        stream.flush()

    def close(self):
        pass


class _TqdmBar:
    """A tqdm bar over the bytes to read."""

    def __init__(self, tqdm):
        self._tqdm = tqdm
        self._bar = None

    def __call__(self, r):
        if self._bar is None:
            self._bar = self._tqdm.tqdm(total=r.bytes_total, unit="B",
                                        unit_scale=True, unit_divisor=1000,
                                        desc="meshstats", file=sys.stderr)
        self._bar.update(r.bytes_done - self._bar.n)
        self._bar.set_postfix_str(f"{r.samples_done}/{r.samples_total} "
                                  "samples", refresh=False)
        if r.finished:
            self.close()

    def close(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None


# -- the per-sample report ----------------------------------------------


def _per_sample_array(text):
    """The per-sample CSV as a structured array: ints for the ids, sizes
    and counts, float64 for the statistics, str for outlier_feature."""
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]

    def kind(name):
        if name == "outlier_feature":
            return "U64", str
        if name in ("id", "N", "E", "timesteps") or name.endswith("_count"):
            return np.int64, int
        return np.float64, float

    kinds = [kind(name) for name in header]
    dtype = np.dtype([(name, k[0]) for name, k in zip(header, kinds)])
    records = [tuple(k[1](v) for k, v in zip(kinds, row)) for row in body]
    return np.array(records, dtype=dtype)
