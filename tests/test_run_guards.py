"""Runs are guarded: a non-finite batch stops training and keeps the last good files, and a
damaged ``.keras`` file gets one line from the CLI naming the file and what is wrong."""

import dataclasses
import json
import os
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.datasets import load_digits

from tfgen import callbacks as tfgen_callbacks
from tfgen.guards import StopOnNonFiniteLoss
from tfgen.models import IndependentBernoulli


# ----------------------------------------------------------------------------- non-finite stop
class _NaNAtStep(IndependentBernoulli):
    """The baseline with a loss that turns NaN at one optimizer step (a diverging run)."""

    nan_step = 5

    def training_log_prob(self, x, labels=None, training=False):
        log_p = super().training_log_prob(x, labels, training)
        bad = tf.logical_and(training, tf.equal(self.optimizer.iterations, self.nan_step))
        return tf.where(bad, tf.fill(tf.shape(log_p), np.nan), log_p)


def test_a_non_finite_batch_stops_training_and_keeps_the_last_good_files(tmp_path):
    digits = load_digits().images[:96, :, :, None] / 16.0
    x = (digits > 0.5).astype("float32")  # 3 batches of 32 per epoch: step 5 is in epoch 2
    m = _NaNAtStep(event_shape=(8, 8, 1), seed=0)
    m.compile(optimizer=keras.optimizers.Adam(0.05))
    guard = StopOnNonFiniteLoss()
    backup, model_path = tmp_path / "backup", tmp_path / "model.keras"
    checkpoint = tfgen_callbacks.EpochCheckpoint(str(backup), model_path=str(model_path))
    grid = tfgen_callbacks.SampleGrid(str(tmp_path / "samples"), 4)
    m.fit(x, batch_size=32, epochs=4, shuffle=False, verbose=0,
          callbacks=[guard, checkpoint, grid])  # fmt: skip
    assert guard.stopped_at["epoch"] == 1 and guard.stopped_at["batch"] == 2
    assert checkpoint.refused == 1
    assert int(m.optimizer.iterations) == 3  # the optimizer state of epoch 1 is back too
    assert sorted(os.listdir(backup)) == ["epoch_0001.json", "epoch_0001.keras"]
    assert os.listdir(tmp_path / "samples") == ["samples_epoch_001.png"]  # none for the NaN epoch
    good = keras.models.load_model(model_path, custom_objects={"_NaNAtStep": _NaNAtStep})
    np.testing.assert_array_equal(m.logits.numpy(), good.logits.numpy())  # restored in memory
    assert np.all(np.isfinite(m.logits.numpy()))


# ----------------------------------------------------------------------------- .keras files
def _unknown_class(path):
    with zipfile.ZipFile(path) as zin:
        files = {name: zin.read(name) for name in zin.namelist()}
    config = json.loads(files["config.json"])
    config["class_name"], config["registered_name"] = "NoSuchModel", "tfgen>NoSuchModel"
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as zout:
        for name, content in files.items():
            zout.writestr(name, content)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "unknown class", "empty"])
def test_a_damaged_model_file_gets_one_line_from_the_cli(tmp_path, capsys, damage):
    from zoo import cli, presets
    from zoo.workdir import write_run

    work = tmp_path / "run"
    work.mkdir()
    name = "vae_tutorial_fashion_mnist"
    write_run(str(work), {"preset": name, "train": dataclasses.asdict(presets.get(name).train)})
    path = work / "model.keras"
    IndependentBernoulli(event_shape=(4, 4, 1)).save(path)
    if damage == "truncated":
        os.truncate(path, os.path.getsize(path) // 2)
    elif damage == "garbage":
        path.write_bytes(b"\x00" * 100)
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        _unknown_class(path)
    capsys.readouterr()
    assert cli.main(["evaluate", str(work)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "model.keras" in err, err
    if damage == "unknown class":
        assert "NoSuchModel" in err
