"""Runs are never lost: atomic files, epoch checkpoints with a fallback, resume that continues the
data order and random streams, and processes killed for real (SIGKILL) at chosen moments."""

import csv
import dataclasses
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import zoo
from tfgen import callbacks, checkpoints
from zoo import train as runner
from zoo import workdir as wd

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
DENSITY = "independent_bernoulli_binarized_fashion_mnist"  # dynamic binarization, fast


def epochs_logged(work):
    with open(os.path.join(work, "history.csv")) as f:
        return [int(row["epoch"]) for row in csv.DictReader(f)]


def same_weights(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a.get_weights(), b.get_weights(), strict=True))


def test_atomic_path_replaces_or_leaves_the_old_file(tmp_path):
    target = tmp_path / "a.json"
    callbacks.write_json(str(target), {"v": 1})
    with pytest.raises(RuntimeError), callbacks.atomic_path(str(target)) as tmp:
        open(tmp, "w").write("half")
        raise RuntimeError("killed")
    assert json.loads(target.read_text()) == {"v": 1}
    assert os.listdir(tmp_path) == ["a.json"]  # no temporary left
    callbacks.write_json(str(target), {"v": 2})
    assert json.loads(target.read_text()) == {"v": 2}


def test_time_budget_spans_fit_calls():
    class Model:
        stop_training = False

    budget, model = callbacks.TimeBudget(minutes=1e-7), Model()
    budget.set_model(model)
    budget.on_train_begin()
    start = budget.start
    budget.on_train_begin()  # a second fit (next epoch) keeps the clock
    assert budget.start == start and not budget.stopped
    time.sleep(0.01)
    budget.on_train_batch_end(0)
    assert budget.stopped and model.stop_training and budget.first_step_seconds > 0
    model.stop_training = False
    budget.on_train_begin()  # a later fit stops at once
    assert model.stop_training


def test_each_epoch_has_its_own_order_and_binarization():
    recipe = zoo.get(DENSITY).train.__class__(
        **{**zoo.get(DENSITY).train.__dict__, "dataset": "digits", "batch_size": 64}
    )
    assert recipe.binarize == "dynamic"

    def first_batch(epoch):
        return next(iter(runner.split_dataset(recipe, "train", epoch))).numpy()

    assert np.array_equal(first_batch(3), first_batch(3))  # a new process draws the same
    assert not np.array_equal(first_batch(3), first_batch(4))
    test_a = next(iter(runner.split_dataset(recipe, "test"))).numpy()
    assert np.array_equal(test_a, next(iter(runner.split_dataset(recipe, "test"))).numpy())


