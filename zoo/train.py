"""Run a preset's recipe in a work directory: train (resumable), evaluate, sample, export.

The files of a work directory are described in :mod:`zoo.workdir`. Training saves a checkpoint
(model, optimizer state, random streams, history) after every epoch and keeps it after the run
ends, so ``resume=True`` continues a killed, budget-stopped or finished run from its last epoch,
never from zero. Each epoch's data order and dynamic binarization come from ``(seed, epoch)``, so
a resumed epoch draws exactly what it would have drawn in an uninterrupted run.

``strategy``, ``precision`` and ``jit`` scale a run out (README, "Scaling out"): the model is built
under a ``tf.distribute`` strategy at the recipe's global batch; under ``multi_worker`` only the
chief writes the run's files and every worker resumes from the last epoch all workers finished.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import os
import time

import keras

from tfgen import callbacks as tfgen_callbacks
from tfgen import data, distribute
from tfgen.guards import StopOnNonFiniteLoss
from zoo import presets
from zoo.evaluation import evaluate, export, sample
from zoo.report import write_curves
from zoo.resume import remove_temporaries, resume_state
from zoo.resume import say as _say
from zoo.workdir import (
    METRICS_FILE,
    MODEL_FILE,
    RUN_FILE,
    WorkdirError,
    backup_dir,
    can_sample,
    epoch_seed,
    history_columns,
    load_run_model,
    merge_metrics,
    own_dir,
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


class _EpochEnd(keras.callbacks.Callback):
    """Writes history.csv and curves.png after the checkpoint; stops ``fit`` after one epoch."""

    def __init__(self, workdir: str | None, checkpoint: tfgen_callbacks.EpochCheckpoint):
        super().__init__()
        self.workdir, self.checkpoint = workdir, checkpoint  # workdir None: not the chief

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if self.workdir is not None:
            write_history(self.workdir, self.checkpoint.history)
            write_curves(self.workdir)
        self.model.stop_training = True


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
    strategy: str = "default",
    precision: str | None = None,
    jit: str | None = None,
    seed: int | None = None,
    no_budget: bool = False,
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
        strategy: ``"default"`` (one device), ``"mirrored"`` (every GPU of this machine) or
            ``"multi_worker"`` (the cluster in ``TF_CONFIG``; only the chief writes the shared
            files, see :mod:`zoo.workdir`). The batch stays the recipe's global batch and the
            learning rate schedule is unchanged.
        precision: ``"float32"``, ``"mixed_bfloat16"`` or ``"mixed_float16"`` (None: the
            recipe's); it cannot change on resume.
        jit: XLA compilation ``"auto"`` (on GPU only), ``"on"`` or ``"off"`` (None: the
            preset's, or on resume the run's).
        seed: the recipe's random seed replaced (weights, data order, binarization draws); a
            resumed run keeps the seed it started with.
        no_budget: train every epoch whatever the recipe's ``max_minutes`` (``zoo.reproduce``'s
            records, whose figures must not depend on the CPU's speed or load).

    Raises:
        WorkdirError: ``workdir`` holds a run and ``resume`` is False; or ``resume`` is True and
            there is no run, no checkpoint that loads, or nothing left to train.
    """
    dist = distribute.make_strategy(strategy)  # first: a multi-worker strategy precedes other ops
    distribute.check_precision(precision)
    if jit is not None:
        distribute.jit_compile(jit)
    worker = None if distribute.is_chief() else distribute.worker_name()
    home = own_dir(workdir, worker)
    if resume:
        preset, model, state = resume_state(
            workdir, worker, preset_name, dataset, epochs, batch_size, precision, (strategy, dist)
        )
        jit = jit or read_run(home).get("jit", "auto")
        if model is not None:
            model.jit_compile = distribute.jit_compile(jit)
            if model.jit_compile == "auto":
                model.jit_compile = model._resolve_auto_jit_compile()  # noqa: SLF001
    else:
        if os.path.exists(os.path.join(home, RUN_FILE)):
            raise WorkdirError(
                f"{workdir!r} already holds a run; pass --resume to continue it "
                "or choose a new --workdir"
            )
        preset, model, state = (
            recipe_for(presets.get(preset_name), dataset, epochs, batch_size),
            None,
            None,
        )
        if seed is not None:
            preset = preset.with_train(seed=seed)
        if precision is not None:
            preset = preset.with_train(
                mixed_precision=None if precision == "float32" else precision
            )
        jit = jit or preset.jit
    preset = dataclasses.replace(preset, jit=jit)  # also a resumed run rebuilt from scratch
    if max_minutes is not None or no_budget:
        preset = preset.with_train(max_minutes=max_minutes)
    recipe = preset.train
    os.makedirs(home, exist_ok=True)
    remove_temporaries(workdir, worker)
    run = {"preset": preset.name, "train": dataclasses.asdict(recipe), "strategy": strategy}
    run.update(precision=recipe.mixed_precision or "float32", jit=jit)
    write_run(home, {**run, "replicas": dist.num_replicas_in_sync})
    done = state["epoch"] if state else 0
    if done:
        _say(f"resuming after epoch {done} of {recipe.epochs} (step {state['steps']})")

    keras.utils.set_random_seed(recipe.seed)
    if model is None:
        with dist.scope():
            model = presets.build(preset, event_shape=data.event_shape(recipe.dataset))
    if strategy != "default":  # Keras' multi-step loop fails on distributed iterators
        model.steps_per_execution = 1  # (keras-team/keras#19246)
    test_ds = split_dataset(recipe, "test")
    start, before = time.perf_counter(), (state or {}).get("train_seconds", 0.0)
    checkpoint = tfgen_callbacks.EpochCheckpoint(
        backup_dir(workdir, worker),
        keep=2,
        model_path=None if worker else os.path.join(workdir, MODEL_FILE),
        history=(state or {}).get("history", ()),
        extra_state=lambda: {"train_seconds": round(before + time.perf_counter() - start, 2)},
    )
    if state and not worker:  # the checkpoint's rows and model: drops a later epoch's leftovers
        write_history(workdir, checkpoint.history)
        checkpoint.publish(done)
    tensorboard = importlib.util.find_spec("tensorboard") and not worker
    log_dir = os.path.join(workdir, "logs") if tensorboard else None
    agree = None
    if recipe.max_minutes and distribute.in_multi_worker_mode(dist):
        agree = functools.partial(distribute.any_worker, dist)  # all workers stop together
    budget = tfgen_callbacks.TimeBudget(recipe.max_minutes or 1e9, agree=agree)
    guard = StopOnNonFiniteLoss()  # first: stops at the batch, before any epoch-end callback
    callbacks = [guard, budget, checkpoint, _EpochEnd(None if worker else workdir, checkpoint)]
    if can_sample(type(model)) and not worker:  # sample grids (autoencoders do not sample)
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
                f"training stopped: non-finite loss in epoch {epoch + 1}"
                + (f", batch {guard.stopped_at['batch'] + 1}" if guard.stopped_at else "")
                + "; the last good "
                "model.keras and checkpoint are kept"
            )
            break
        if budget.stopped:
            stopped_by = "budget"
            break
    seconds = time.perf_counter() - start
    metrics = _finish(workdir, preset, checkpoint, budget, stopped_by, before, seconds)
    if not worker:  # only the chief writes the run's shared files
        tfgen_callbacks.write_json(os.path.join(workdir, METRICS_FILE), metrics)
    return metrics


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
    return metrics


def load(workdir: str) -> keras.Model:
    """The model of a work directory (``model.keras``: compiled, with its optimizer state; the
    newest checkpoint if a kill left ``model.keras`` missing).

    Raises:
        WorkdirError: no run, no model yet, or a file that cannot be loaded (one line).
    """
    return load_run_model(workdir)
