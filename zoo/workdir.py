"""The files of a work directory, each written atomically, and their one-line errors.

A work directory holds everything a run produces::

    run.json              preset name and the exact recipe used (overrides applied)
    model.keras           the newest model with optimizer state (after every epoch)
    metrics.json          test metrics, real epochs and steps, why training stopped, history
    history.csv           one row per trained epoch (rewritten from the checkpoint on resume)
    samples/              samples_epoch_NNN.png after every epoch
    logs/                 TensorBoard logs (when tensorboard is installed)
    backup/               the last two epoch checkpoints (model + state), kept after the run ends
    backup/worker_K/      a non-chief worker's run.json and checkpoints (multi-worker runs)

Under ``--strategy multi_worker`` only the chief writes ``model.keras``, ``metrics.json``,
``history.csv``, ``samples/`` and ``logs/``; every other worker keeps only its own resumable
state, in ``backup/<task>_<index>/`` of its ``--workdir`` (which may be shared or its own disk).

Every file is written under a temporary name and renamed (``tfgen.callbacks.atomic_path``), so a
kill at any moment leaves complete files; ``--resume`` restarts from the newest checkpoint that
loads, falling back to the one before it when the newest is damaged.

Example:
    >>> import tempfile
    >>> work = tempfile.mkdtemp()
    >>> merge_metrics(work, "evaluate", {"nll": 80.0})
    >>> json.load(open(os.path.join(work, METRICS_FILE)))
    {'evaluate': {'nll': 80.0}}
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys

import numpy as np

from tfgen import data
from tfgen.callbacks import atomic_path, write_json
from zoo import presets

RUN_FILE, MODEL_FILE, METRICS_FILE = "run.json", "model.keras", "metrics.json"
HISTORY_FILE, BACKUP_DIR = "history.csv", "backup"


def own_dir(workdir: str, worker: str | None = None) -> str:
    """Where a process keeps its ``run.json``: ``workdir`` for the chief (``worker`` None),
    ``workdir/backup/<worker>`` for another worker of a multi-worker run."""
    return workdir if worker is None else os.path.join(workdir, BACKUP_DIR, worker)


def backup_dir(workdir: str, worker: str | None = None) -> str:
    """Where a process keeps its epoch checkpoints (see :func:`own_dir`).

    Example:
        >>> backup_dir("run"), backup_dir("run", "worker_1")
        ('run/backup', 'run/backup/worker_1')
    """
    return os.path.join(workdir, BACKUP_DIR) if worker is None else own_dir(workdir, worker)


class WorkdirError(RuntimeError):
    """A work directory that cannot be used as asked (exists without resume, missing, damaged)."""


def recipe_for(preset: presets.Preset, dataset=None, epochs=None, batch_size=None):
    """The preset with some recipe fields replaced (``None`` keeps the preset's)."""
    changes = {
        k: v
        for k, v in dict(dataset=dataset, epochs=epochs, batch_size=batch_size).items()
        if v is not None
    }
    name = changes.get("dataset")
    if name is not None and os.path.isdir(name):
        changes["dataset"] = os.path.abspath(name)  # a folder of images, found from any cwd
    elif name is not None and name not in data.DATASETS and not name.startswith("tfds:"):
        raise ValueError(
            f"dataset must be one of {list(data.DATASETS)}, tfds:NAME or a folder of images; "
            f"got {name!r}"
        )
    return preset.with_train(**changes) if changes else preset


def recipe_from_json(train: dict) -> presets.TrainRecipe:
    """The :class:`zoo.TrainRecipe` recorded in a ``run.json``."""
    if "scale" in train:
        train = dict(train, scale=tuple(train["scale"]))
    return presets.TrainRecipe(**train)


def epoch_seed(seed: int, epoch: int) -> int:
    """The data seed of one epoch (shuffle order, dynamic binarization), from the recipe's seed.

    Example:
        >>> epoch_seed(0, 3) == epoch_seed(0, 3) != epoch_seed(0, 4)
        True
    """
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0])


