"""Run a preset's recipe in a work directory: train (resumable), evaluate, sample, export.

The files of a work directory are described in :mod:`zoo.workdir`. Training saves a checkpoint
(model, optimizer state, random streams, history) after every epoch and keeps it after the run
ends, so ``resume=True`` continues a killed, budget-stopped or finished run from its last epoch,
never from zero. Each epoch's data order and dynamic binarization come from ``(seed, epoch)``, so
a resumed epoch draws exactly what it would have drawn in an uninterrupted run.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import sys
import time

import keras

from tfgen import callbacks as tfgen_callbacks
from tfgen import data
from zoo import presets
from zoo.evaluation import evaluate, export, sample
from zoo.workdir import (
    BACKUP_DIR,
    HISTORY_FILE,
    METRICS_FILE,
    MODEL_FILE,
    RUN_FILE,
    WorkdirError,
    can_sample,
    epoch_seed,
    history_columns,
    load_run_model,
    merge_metrics,
    read_run,
    recipe_for,
    recipe_from_json,
    split_dataset,
    write_history,
    write_run,
)

__all__ = [
    "METRICS_FILE",
    "MODEL_FILE",
    "RUN_FILE",
    "WorkdirError",
    "epoch_seed",
    "recipe_from_json",
    "split_dataset",
    "evaluate",
    "export",
    "load",
    "merge_metrics",
    "read_run",
    "sample",
    "train",
]


def _say(message: str) -> None:
    print(f"tfgen train: {message}", file=sys.stderr, flush=True)


class _EpochEnd(keras.callbacks.Callback):
    """Writes history.csv after the checkpoint and stops ``fit`` after one epoch."""

    def __init__(self, workdir: str, checkpoint: tfgen_callbacks.EpochCheckpoint):
        super().__init__()
        self.workdir, self.checkpoint = workdir, checkpoint

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        write_history(self.workdir, self.checkpoint.history)
        self.model.stop_training = True


def _remove_temporaries(workdir: str) -> None:
    """Deletes the temporary files a killed run left (``.tmp-*``, never renamed into place)."""
    for folder in (workdir, os.path.join(workdir, BACKUP_DIR), os.path.join(workdir, "samples")):
        if os.path.isdir(folder):
            for name in os.listdir(folder):
                if name.startswith(".tmp-"):
                    os.remove(os.path.join(folder, name))


def _metrics_current(workdir: str, epochs: int) -> bool:
    try:
        with open(os.path.join(workdir, METRICS_FILE)) as f:
            return json.load(f).get("epochs") == epochs
    except (OSError, ValueError):
        return False


def _resume_state(workdir: str, preset_name: str, dataset_name, epochs, batch_size):
    run = read_run(workdir)
    if run["preset"] != preset_name:
        raise ValueError(
            f"{workdir!r} holds a run of preset {run['preset']!r}, not {preset_name!r}"
        )
    recorded = recipe_from_json(run["train"])
    for name, value in (("dataset", dataset_name), ("batch_size", batch_size)):
        if value is not None and value != getattr(recorded, name):
            raise ValueError(
                f"{name} cannot change on resume: the run used {getattr(recorded, name)!r}"
            )
    preset = dataclasses.replace(presets.get(run["preset"]), train=recorded)
    model, state = tfgen_callbacks.load_checkpoint(os.path.join(workdir, BACKUP_DIR), _say)
    done = state["epoch"] if state else 0
    if state is None and any(
        os.path.exists(os.path.join(workdir, f)) for f in (MODEL_FILE, HISTORY_FILE)
    ):
        raise WorkdirError(
            f"cannot resume {workdir!r}: it has trained epochs but no checkpoint in "
            f"{BACKUP_DIR}/ that loads (damaged, or written by an older tfgen); "
            "start a new --workdir"
        )
    target = epochs or recorded.epochs
    if epochs is not None and epochs != recorded.epochs and recorded.schedule and model:
        # The schedule is stretched to the new total, from the current step on.
        stretched = dataclasses.replace(recorded, epochs=epochs)
        for name in model.optimizer_names:
            new = presets.make_optimizer(stretched, presets.steps_per_epoch(stretched))
            getattr(model, name).learning_rate = new._learning_rate
    if done >= target and not _metrics_current(workdir, done):
        return preset, model, state  # killed after the last epoch: only the metrics are left
    if done >= target:
        raise WorkdirError(
            f"cannot resume {workdir!r}: it already trained {done} of {target} epochs; "
            f"pass --epochs N with N > {done} to train more"
        )
    if epochs is not None:
        preset = preset.with_train(epochs=epochs)
    return preset, model, state


def train(
    preset_name: str,
    workdir: str,
    *,
    dataset: str | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    max_minutes: float | None = None,
    resume: bool = False,
    verbose: int | str = 2,
) -> dict:
    """Trains a preset in ``workdir`` and returns the metrics written to ``metrics.json``.

    Args:
        preset_name: a name from ``zoo.list_presets()``.
        workdir: output directory (created).
        dataset: train on another dataset than the preset's (the model follows its image shape).
        epochs: override the recipe's epochs (on resume: the new total, to extend a run).
        batch_size: override the recipe's batch size.
        max_minutes: training budget of this call in minutes (tracing, validation and saving
            count); training stops inside the epoch where it runs out and ``resume`` continues.
        resume: continue the run in ``workdir`` from its last checkpoint (killed, stopped by the
            budget, or finished and given more ``epochs``).
        verbose: Keras ``fit`` verbosity (1 shows the progress bar, 2 one line per epoch).

    Raises:
        WorkdirError: ``workdir`` holds a run and ``resume`` is False; or ``resume`` is True and
            there is no run, no checkpoint that loads, or nothing left to train.
    """
    if resume:
        preset, model, state = _resume_state(workdir, preset_name, dataset, epochs, batch_size)
    else:
        if os.path.exists(os.path.join(workdir, RUN_FILE)):
            raise WorkdirError(
                f"{workdir!r} already holds a run; pass --resume to continue it "
                "or choose a new --workdir"
            )
        preset, model, state = (
            recipe_for(presets.get(preset_name), dataset, epochs, batch_size),
            None,
            None,
        )
    if max_minutes is not None:
        preset = preset.with_train(max_minutes=max_minutes)
    recipe = preset.train
    os.makedirs(workdir, exist_ok=True)
    _remove_temporaries(workdir)
    write_run(workdir, {"preset": preset.name, "train": dataclasses.asdict(recipe)})
    done = state["epoch"] if state else 0
    if done:
        _say(f"resuming after epoch {done} of {recipe.epochs} (step {state['steps']})")

    keras.utils.set_random_seed(recipe.seed)
    if model is None:
        model = presets.build(preset, event_shape=data.event_shape(recipe.dataset))
    test_ds = split_dataset(recipe, "test")
    start, before = time.perf_counter(), (state or {}).get("train_seconds", 0.0)
    checkpoint = tfgen_callbacks.EpochCheckpoint(
        os.path.join(workdir, BACKUP_DIR),
        keep=2,
        model_path=os.path.join(workdir, MODEL_FILE),
        history=(state or {}).get("history", ()),
        extra_state=lambda: {"train_seconds": round(before + time.perf_counter() - start, 2)},
    )
    if state:  # the checkpoint's rows and model: drops what a kill left of a later epoch
        write_history(workdir, checkpoint.history)
        checkpoint.publish(done)
    log_dir = os.path.join(workdir, "logs") if importlib.util.find_spec("tensorboard") else None
    budget = tfgen_callbacks.TimeBudget(recipe.max_minutes or 1e9)
    callbacks = [budget, checkpoint, _EpochEnd(workdir, checkpoint)]
    if can_sample(type(model)):  # sample grids (autoencoders do not sample)
        grids = os.path.join(workdir, "samples")
        callbacks.append(
            tfgen_callbacks.SampleGrid(
                grids, 64, seed=0, log_dir=log_dir, value_range=recipe.scale, **preset.sample_kwargs
            )
        )
    if log_dir:
        callbacks.append(keras.callbacks.TensorBoard(log_dir, write_graph=False))
    stopped_by = "epochs"
    for epoch in range(done, recipe.epochs):
        model.fit(
            split_dataset(recipe, "train", epoch),
            initial_epoch=epoch,
            epochs=recipe.epochs,
            validation_data=test_ds,
            callbacks=callbacks,
            verbose=verbose,
            shuffle=False,
        )
        if checkpoint.refused is not None:
            stopped_by = "non-finite loss"
            _say(
                f"training stopped: non-finite loss in epoch {epoch + 1}; the last good "
                "model.keras and checkpoint are kept"
            )
            break
        if budget.stopped:
            stopped_by = "budget"
            break
    seconds = time.perf_counter() - start
    return _finish(workdir, preset, checkpoint, budget, stopped_by, before, seconds)


def _finish(workdir, preset, checkpoint, budget, stopped_by, before, seconds) -> dict:
    recipe, rows = preset.train, checkpoint.history
    steps_per_epoch = presets.steps_per_epoch(recipe)
    last = rows[-1] if rows else {}
    previous_steps = rows[-2]["steps"] if len(rows) > 1 else 0
    partial = bool(rows) and last["steps"] - previous_steps < steps_per_epoch
    if stopped_by == "budget":
        _say(
            f"time budget of {recipe.max_minutes:g} min reached in epoch {len(rows)} "
            f"({last.get('steps', 0) - previous_steps} of {steps_per_epoch} steps); "
            "`--resume` continues with the next epoch"
        )
    if budget.first_step_seconds and budget.first_step_seconds > 10:
        _say(f"the first training step took {budget.first_step_seconds:.0f} s (tracing)")
    metrics = {
        "preset": preset.name,
        "dataset": recipe.dataset,
        "binarize": recipe.binarize,
        "epochs": len(rows),
        "epochs_planned": recipe.epochs,
        "steps": int(last.get("steps", 0)),
        "steps_per_epoch": steps_per_epoch,
        "last_epoch_partial": partial,
        "stopped_by": stopped_by,
        "train_seconds": round(before + seconds, 2),
        "train_seconds_this_session": round(seconds, 2),
        "first_step_seconds": round(budget.first_step_seconds or 0.0, 2),
        # The test split is the validation data of every epoch: the last epoch's figures are
        # the test figures (evaluated once, with the final weights).
        "test": {k[len("val_") :]: v for k, v in last.items() if k.startswith("val_")},
        "history": history_columns(rows),
    }
    tfgen_callbacks.write_json(os.path.join(workdir, METRICS_FILE), metrics)
    return metrics


def load(workdir: str) -> keras.Model:
    """The model of a work directory (``model.keras``: compiled, with its optimizer state; the
    newest checkpoint if a kill left ``model.keras`` missing).

    Raises:
        WorkdirError: no run, no model yet, or a file that cannot be loaded (one line).
    """
    return load_run_model(workdir)
