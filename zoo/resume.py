"""Resuming a run: the checkpoint every worker has, the recorded recipe, leftover temporaries.

Used by :func:`zoo.train.train`; the files are described in :mod:`zoo.workdir`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys

from tfgen import callbacks as tfgen_callbacks
from tfgen import distribute
from zoo import presets
from zoo.workdir import (
    BACKUP_DIR,
    HISTORY_FILE,
    METRICS_FILE,
    MODEL_FILE,
    WorkdirError,
    backup_dir,
    own_dir,
    read_run,
    recipe_from_json,
)


def say(message: str) -> None:
    """One line on stderr, prefixed ``tfgen train:``."""
    print(f"tfgen train: {message}", file=sys.stderr, flush=True)


def remove_temporaries(workdir: str, worker: str | None) -> None:
    """Deletes the temporary files a killed run left (``.tmp-*``, never renamed into place)."""
    folders = (workdir, os.path.join(workdir, BACKUP_DIR), os.path.join(workdir, "samples"))
    for folder in folders if worker is None else (backup_dir(workdir, worker),):
        if os.path.isdir(folder):
            for name in os.listdir(folder):
                if name.startswith(".tmp-"):
                    os.remove(os.path.join(folder, name))


def metrics_current(workdir: str, epochs: int) -> bool:
    try:
        with open(os.path.join(workdir, METRICS_FILE)) as f:
            return json.load(f).get("epochs") == epochs
    except (OSError, ValueError):
        return False


def load_agreed(backup: str, strategy, strategy_name: str):
    """The newest checkpoint that every worker has (and loads), made under the strategy.

    Returns ``(model, state, local)``: ``(None, None)`` when some worker has none (training
    restarts from the first epoch); ``local`` is whether this process has one that loads.
    """
    model, state = tfgen_callbacks.load_checkpoint(backup, say)
    local = state is not None
    done = distribute.min_over_workers(strategy, state["epoch"] if state else 0)
    if local and not done:
        say("another worker has no checkpoint: training restarts from the first epoch")
    if strategy_name == "default" or not done:
        return (model, state, local) if done else (None, None, local)
    with strategy.scope():  # the variables must be the strategy's
        model, state = tfgen_callbacks.load_checkpoint(backup, say, max_epoch=done)
    if state is None or state["epoch"] != done:
        raise WorkdirError(f"cannot resume: {backup!r} has no loadable checkpoint of epoch {done}")
    return model, state, local


def resume_state(workdir, worker, preset_name, dataset_name, epochs, batch_size, precision, dist):
    """``(preset, model, state)`` to continue the run in ``workdir`` (``dist``: the strategy's
    name and object; ``worker``: None for the chief)."""
    strategy_name, dist = dist
    run = read_run(own_dir(workdir, worker))
    if run["preset"] != preset_name:
        raise ValueError(
            f"{workdir!r} holds a run of preset {run['preset']!r}, not {preset_name!r}"
        )
    recorded = recipe_from_json(run["train"])
    policy = None if precision in (None, "float32") else precision
    for name, value in (("dataset", dataset_name), ("batch_size", batch_size)):
        if value is not None and value != getattr(recorded, name):
            raise ValueError(
                f"{name} cannot change on resume: the run used {getattr(recorded, name)!r}"
            )
    if precision is not None and policy != recorded.mixed_precision:
        used = recorded.mixed_precision or "float32"
        raise ValueError(f"precision cannot change on resume: the run used {used!r}")
    preset = dataclasses.replace(presets.get(run["preset"]), train=recorded)
    model, state, local = load_agreed(backup_dir(workdir, worker), dist, strategy_name)
    done = state["epoch"] if state else 0
    if not local and any(
        os.path.exists(os.path.join(own_dir(workdir, worker), f))
        for f in (MODEL_FILE, HISTORY_FILE)
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
    if done >= target and not metrics_current(workdir, done):
        return preset, model, state  # killed after the last epoch: only the metrics are left
    if done >= target:
        raise WorkdirError(
            f"cannot resume {workdir!r}: it already trained {done} of {target} epochs; "
            f"pass --epochs N with N > {done} to train more"
        )
    if epochs is not None:
        preset = preset.with_train(epochs=epochs)
    return preset, model, state
