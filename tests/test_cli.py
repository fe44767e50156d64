"""The `tfgen` CLI end to end on a tiny run, resume after a kill mid-epoch, and the runner's
work-directory helpers."""

import csv
import importlib
import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import zoo
from zoo import cli
from zoo import train as runner

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}


def tfgen(*args, check=True, **kwargs):
    out = subprocess.run(
        [sys.executable, "-m", "zoo.cli", *args],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=600,
        **kwargs,
    )
    if check:
        assert out.returncode == 0, out.stderr[-3000:]
    return out


def epochs_logged(workdir):
    with open(os.path.join(workdir, "history.csv")) as f:
        return [int(row["epoch"]) for row in csv.DictReader(f)]


def test_list_shows_presets_in_aligned_columns(capsys):
    assert cli.main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = zoo.list_presets()
    assert len(lines) == len(names)
    classes = [zoo.get(n).model_class for n in names]
    datasets = [zoo.get(n).train.dataset for n in names]
    start_class = max(map(len, names)) + 2
    start_dataset = start_class + max(map(len, classes)) + 2
    for line, name, cls, dataset in zip(lines, names, classes, datasets, strict=True):
        assert line[:start_class].rstrip() == name
        assert line[start_class:].startswith(cls + " ")
        assert line[start_dataset:].startswith(dataset + " ")