def test_checkpoint_keeps_streams_and_falls_back_to_the_previous_one(tmp_path):
    model = zoo.build(zoo.get("dcgan_small_fashion_mnist"), event_shape=(8, 8, 1))
    generators = checkpoints.seed_generators(model)
    assert len(generators) >= 2  # the model's own stream and dropout's
    ckpt = callbacks.EpochCheckpoint(
        str(tmp_path / "b"), keep=2, model_path=str(tmp_path / "m.keras")
    )
    ckpt.set_model(model)
    states = []
    for epoch in range(3):
        for i, g in enumerate(generators):
            g.state.assign(np.array([i, 3 + epoch], g.state.dtype))
        states.append([np.asarray(g.state).tolist() for g in generators])
        ckpt.on_epoch_end(epoch, {"d_loss": 1.0 + epoch, "g_loss": 2.0})
    assert sorted(os.listdir(tmp_path / "b")) == [
        "epoch_0002.json", "epoch_0002.keras", "epoch_0003.json", "epoch_0003.keras"
    ]  # fmt: skip
    assert (tmp_path / "m.keras").read_bytes() == (tmp_path / "b" / "epoch_0003.keras").read_bytes()
    loaded, state = callbacks.load_checkpoint(str(tmp_path / "b"))
    assert state["epoch"] == 3 and [r["epoch"] for r in state["history"]] == [0, 1, 2]
    assert [np.asarray(g.state).tolist() for g in checkpoints.seed_generators(loaded)] == states[2]

    newest = tmp_path / "b" / "epoch_0003.keras"
    os.truncate(newest, os.path.getsize(newest) // 2)  # damaged
    skipped = []
    loaded, state = callbacks.load_checkpoint(str(tmp_path / "b"), skipped.append)
    assert state["epoch"] == 2 and len(skipped) == 1 and "epoch_0003.keras" in skipped[0]
    assert [np.asarray(g.state).tolist() for g in checkpoints.seed_generators(loaded)] == states[1]

    ckpt.on_epoch_end(3, {"d_loss": float("nan"), "g_loss": 2.0})  # never saves NaN weights
    assert ckpt.refused == 3 and model.stop_training
    assert not (tmp_path / "b" / "epoch_0004.json").exists()


def test_damaged_model_file_is_one_line(tmp_path):
    path = tmp_path / "model.keras"
    path.write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(wd.WorkdirError, match=r"model\.keras cannot be loaded") as info:
        wd.load_model(str(path))
    assert "\n" not in str(info.value)


@pytest.mark.slow
def test_finished_run_refuses_extends_and_survives_damage(tmp_path, capsys):
    work = str(tmp_path / "run")
    kw = dict(dataset="digits", batch_size=128, verbose=0)
    metrics = runner.train(DENSITY, work, epochs=2, **kw)
    spe = metrics["steps_per_epoch"]
    assert (metrics["epochs"], metrics["steps"], metrics["stopped_by"]) == (2, 2 * spe, "epochs")
    last_validation = {k[4:]: v[-1] for k, v in metrics["history"].items() if k[:4] == "val_"}
    assert metrics["test"] == last_validation  # the test split is evaluated once per epoch
    with pytest.raises(wd.WorkdirError, match="already trained 2 of 2 epochs; pass --epochs"):
        runner.train(DENSITY, work, resume=True, verbose=0)
    metrics = runner.train(DENSITY, work, resume=True, epochs=3, verbose=0)  # extends the run
    assert epochs_logged(work) == [0, 1, 2] and metrics["steps"] == 3 * spe
    assert int(runner.load(work).optimizer.iterations) == 3 * spe

    for name in ("epoch_0003.keras",):  # the newest checkpoint (and model.keras, a link) damaged
        path = os.path.join(work, "backup", name)
        os.truncate(path, os.path.getsize(path) // 2)
    capsys.readouterr()
    assert int(runner.load(work).optimizer.iterations) in (2 * spe, 3 * spe)
    metrics = runner.train(DENSITY, work, resume=True, epochs=4, verbose=0)
    assert "skipped damaged checkpoint" in capsys.readouterr().err
    assert epochs_logged(work) == [0, 1, 2, 3] and metrics["steps"] == 4 * spe

    os.rename(os.path.join(work, "backup"), os.path.join(work, "old"))  # an older tfgen's run
    with pytest.raises(wd.WorkdirError, match="no checkpoint in backup/ that loads"):
        runner.train(DENSITY, work, resume=True, epochs=5, verbose=0)


def test_seed_option_changes_the_run_not_the_test_split(tmp_path):
    kw = dict(dataset="digits", batch_size=128, epochs=1, verbose=0)
    runs = {name: str(tmp_path / name) for name in ("a", "b", "c")}
    runner.train(DENSITY, runs["a"], **kw)
    runner.train(DENSITY, runs["b"], seed=0, **kw)
    other = runner.train(DENSITY, runs["c"], seed=7, **kw)
    assert wd.read_run(runs["c"])["train"]["seed"] == 7
    a, b, c = (runner.load(runs[n]) for n in ("a", "b", "c"))
    assert same_weights(a, b) and not same_weights(a, c)  # seed 0 is the recipe's
    recipe = zoo.get(DENSITY).with_train(dataset="digits").train
    splits = [wd.split_dataset(dataclasses.replace(recipe, seed=s), "test") for s in (0, 7)]
    tests = [next(iter(split)) for split in splits]
    np.testing.assert_array_equal(tests[0], tests[1])  # one binarized test set for every seed
    assert np.isfinite(other["test"]["loss"])


@pytest.mark.slow
def test_budget_stop_is_recorded_and_resume_continues(tmp_path, capsys):
    work = str(tmp_path / "run")
    metrics = runner.train(
        DENSITY, work, dataset="digits", batch_size=128, epochs=3, max_minutes=1e-6, verbose=0
    )
    assert metrics["stopped_by"] == "budget" and metrics["last_epoch_partial"]
    assert (metrics["epochs"], metrics["steps"]) == (1, 1)
    assert "time budget of" in capsys.readouterr().err
    metrics = runner.train(DENSITY, work, resume=True, max_minutes=30, verbose=0)
    assert metrics["stopped_by"] == "epochs" and epochs_logged(work) == [0, 1, 2]
    assert metrics["steps"] == 1 + 2 * metrics["steps_per_epoch"]
    assert len(metrics["history"]["loss"]) == 3


def _tfgen(*args, env=ENV):
    return subprocess.Popen(
        [sys.executable, "-m", "zoo.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("preset", "fault"),
    [
        ("nade_fast_binarized_fashion_mnist", "write:epoch_0002.keras"),  # density: half a backup
        ("vae_tutorial_mnist", "link:model.keras#2"),  # latent: backup done, model.keras not
        ("dcgan_small_fashion_mnist", "write:history.csv#2"),  # adversarial: half the history
    ],
)
def test_killed_while_saving_resumes_bit_identically(tmp_path, capsys, preset, fault):
    """A real SIGKILL at a chosen moment of epoch 2's save; the directory stays usable, and the
    resumed run ends with the uninterrupted run's weights and history, bit for bit."""
    ref, killed = str(tmp_path / "ref"), str(tmp_path / "killed")
    args = ["train", preset, "--dataset", "digits", "--epochs", "2", "--batch-size", "128"]
    victim = _tfgen(*args, "--workdir", killed, env={**ENV, "TFGEN_FAULT": fault})
    runner.train(preset, ref, dataset="digits", epochs=2, batch_size=128, verbose=0)
    assert victim.wait(timeout=600) == -9, victim.communicate()[1][-2000:]
    assert runner.load(killed).optimizer.iterations > 0  # evaluate/sample/export can load it
    capsys.readouterr()
    metrics = runner.train(preset, killed, resume=True, verbose=0)
    assert "resuming after epoch" in capsys.readouterr().err
    assert (
        open(os.path.join(ref, "history.csv")).read()
        == open(os.path.join(killed, "history.csv")).read()
    )
    assert same_weights(runner.load(ref), runner.load(killed))
    leftovers = [n for d, _, names in os.walk(killed) for n in names if n.startswith(".tmp-")]
    assert leftovers == []
    assert metrics["epochs"] == 2 and all(len(v) == 2 for v in metrics["history"].values())


@pytest.mark.slow
def test_killed_writing_final_metrics(tmp_path):
    work = str(tmp_path / "run")
    args = ["train", DENSITY, "--dataset", "digits", "--epochs", "1", "--workdir", work]
    victim = _tfgen(*args, env={**ENV, "TFGEN_FAULT": "write:metrics.json"})
    assert victim.wait(timeout=600) == -9
    assert not os.path.exists(os.path.join(work, "metrics.json"))
    assert runner.evaluate(work)["nll"] > 0
    metrics = runner.train(DENSITY, work, resume=True, verbose=0)  # nothing left but the metrics
    assert metrics["epochs"] == 1 and epochs_logged(work) == [0]
    assert json.load(open(os.path.join(work, "metrics.json")))["epochs"] == 1


def test_a_run_resumed_before_its_first_checkpoint_keeps_its_xla_mode(tmp_path, monkeypatch):
    class Killed(Exception):
        """Stands for the process dying once its model is built (run.json only on disk)."""

    built = []

    def build(*args, **kwargs):
        built.append(real_build(*args, **kwargs))
        raise Killed

    real_build = runner.presets.build
    monkeypatch.setattr(runner.presets, "build", build)
    name, work = "gated_pixelcnn_small_binarized_fashion_mnist", str(tmp_path / "run")
    assert zoo.get(name).jit == "on"  # the preset's mode, which the run overrides
    with pytest.raises(Killed):
        runner.train(name, work, dataset="digits", epochs=1, jit="off", verbose=0)
    assert sorted(os.listdir(work)) == [wd.RUN_FILE]  # nothing trained, no checkpoint
    with pytest.raises(Killed):
        runner.train(name, work, resume=True, verbose=0)  # rebuilt from scratch
    assert [m.jit_compile for m in built] == [False, False]
    assert wd.read_run(work)["jit"] == "off"
