"""Run a preset's recipe in a work directory: train (resumable), evaluate, sample, export.

A work directory holds everything a run produces::

    run.json              preset name and the exact recipe used (overrides applied)
    model.keras           the model with optimizer state (saved after every epoch and at the end)
    metrics.json          test metrics, per-epoch history, training time
    history.csv           one row per finished epoch (appended across resumes)
    samples/              samples_epoch_NNN.png after every epoch
    logs/                 TensorBoard logs (when tensorboard is installed)
    backup/               Keras BackupAndRestore state while a run is unfinished

A killed run continues with ``resume=True`` from its last finished epoch (weights, optimizer
state and epoch counter restored), never from zero.
"""

from __future__ import annotations

import csv
import dataclasses
import importlib.util
import json
import os
import time

import keras
import numpy as np
import tensorflow as tf

from tfgen import callbacks as tfgen_callbacks
from tfgen import data
from zoo import presets

RUN_FILE, MODEL_FILE, METRICS_FILE = "run.json", "model.keras", "metrics.json"


class WorkdirError(RuntimeError):
    """A work directory that cannot be used as asked (exists without resume, or missing)."""


def _recipe_for(
    preset: presets.Preset, dataset=None, epochs=None, batch_size=None
) -> presets.Preset:
    changes = {
        k: v
        for k, v in dict(dataset=dataset, epochs=epochs, batch_size=batch_size).items()
        if v is not None
    }
    if "dataset" in changes and changes["dataset"] not in data.DATASETS:
        raise ValueError(
            f"dataset must be one of {list(data.DATASETS)}; got {changes['dataset']!r}"
        )
    return preset.with_train(**changes) if changes else preset


def _recipe_from_json(train: dict) -> presets.TrainRecipe:
    if "scale" in train:
        train = dict(train, scale=tuple(train["scale"]))
    return presets.TrainRecipe(**train)


def _datasets(recipe: presets.TrainRecipe):
    common = dict(
        binarize=recipe.binarize, labels=recipe.labels, seed=recipe.seed, scale=recipe.scale
    )
    train = data.load(recipe.dataset, "train", batch_size=recipe.batch_size, **common)
    test = data.load(recipe.dataset, "test", batch_size=recipe.eval_batch_size, **common)
    return train, test


def read_run(workdir: str) -> dict:
    """The ``run.json`` of a work directory: ``{"preset": name, "train": recipe fields}``.

    Raises:
        WorkdirError: ``workdir`` holds no run.
    """
    path = os.path.join(workdir, RUN_FILE)
    if not os.path.isfile(path):
        raise WorkdirError(
            f"{workdir!r} is not a tfgen work directory (no {RUN_FILE}); run `tfgen train`"
        )
    with open(path) as f:
        return json.load(f)


def _write_json(path: str, obj) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
    os.replace(tmp, path)  # atomic: a kill never leaves half a file


def merge_metrics(workdir: str, name: str, values: dict) -> None:
    """Stores ``values`` under ``name`` in the work directory's ``metrics.json``.

    The file's other entries are kept; it is created if missing and replaced atomically.
    """
    path = os.path.join(workdir, METRICS_FILE)
    metrics = {}
    if os.path.isfile(path):
        with open(path) as f:
            metrics = json.load(f)
    metrics[name] = values
    _write_json(path, metrics)


def _history(workdir: str) -> dict[str, list[float]]:
    path = os.path.join(workdir, "history.csv")
    if not os.path.isfile(path):
        return {}
    with open(path) as f:
        rows = list(csv.DictReader(f))
    return {k: [float(r[k]) for r in rows] for k in (rows[0] if rows else {})}