def test_help_and_list_do_not_import_tensorflow():
    code = (
        "import sys, contextlib, io\n"
        "from zoo import cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    cli.main(['list'])\n"
        "    try:\n"
        "        cli.main(['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV)
    assert out.stdout.split() == ["False", "False"], out.stderr


def test_every_argument_has_help():
    parser = cli._parser()
    commands = parser._subparsers._group_actions[0].choices
    for name, command in commands.items():
        for action in command._actions:
            assert action.help, f"tfgen {name} {action.option_strings or action.dest}"


def test_errors_are_clear_and_exit_2(tmp_path, capsys):
    assert cli.main(["train", "vae_tutorial_fashionmnist", "--workdir", str(tmp_path / "w")]) == 2
    assert "did you mean" in capsys.readouterr().err
    assert cli.main(["evaluate", str(tmp_path)]) == 2
    assert "not a tfgen work directory" in capsys.readouterr().err
    assert (
        cli.main(
            [
                "train",
                "vae_fast_fashion_mnist",
                "--dataset",
                "cifar",
                "--workdir",
                str(tmp_path / "x"),
            ]
        )
        == 2
    )
    assert "dataset" in capsys.readouterr().err


def test_evaluate_takes_importance_samples_not_iwae_samples(capsys):
    args = cli._parser().parse_args(["evaluate", "w", "--importance-samples", "5"])
    assert args.importance_samples == 5
    with pytest.raises(SystemExit) as exit_info:
        cli._parser().parse_args(["evaluate", "w", "--iwae-samples", "5"])
    assert exit_info.value.code == 2 and "--iwae-samples" in capsys.readouterr().err


def test_read_run_and_merge_metrics(tmp_path):
    work = str(tmp_path)
    with pytest.raises(runner.WorkdirError, match="not a tfgen work directory"):
        runner.read_run(work)
    (tmp_path / runner.RUN_FILE).write_text(json.dumps({"preset": "p", "train": {}}))
    assert runner.read_run(work) == {"preset": "p", "train": {}}
    runner.merge_metrics(work, "evaluate", {"elbo": -1.0})
    runner.merge_metrics(work, "sample_quality", {"fcd": 2.0})
    runner.merge_metrics(work, "evaluate", {"elbo": -3.0})
    metrics = json.loads((tmp_path / runner.METRICS_FILE).read_text())
    assert metrics == {"evaluate": {"elbo": -3.0}, "sample_quality": {"fcd": 2.0}}
    assert sorted(os.listdir(work)) == [runner.METRICS_FILE, runner.RUN_FILE]  # no temporaries


@pytest.mark.slow
def test_train_evaluate_sample_export(tmp_path, capsys):
    work = str(tmp_path / "run")
    out = tfgen(
        "train",
        "vae_fast_fashion_mnist",
        "--dataset",
        "digits",
        "--epochs",
        "2",
        "--batch-size",
        "64",
        "--workdir",
        work,
    )
    assert "Epoch 2/2" in out.stdout  # Keras' per-epoch lines
    assert "oneDNN" not in out.stderr and "cuda" not in out.stderr.lower()  # quiet by default
    for name in (
        "model.keras",
        "metrics.json",
        "run.json",
        "history.csv",
        "samples/samples_epoch_001.png",
        "samples/samples_epoch_002.png",
    ):
        assert os.path.exists(os.path.join(work, name)), name
    assert os.listdir(os.path.join(work, "logs"))  # TensorBoard (installed with the test extras)
    metrics = json.load(open(os.path.join(work, "metrics.json")))
    assert metrics["dataset"] == "digits" and metrics["binarize"] == "static"
    assert np.isfinite(metrics["test"]["elbo"]) and len(metrics["history"]["val_elbo"]) == 2
    assert epochs_logged(work) == [0, 1]
    assert (metrics["epochs"], metrics["steps"], metrics["stopped_by"]) == (2, 46, "epochs")
    assert os.listdir(os.path.join(work, "backup"))  # kept, so the run can be extended

    # The other commands in this process (TensorFlow is loaded already): same code path.
    assert cli.main(["evaluate", work, "--importance-samples", "20"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["iwae_nll_k20"] <= -result["elbo"] + 1.0 and result["num_examples"] == 360

    png = str(tmp_path / "grid.png")
    assert cli.main(["sample", work, "--num-samples", "16", "--out", png]) == 0
    assert Image.open(png).size[0] > 8 * 4
    assert cli.main(["sample", work, "--labels", "3", "--out", png]) == 2
    assert "conditional" in capsys.readouterr().err

    exported = str(tmp_path / "exported")
    assert cli.main(["export", work, exported]) == 0
    loaded = tf.saved_model.load(exported)
    images = loaded.sample(num_samples=tf.constant(3), seed=tf.constant(0))["images"]
    assert images.shape == (3, 8, 8, 1)

    assert cli.main(["train", "vae_fast_fashion_mnist", "--workdir", work]) == 2
    assert "--resume" in capsys.readouterr().err  # never overwrites a run


@pytest.mark.slow
def test_resume_after_kill_mid_epoch_continues_from_last_epoch(tmp_path, capsys):
    work = str(tmp_path / "run")
    args = [
        "train",
        "vae_tutorial_mnist",
        "--dataset",
        "digits",
        "--epochs",
        "2",
        "--batch-size",
        "4",
        "--workdir",
        work,
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "zoo.cli", *args],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    metadata = os.path.join(work, "backup", "epoch_0001.json")
    deadline = time.time() + 300
    while not os.path.exists(metadata) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(0.5)  # into the second epoch (360 steps of batch 4), then kill hard
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert os.path.exists(metadata), "the first epoch never finished"
    assert json.load(open(metadata))["epoch"] == 1 and not os.path.exists(
        os.path.join(work, "backup", "epoch_0002.json")
    )
    assert epochs_logged(work) == [0]

    changed = ["train", "vae_tutorial_mnist", "--workdir", work, "--resume", "--batch-size", "8"]
    assert cli.main(changed) == 2
    assert "batch_size cannot change" in capsys.readouterr().err
    tfgen("train", "vae_tutorial_mnist", "--workdir", work, "--resume")
    assert epochs_logged(work) == [0, 1]  # epoch 0 is not trained again
    importlib.import_module("tfgen")  # registers tfgen's classes, as users do before load_model
    model = keras.models.load_model(os.path.join(work, "model.keras"))
    assert int(model.optimizer.iterations) == 2 * 360  # optimizer state carried over exactly
    run = json.load(open(os.path.join(work, "run.json")))
    assert run["train"]["dataset"] == "digits" and run["train"]["batch_size"] == 4
