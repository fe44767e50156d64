"""Keras callbacks: sample grids (PNG files, TensorBoard images), a time budget, and resumable
checkpoints that survive a kill at any moment.

Every file is written to a temporary name and renamed over the target (atomic), so a kill leaves
the previous complete file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import glob
import json
import math
import os
import re
import shutil
import signal
import time
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf
from PIL import Image

from tfgen import checks


def image_grid(
    images, ncols: int | None = None, value_range: Sequence[float] = (0.0, 1.0), pad: int = 1
):
    """Tiles ``[N, H, W, C]`` images into one uint8 grid image.

    The grid has shape ``[rows*(H+pad)+pad, cols*(W+pad)+pad, C]``.

    Args:
        images: array-like of images (C is 1 or 3).
        ncols: images per row; default ``ceil(sqrt(N))``.
        value_range: the ``(low, high)`` that maps to black and white.
        pad: pixels of grey between images.

    Example:
        >>> image_grid(np.zeros([4, 8, 8, 1])).shape
        (19, 19, 1)
    """
    x = np.asarray(images, np.float32)
    if x.ndim != 4:
        raise ValueError(f"images must have shape [N, H, W, C]; got {x.shape}")
    n, h, w, c = x.shape
    ncols = ncols or math.ceil(math.sqrt(n))
    nrows = math.ceil(n / ncols)
    low, high = value_range
    x = np.clip((x - low) / (high - low), 0.0, 1.0)
    grid = np.full([nrows * (h + pad) + pad, ncols * (w + pad) + pad, c], 0.5, np.float32)
    for i in range(n):
        r, col = divmod(i, ncols)
        top, left = pad + r * (h + pad), pad + col * (w + pad)
        grid[top : top + h, left : left + w] = x[i]
    return np.round(grid * 255).astype(np.uint8)


def save_image_grid(
    images, path: str, ncols: int | None = None, value_range=(0.0, 1.0), scale: int = 2
) -> str:
    """Writes :func:`image_grid` of ``images`` as a PNG, upscaled ``scale`` times; returns ``path``.

    Example:
        >>> import tempfile
        >>> p = save_image_grid(np.ones([2, 8, 8, 1]), tempfile.mkdtemp() + "/grid.png")
        >>> Image.open(p).size
        (38, 20)
    """
    grid = image_grid(images, ncols=ncols, value_range=value_range)
    img = Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid)
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with atomic_path(path) as tmp:
        img.save(tmp, format="PNG")
    return path


_FAULT_HITS: dict[str, int] = {}


def fault_point(name: str, path: str | None = None) -> None:
    """Test hook: SIGKILLs this process at the point ``name`` when ``$TFGEN_FAULT`` names it.

    ``$TFGEN_FAULT`` is ``name`` (first time the point is reached) or ``name#k`` (k-th time). With
    ``path``, the file is first cut to half its size, as a kill while writing it would leave it.
    """
    wanted, _, count = os.environ.get("TFGEN_FAULT", "").partition("#")
    _FAULT_HITS[name] = _FAULT_HITS.get(name, 0) + 1
    if wanted != name or _FAULT_HITS[name] != int(count or 1):
        return
    if path is not None and os.path.isfile(path):
        os.truncate(path, os.path.getsize(path) // 2)
    os.kill(os.getpid(), signal.SIGKILL)


@contextlib.contextmanager
def atomic_path(path: str):
    """Yields a temporary name next to ``path``; on success it is flushed and renamed to ``path``.

    The temporary name keeps ``path``'s extension (Keras checks it) and starts with ``.tmp-``; on an
    error it is removed and ``path`` is left as it was.

    Example:
        >>> import tempfile
        >>> target = os.path.join(tempfile.mkdtemp(), "a.txt")
        >>> with atomic_path(target) as tmp:
        ...     _ = open(tmp, "w").write("done")
        >>> open(target).read()
        'done'
    """
    head, tail = os.path.split(os.path.abspath(path))
    tmp = os.path.join(head, f".tmp-{os.getpid()}-{tail}")
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        fault_point("write:" + tail, tmp)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)


def write_json(path: str, obj) -> None:
    """Writes ``obj`` as JSON to ``path`` atomically (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True)


