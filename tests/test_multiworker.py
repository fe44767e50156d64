"""`tfgen train --strategy multi_worker`: 2 worker processes on 127.0.0.1 (TF_CONFIG, free ports).

One preset of each base (density, latent, adversarial) trains on the small ``synthetic`` data in
the same two worker processes (TensorFlow sets up its collectives once per process); worker 1 is
killed (SIGKILL) while writing the density run's second checkpoint, the chief (which cannot go
on alone) is then killed too, and both restart with ``--resume``. Every process is killed by its
id when the test ends.
"""

import contextlib
import json
import os
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

import tfgen.models  # noqa: F401  (registers the classes the checkpoints name)
import zoo
from tfgen.distribute import free_ports

pytestmark = pytest.mark.slow

PRESETS = {  # the density run comes last: worker 1 is killed in it
    "latent": "vae_fast_fashion_mnist",
    "adversarial": "dcgan_small_fashion_mnist",
    "density": "independent_bernoulli_binarized_fashion_mnist",
}
EPOCHS = {"latent": 1, "adversarial": 1, "density": 3}
WORKER = "worker_1"  # worker 0 of a cluster without a "chief" task is the chief
DRIVER = "import json, sys\nfrom zoo.cli import main\nfor argv in json.loads(sys.argv[1]):\n"
DRIVER += "    if main(argv):\n        sys.exit(2)\n"
TIMEOUT = 300


def commands(workdir, bases, resume=False):
    return [
        ["train", PRESETS[b], "--dataset", "synthetic", "--epochs", str(EPOCHS[b])]
        + ["--workdir", os.path.join(workdir, b), "--strategy", "multi_worker"]
        + (["--resume"] if resume else [])
        for b in bases
    ]


@contextlib.contextmanager
def cluster(tmp_path, name, bases, resume=False, fault=None):
    """Starts worker 0 (chief) and worker 1, each with its own work directory root."""
    addresses = [f"127.0.0.1:{p}" for p in free_ports(2)]
    procs = []
    try:
        for index in range(2):
            config = {"cluster": {"worker": addresses}, "task": {"type": "worker", "index": index}}
            env = {**os.environ, "TF_CONFIG": json.dumps(config), "CUDA_VISIBLE_DEVICES": ""}
            env.pop("TFGEN_FAULT", None)
            if fault and index == 1:
                env["TFGEN_FAULT"] = fault
            root = str(tmp_path / f"w{index}")
            argv = [sys.executable, "-c", DRIVER, json.dumps(commands(root, bases, resume))]
            log = open(tmp_path / f"{name}{index}.log", "w")  # noqa: SIM115
            procs.append(subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT))
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)


def wait(proc, tmp_path, log):
    try:
        return proc.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"timed out; log:\n{(tmp_path / log).read_text()[-3000:]}")


def variables(path):
    model = keras.models.load_model(path)
    names = model.optimizer_names
    optimizers = [v for n in names for v in getattr(model, n).variables]
    return [v.numpy() for v in model.weights + optimizers]


def assert_same_state(chief_checkpoint, worker_checkpoint):
    a, b = variables(chief_checkpoint), variables(worker_checkpoint)
    assert len(a) == len(b) > 0
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)  # synchronous training: bit for bit


def files(root):
    return sorted(
        os.path.relpath(os.path.join(d, f), root) for d, _, names in os.walk(root) for f in names
    )


def test_each_base_trains_on_two_workers_and_a_killed_worker_resumes(tmp_path):
    chief, worker = tmp_path / "w0", tmp_path / "w1"
    # Worker 1 SIGKILLs itself while writing the checkpoint of the density run's epoch 2: the
    # chief has finished that epoch, and cannot train epoch 3 without worker 1.
    with cluster(tmp_path, "first", list(PRESETS), fault="write:epoch_0002.keras") as procs:
        assert wait(procs[1], tmp_path, "first1.log") == -9, (tmp_path / "first1.log").read_text()
        time.sleep(3)
        assert procs[0].poll() is None or procs[0].returncode != 0  # cannot finish without it
    for base in ("latent", "adversarial"):
        metrics = json.loads((chief / base / "metrics.json").read_text())
        assert metrics["epochs"] == 1 and metrics["stopped_by"] == "epochs"
        run = json.loads((chief / base / "run.json").read_text())
        precision = zoo.get(PRESETS[base]).train.mixed_precision or "float32"
        assert (run["strategy"], run["replicas"], run["precision"], run["jit"]) == (
            "multi_worker",
            2,
            precision,
            "auto",
        )
        assert_same_state(
            chief / base / "backup/epoch_0001.keras",
            worker / base / "backup" / WORKER / "epoch_0001.keras",
        )
        assert {"model.keras", "metrics.json", "history.csv"} <= set(files(chief / base))
        assert any(f.startswith("samples/") for f in files(chief / base))
        # only the chief writes the run's files: the worker keeps only its resumable state
        expected = {"run.json", "epoch_0001.json", "epoch_0001.keras"}
        assert set(files(worker / base)) == {f"backup/{WORKER}/{n}" for n in expected}
    density = worker / "density/backup" / WORKER
    assert (density / "epoch_0001.json").exists() and not (density / "epoch_0002.json").exists()

    with cluster(tmp_path, "resume", ["density"], resume=True) as procs:
        codes = [wait(p, tmp_path, f"resume{i}.log") for i, p in enumerate(procs)]
    logs = [(tmp_path / f"resume{i}.log").read_text() for i in range(2)]
    assert codes == [0, 0], logs[0][-3000:] + logs[1][-3000:]
    for log in logs:  # both restart from the last epoch every worker finished
        assert "resuming after epoch 1 of 3" in log
    metrics = json.loads((chief / "density/metrics.json").read_text())
    assert metrics["epochs"] == 3 and len(metrics["history"]["loss"]) == 3
    state = json.loads((chief / "density/backup/epoch_0003.json").read_text())
    assert [row["epoch"] for row in state["history"]] == [0, 1, 2]
    assert state["steps"] == 3 * metrics["steps_per_epoch"]
    assert_same_state(chief / "density/backup/epoch_0003.keras", density / "epoch_0003.keras")
    assert set(files(worker / "density")) == {
        f"backup/{WORKER}/{n}"
        for n in ("run.json", "epoch_0002.json", "epoch_0002.keras", "epoch_0003.json")
        + ("epoch_0003.keras",)
    }
