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
    assert len(blocks) == 5, len(blocks)
    env = {"DATASET": dataset, "STATS_JSON": stats_json,
           "MESHSTATS": MESHSTATS}
    for block in blocks:
        exec(compile(block, DOC, "exec"), env)
    import numpy as np
    # What the snippets computed matches the JSON's numbers.
    assert np.allclose(env["node_mean"], env["stats"]["node"]["mean"],
                       rtol=1e-6)
    assert env["z"].shape == (10, 4)
    assert env["norm"]["selection"] in (b"split train", "split train")
    assert len(env["edge_mean"]) == 4 and env["edge_mean"][0] == 0.0
    # The Python package's arrays are the ones the write-back stored.
    for name in ("node_mean", "node_std", "edge_mean", "edge_std"):
        assert np.array_equal(env["params"][name], env["norm"][name]), name


if __name__ == "__main__":
    sys.exit(main("docs"))