def sample_images(model, num_samples: int, seed: int | None = None, **sample_kwargs) -> np.ndarray:
    """``model.sample`` as numpy; conditional models get labels ``0, 1, ..., K-1, 0, ...`` unless
    ``labels`` is given."""
    if getattr(model, "conditional", False) and "labels" not in sample_kwargs:
        sample_kwargs["labels"] = np.arange(num_samples, dtype=np.int32) % model.num_classes
    return np.asarray(model.sample(num_samples, seed=seed, **sample_kwargs))


class SampleGrid(keras.callbacks.Callback):
    """Saves a grid of ``model.sample(num_samples, seed=seed)`` after every epoch.

    Conditional models sample labels ``0, 1, ..., K-1, 0, ...`` unless ``labels`` is given.

    The same seed every epoch shows how the same latent draws evolve. Files are
    ``{directory}/samples_epoch_{epoch:03d}.png``; with ``log_dir`` the grid also goes to
    TensorBoard (``samples`` image summary), when TensorBoard is installed.

    Args:
        directory: where PNGs are written.
        num_samples: images per grid.
        seed: sampling seed.
        log_dir: optional TensorBoard log directory.
        value_range: the data range of the model's images (``(-1, 1)`` for GANs).
        **sample_kwargs: passed to ``model.sample`` (e.g. ``mean=True``, ``labels=...``).

    Example:
        >>> cb = SampleGrid("/tmp/grids", num_samples=16, mean=True)
    """

    def __init__(
        self,
        directory: str,
        num_samples: int = 64,
        seed: int = 0,
        log_dir: str | None = None,
        value_range=(0.0, 1.0),
        **sample_kwargs,
    ):
        super().__init__()
        self.directory, self.num_samples, self.seed = directory, num_samples, seed
        self.log_dir, self.value_range, self.sample_kwargs = log_dir, value_range, sample_kwargs
        self.last_path: str | None = None

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        images = sample_images(self.model, self.num_samples, self.seed, **self.sample_kwargs)
        self.last_path = save_image_grid(
            images,
            os.path.join(self.directory, f"samples_epoch_{epoch + 1:03d}.png"),
            value_range=self.value_range,
        )
        if self.log_dir:
            grid = image_grid(images, value_range=self.value_range)
            with tf.summary.create_file_writer(os.path.join(self.log_dir, "samples")).as_default():
                tf.summary.image("samples", grid[None], step=epoch + 1)


class TimeBudget(keras.callbacks.Callback):
    """Stops training once ``minutes`` of training time have passed (checked after every batch).

    Time counts from the first ``fit`` call that uses this callback (one budget can span several
    calls, e.g. one per epoch); tracing, validation and other callbacks spend it too. The epoch in
    progress ends early (Keras runs its epoch-end callbacks and validation) and training stops.

    Attributes:
        elapsed: seconds used so far.
        first_step_seconds: seconds the first batch took (mostly tracing the train step).
        stopped: whether the budget stopped training.

    Args:
        minutes: the budget (> 0).

    Example:
        >>> budget = TimeBudget(minutes=10)
        >>> budget.seconds, budget.stopped
        (600.0, False)
    """

    def __init__(self, minutes: float):
        super().__init__()
        self.seconds = checks.positive_number("minutes", minutes) * 60.0
        self.start: float | None = None
        self.elapsed = 0.0
        self.first_step_seconds: float | None = None
        self.stopped = False

    def on_train_begin(self, logs=None) -> None:
        if self.start is None:
            self.start = time.perf_counter()
        if self.stopped:
            self.model.stop_training = True

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        self.elapsed = time.perf_counter() - self.start
        if self.first_step_seconds is None:
            self.first_step_seconds = self.elapsed
        if self.elapsed >= self.seconds:
            self.stopped = True
            self.model.stop_training = True


def _seed_generators(model) -> list:
    found = []
    for layer in model._flatten_layers(include_self=True):
        found += [g for g in getattr(layer, "_seed_generators", []) if g not in found]
    return found


