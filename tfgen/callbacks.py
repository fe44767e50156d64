"""Keras callbacks: sample grids (PNG files, TensorBoard images), a time budget, and (from
:mod:`tfgen.checkpoints`, re-exported here) resumable checkpoints that survive a kill at any
moment.

Every file is written to a temporary name and renamed over the target (atomic), so a kill leaves
the previous complete file or the new one, never half of one.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf
from PIL import Image

from tfgen import checks
from tfgen.checkpoints import (  # noqa: F401  (re-exported: the public home of these names)
    EpochCheckpoint,
    atomic_path,
    fault_point,
    load_checkpoint,
    seed_generators,
    write_json,
)


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
        if not all(np.isfinite(float(v)) for v in (logs or {}).values()):
            return  # no grid for an epoch that went non-finite (tfgen.guards)
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
        agree: for multi-worker training, ``agree(over) -> bool`` called by every worker after
            every batch: whether any worker is over its budget (e.g.
            ``functools.partial(tfgen.distribute.any_worker, strategy)``), so all stop together.

    Example:
        >>> budget = TimeBudget(minutes=10)
        >>> budget.seconds, budget.stopped
        (600.0, False)
    """

    def __init__(self, minutes: float, agree: Callable[[bool], bool] | None = None):
        super().__init__()
        self.agree = agree
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
        over = self.elapsed >= self.seconds
        if self.agree(over) if self.agree is not None else over:
            self.stopped = True
            self.model.stop_training = True
