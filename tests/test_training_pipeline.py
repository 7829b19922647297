"""Runs the Python snippets of docs/training-pipeline.md against a real
write-back and JSON, so the documentation cannot drift from the program.

Usage: python3 test_training_pipeline.py /path/to/meshstats DOC.md  (TAP)
"""

import atexit
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import case, main  # noqa: E402

MESHSTATS = sys.argv[1]
DOC = sys.argv[2]
TMP = tempfile.mkdtemp(prefix="meshstats-doc-")
atexit.register(shutil.rmtree, TMP, True)


@case
def training_pipeline_snippets_run_and_agree_with_the_json():
    dataset = os.path.join(TMP, "plate.h5")
    stats_json = os.path.join(TMP, "stats.json")
    subprocess.run([MESHSTATS, "generate", dataset, "-q", "--samples", "5",
                    "--timesteps", "4", "--nodes", "60"], check=True)
    subprocess.run([MESHSTATS, "-q", "--split", "train", "--write-back",
                    "--json", stats_json, dataset], check=True)
    text = open(DOC).read()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) == 7, len(blocks)
    import numpy as np
    env = {"DATASET": dataset, "STATS_JSON": stats_json,
           "MESHSTATS": MESHSTATS,
           "node_features": np.linspace(-1.0, 1.0, 40).reshape(10, 4)}
    for i, block in enumerate(blocks[:6]):
        exec(compile(block, DOC, "exec"), env)
        if i != 1:
            continue
        # The quantile snippet: robust has zscore's keys, the inputs land
        # in [-1, 1] where q01 .. q99 hold them.
        assert set(env["robust"]) == set(env["params"])
        q01, q99 = env["q"]["node_q01"], env["q"]["node_q99"]
        x = env["node_features"]
        inside = (x >= q01) & (x <= q99)
        assert inside.any()
        assert np.all(np.abs(env["node_in"][inside]) <= 1 + 1e-6)
    # What the snippets computed matches the JSON's numbers.
    assert np.allclose(env["node_mean"], env["stats"]["node"]["mean"],
                       rtol=1e-6)
    assert env["z"].shape == (10, 4)
    assert env["norm"]["selection"] in (b"split train", "split train")
    assert len(env["edge_mean"]) == 4 and env["edge_mean"][0] == 0.0
    # The Python package's arrays are the ones the write-back stored.
    for name in ("node_mean", "node_std", "edge_mean", "edge_std"):
        assert np.array_equal(env["params"][name], env["norm"][name]), name


@case
def the_training_code_replacement_fills_its_arrays():
    import json

    import numpy as np
    dataset = os.path.join(TMP, "ids.h5")
    subprocess.run([MESHSTATS, "generate", dataset, "-q", "--samples", "10",
                    "--timesteps", "6", "--nodes", "60"], check=True)
    text = open(DOC).read()
    block = re.findall(r"```python\n(.*?)```", text, re.S)[6]
    env = {}
    exec(compile(block, DOC, "exec"), env)

    class Loader:  # the training code's attribute names
        dataset_dir = dataset
        sample_ids = list(range(10))[::-1]
        seed = 3
        input_var, output_var, edge_var = 4, 4, 8
        positional_features = 4
    loader = Loader()
    env["fit_normalization"](loader)
    assert loader.node_mean.shape == (8,) and loader.node_std.shape == (8,)
    assert loader.edge_mean.shape == (8,) and loader.delta_std.shape == (4,)
    assert loader.node_mean.dtype == np.float32
    # The same ids by hand, through the command: the same numbers.
    ids = np.random.default_rng(3).permutation(10)
    train = ",".join(str(i) for i in np.arange(10)[ids][:8])
    out = subprocess.run([MESHSTATS, "--json", "-", "-q", "--samples", train,
                          "-s", "500", "--edge-var", "8",
                          "--positional-features", "4", dataset],
                         capture_output=True, text=True, check=True).stdout
    want = json.loads(out)
    assert np.allclose(loader.node_mean, want["node"]["mean"], rtol=1e-6)
    assert np.allclose(loader.edge_std, want["edge"]["std"], rtol=1e-6)


if __name__ == "__main__":
    sys.exit(main("docs"))