class EpochCheckpoint(keras.callbacks.Callback):
    """Saves the whole training state after every epoch, atomically, keeping the last ``keep``.

    Files: ``{directory}/epoch_NNNN.keras`` (model, optimizer state, the model's random stream)
    then ``epoch_NNNN.json`` (finished epochs, optimizer steps, the per-epoch ``history`` rows and
    every ``keras.random.SeedGenerator`` state of the model, e.g. dropout's), each written under a
    temporary name and renamed; an epoch counts only once both exist. With ``model_path`` the
    newest model is also put there (a hard link, or a copy), atomically. Unlike Keras'
    ``BackupAndRestore`` nothing is deleted when ``fit`` ends, so a finished run can be extended.
    Resume with :func:`load_checkpoint`. An epoch whose logs are not finite is not saved:
    training stops and ``refused`` holds that epoch (the previous checkpoint stays the newest).

    Args:
        directory: where checkpoints go (created).
        keep: how many checkpoints to keep (>= 2 keeps a fallback for a damaged newest one).
        model_path: optional path that always holds the newest model (``.keras``).
        history: the rows of epochs already trained (from :func:`load_checkpoint`), continued.
        extra_state: optional callable returning more JSON entries for each checkpoint's state.

    Example:
        >>> cb = EpochCheckpoint("/tmp/run/backup", keep=2, model_path="/tmp/run/model.keras")
    """

    def __init__(
        self, directory: str, keep: int = 2, model_path=None, history=(), extra_state=None
    ):
        super().__init__()
        self.extra_state, self.refused = extra_state, None
        self.directory, self.model_path = directory, model_path
        self.keep = checks.positive_int("keep", keep)
        self.history = [dict(row) for row in history]

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if not all(np.isfinite(float(v)) for v in (logs or {}).values()):
            self.refused = epoch  # never replace a good checkpoint with non-finite weights
            self.model.stop_training = True
            return
        os.makedirs(self.directory, exist_ok=True)
        stem = os.path.join(self.directory, f"epoch_{epoch + 1:04d}")
        steps = int(self.model.optimizer.iterations.numpy()) if self.model.optimizer else 0
        row = {"epoch": epoch, "steps": steps, **{k: float(v) for k, v in (logs or {}).items()}}
        self.history = [r for r in self.history if r["epoch"] < epoch] + [row]
        with atomic_path(stem + ".keras") as tmp:
            self.model.save(tmp)
        seeds = [np.asarray(g.state.numpy()).tolist() for g in _seed_generators(self.model)]
        state = {"epoch": epoch + 1, "steps": steps, "history": self.history, "seeds": seeds}
        state.update(self.extra_state() if self.extra_state else {})
        write_json(stem + ".json", state)
        self.publish(epoch + 1)
        for old in _checkpoints(self.directory)[self.keep :]:
            for ext in (".json", ".keras"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(old + ext)

    def publish(self, epoch: int) -> None:
        """Puts checkpoint ``epoch`` at ``model_path``: a hard link (or copy), renamed over it."""
        source = os.path.join(self.directory, f"epoch_{epoch:04d}.keras")
        if not self.model_path or (
            os.path.exists(self.model_path) and os.path.samefile(source, self.model_path)
        ):
            return  # (renaming a hard link over its twin would do nothing)
        tmp = os.path.join(os.path.dirname(self.model_path), ".tmp-link-model.keras")
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)  # left by a kill
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
        fault_point("link:" + os.path.basename(self.model_path))
        os.replace(tmp, self.model_path)


def _checkpoints(directory: str) -> list[str]:
    """Checkpoint stems (``.../epoch_NNNN``) in ``directory``, newest first."""
    names = glob.glob(os.path.join(glob.escape(directory), "epoch_*.json"))
    stems = [
        n[: -len(".json")] for n in names if re.fullmatch(r"epoch_\d+\.json", os.path.basename(n))
    ]
    return sorted(stems, reverse=True)


def load_checkpoint(directory: str, on_skip=None):
    """The newest checkpoint of an :class:`EpochCheckpoint` that loads, with its state.

    A damaged checkpoint (truncated, unreadable) is skipped for the one before it; ``on_skip`` is
    called with a one-line reason for each one skipped. The model's random streams are restored.

    Returns:
        ``(model, state)`` with ``state["epoch"]`` finished epochs, ``state["steps"]`` and
        ``state["history"]``; ``(None, None)`` when no checkpoint loads.
    """
    for stem in _checkpoints(directory):
        try:
            with open(stem + ".json") as f:
                state = json.load(f)
            model = keras.models.load_model(stem + ".keras")
            generators = _seed_generators(model)
            if len(generators) != len(state["seeds"]):
                raise ValueError("its random-stream states do not match the model")
            for generator, value in zip(generators, state["seeds"], strict=True):
                generator.state.assign(np.asarray(value, generator.state.dtype))
        except Exception as e:  # noqa: BLE001  (any damage means: try the previous one)
            if on_skip is not None:
                reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                on_skip(f"skipped damaged checkpoint {stem}.keras ({reason[:200]})")
            continue
        return model, state
    return None, None