def split_dataset(recipe: presets.TrainRecipe, split: str, epoch: int = 0):
    """The recipe's ``split`` as ``tf.data``; ``train`` in the order of ``epoch``.

    The test split is the same for every training seed (binarized once with seed 0, the
    protocol of :mod:`zoo.protocols`), so runs of several seeds are measured on one test set.
    """
    common = dict(binarize=recipe.binarize, labels=recipe.labels, scale=recipe.scale)
    if split == "train":
        seed = epoch_seed(recipe.seed, epoch)
        return data.load(recipe.dataset, "train", batch_size=recipe.batch_size, seed=seed, **common)
    return data.load(recipe.dataset, "test", batch_size=recipe.eval_batch_size, seed=0, **common)


def can_sample(cls: type) -> bool:
    """Whether a ``tfgen.models`` class draws samples (autoencoders compress, they do not)."""
    from tfgen.models import GenerativeModel

    return getattr(cls, "sample", None) is not GenerativeModel.sample


def read_run(workdir: str) -> dict:
    """The ``run.json`` of a work directory: ``{"preset": name, "train": recipe fields}``.

    Raises:
        WorkdirError: ``workdir`` holds no run, or its ``run.json`` cannot be read.
    """
    path = os.path.join(workdir, RUN_FILE)
    if not os.path.isfile(path):
        raise WorkdirError(
            f"{workdir!r} is not a tfgen work directory (no {RUN_FILE}); run `tfgen train`"
        )
    try:
        with open(path) as f:
            run = json.load(f)
        run["preset"], run["train"]  # noqa: B018  (both must be there)
    except (ValueError, KeyError, TypeError) as e:
        raise WorkdirError(f"{path} is damaged ({type(e).__name__}: {e})") from None
    return run


def write_run(workdir: str, run: dict) -> None:
    """Writes ``run.json`` atomically."""
    write_json(os.path.join(workdir, RUN_FILE), run)


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
    write_json(path, metrics)


def write_history(workdir: str, rows: list[dict]) -> None:
    """Writes ``history.csv`` (one row per trained epoch) atomically from checkpoint rows."""
    columns = ["epoch", "steps"]
    for row in rows:
        columns += sorted(k for k in row if k not in columns)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    with atomic_path(os.path.join(workdir, HISTORY_FILE)) as tmp, open(tmp, "w") as f:
        f.write(buffer.getvalue())


def history_columns(rows: list[dict]) -> dict[str, list[float]]:
    """Rows as columns ``{"loss": [...], "val_loss": [...]}`` (``epoch`` and ``steps`` left out)."""
    names = []
    for row in rows:
        names += [k for k in row if k not in names and k not in ("epoch", "steps")]
    return {k: [float(r[k]) for r in rows if k in r] for k in names}


def load_run_model(workdir: str):
    """The model of a run: ``model.keras``, else the newest checkpoint in ``backup/`` that loads.

    A kill between the first checkpoint and its ``model.keras`` leaves ``model.keras`` missing;
    the checkpoint is then used, with a note on stderr.

    Raises:
        WorkdirError: no run, no epoch finished yet, or nothing that loads (one line).
    """
    from tfgen.callbacks import load_checkpoint

    read_run(workdir)
    path = os.path.join(workdir, MODEL_FILE)
    try:
        return load_model(path)
    except WorkdirError as e:
        error = e
    model, state = load_checkpoint(os.path.join(workdir, BACKUP_DIR))
    if model is not None:
        print(f"tfgen: {error}; using the checkpoint of epoch {state['epoch']}", file=sys.stderr)
        return model
    if not os.path.exists(path):
        raise WorkdirError(
            f"{workdir!r} has no {MODEL_FILE} yet: training has not finished an epoch "
            "(`tfgen train ... --resume` continues it)"
        )
    raise error


def load_model(path: str):
    """``keras.models.load_model(path)`` with one line naming the file and what is wrong.

    Raises:
        WorkdirError: the file is missing, truncated, not a ``.keras`` archive, or names a class
            that is not registered.
    """
    import keras

    import tfgen.models  # noqa: F401  (registers tfgen's classes)

    if not os.path.isfile(path):
        raise WorkdirError(f"{path} does not exist")
    try:
        return keras.models.load_model(path)
    except Exception as e:  # noqa: BLE001  (one line for any damage, not a traceback)
        text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise WorkdirError(f"{path} cannot be loaded: {text[:300]}") from None