def train(
    preset_name: str,
    workdir: str,
    *,
    dataset: str | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    max_minutes: float | None = None,
    resume: bool = False,
    verbose: int | str = 1,
) -> dict:
    """Trains a preset in ``workdir`` and returns the metrics written to ``metrics.json``.

    Args:
        preset_name: a name from ``zoo.list_presets()``.
        workdir: output directory (created).
        dataset: train on another dataset than the preset's (the model follows its image shape).
        epochs: override the recipe's epochs.
        batch_size: override the recipe's batch size.
        max_minutes: stop training after this many minutes (overrides the recipe's budget).
        resume: continue an unfinished run in ``workdir`` from its last finished epoch.
        verbose: Keras ``fit`` verbosity (1 shows the progress bar).

    Raises:
        WorkdirError: ``workdir`` holds a run and ``resume`` is False, or ``resume`` is True and it
            holds none.
    """
    run_path = os.path.join(workdir, RUN_FILE)
    if resume:
        run = read_run(workdir)
        if run["preset"] != preset_name:
            raise ValueError(
                f"{workdir!r} holds a run of preset {run['preset']!r}, not {preset_name!r}"
            )
        recorded = _recipe_from_json(run["train"])
        for name, value in (("dataset", dataset), ("batch_size", batch_size)):
            if value is not None and value != getattr(recorded, name):
                raise ValueError(
                    f"{name} cannot change on resume: the run used {getattr(recorded, name)!r}"
                )
        preset = dataclasses.replace(presets.get(run["preset"]), train=recorded)
        if epochs is not None:
            preset = preset.with_train(epochs=epochs)
    else:
        if os.path.exists(run_path):
            raise WorkdirError(
                f"{workdir!r} already holds a run; pass --resume to continue it "
                "or choose a new --workdir"
            )
        preset = _recipe_for(presets.get(preset_name), dataset, epochs, batch_size)
    if max_minutes is not None:
        preset = preset.with_train(max_minutes=max_minutes)
    recipe = preset.train
    os.makedirs(workdir, exist_ok=True)
    _write_json(run_path, {"preset": preset.name, "train": dataclasses.asdict(recipe)})

    keras.utils.set_random_seed(recipe.seed)
    model = presets.build(preset, event_shape=data.event_shape(recipe.dataset))
    train_ds, test_ds = _datasets(recipe)
    log_dir = os.path.join(workdir, "logs") if importlib.util.find_spec("tensorboard") else None
    callbacks = [
        keras.callbacks.BackupAndRestore(os.path.join(workdir, "backup")),
        keras.callbacks.CSVLogger(os.path.join(workdir, "history.csv"), append=True),
        keras.callbacks.ModelCheckpoint(os.path.join(workdir, MODEL_FILE)),
        tfgen_callbacks.SampleGrid(
            os.path.join(workdir, "samples"),
            64,
            seed=0,
            log_dir=log_dir,
            value_range=recipe.scale,
            **preset.sample_kwargs,
        ),
    ]
    if log_dir:
        callbacks.append(keras.callbacks.TensorBoard(log_dir))
    if recipe.max_minutes:
        callbacks.append(tfgen_callbacks.TimeBudget(recipe.max_minutes))
    start = time.perf_counter()
    model.fit(
        train_ds,
        epochs=recipe.epochs,
        validation_data=test_ds,
        callbacks=callbacks,
        verbose=verbose,
        shuffle=False,
    )
    seconds = time.perf_counter() - start
    model.save(os.path.join(workdir, MODEL_FILE))
    test = model.evaluate(test_ds, verbose=0, return_dict=True)
    metrics = {
        "preset": preset.name,
        "dataset": recipe.dataset,
        "binarize": recipe.binarize,
        "epochs": recipe.epochs,
        "train_seconds_this_session": round(seconds, 2),
        "test": {k: float(v) for k, v in test.items()},
        "history": _history(workdir),
    }
    _write_json(os.path.join(workdir, METRICS_FILE), metrics)
    return metrics


def load(workdir: str) -> keras.Model:
    """The model of a work directory (``model.keras``: compiled, with its optimizer state)."""
    read_run(workdir)
    path = os.path.join(workdir, MODEL_FILE)
    if not os.path.isfile(path):
        raise WorkdirError(
            f"{workdir!r} has no {MODEL_FILE} yet: training has not finished an epoch"
        )
    return keras.models.load_model(path)


def evaluate(workdir: str, importance_samples: int = 0, max_examples: int | None = None) -> dict:
    """Test metrics of a work directory's model, merged into ``metrics.json`` under ``"evaluate"``.

    Args:
        workdir: a work directory with a ``model.keras``.
        importance_samples: when > 0, also the IWAE NLL ``iwae_nll_k<k>`` of a latent model:
            ``-log_prob(x, labels, importance_samples=k)`` averaged over the test images.
        max_examples: evaluate on the first ``max_examples`` test images only.

    Returns:
        The Keras test metrics (plus ``iwae_nll_k<k>`` and ``num_examples`` with k > 0).
    """
    run = read_run(workdir)
    recipe = _recipe_from_json(run["train"])
    model = load(workdir)
    _, test_ds = _datasets(recipe)
    if max_examples:
        test_ds = test_ds.unbatch().take(max_examples).batch(recipe.eval_batch_size)
    result = {k: float(v) for k, v in model.evaluate(test_ds, verbose=0, return_dict=True).items()}
    if importance_samples > 0:
        log_prob = tf.function(
            lambda x, labels, seed: model.log_prob(
                x, labels, importance_samples=importance_samples, seed=seed
            )
        )
        log_p = []
        for i, batch in enumerate(test_ds):
            x, labels = batch if recipe.labels else (batch, None)
            log_p.append(log_prob(x, labels, tf.constant(i)).numpy())
        log_p = np.concatenate(log_p)
        result[f"iwae_nll_k{importance_samples}"] = float(-log_p.mean())
        result["num_examples"] = int(log_p.size)
    merge_metrics(workdir, "evaluate", result)
    return result


def sample(workdir: str, num_samples: int, out: str, seed: int = 0) -> str:
    """Writes a PNG grid of ``num_samples`` samples, drawn with the preset's ``sample_kwargs``."""
    if num_samples < 1:
        raise ValueError(f"num_samples must be a positive int; got {num_samples!r}")
    run = read_run(workdir)
    preset = presets.get(run["preset"])
    images = tfgen_callbacks.sample_images(load(workdir), num_samples, seed, **preset.sample_kwargs)
    scale = _recipe_from_json(run["train"]).scale
    return tfgen_callbacks.save_image_grid(np.asarray(images), out, value_range=scale)


def export(workdir: str, out_dir: str) -> str:
    """Exports a work directory's model as a SavedModel (``tfgen.export.export_saved_model``)."""
    from tfgen.export import export_saved_model

    return export_saved_model(load(workdir), out_dir)
