"""Image datasets as ``tf.data``: offline sources first, never a download at test time.

Sources, in order of preference:

* ``fashion_mnist``/``mnist``: IDX files (``train-images-idx3-ubyte[.gz]`` ...) in
  ``$TFGEN_DATA_DIR`` (or its ``fashion_mnist``/``fashion-mnist``/``mnist`` subfolder), then
  Debian's packages (``apt-get install dataset-fashion-mnist`` puts them in
  ``/usr/share/datasets/fashion-mnist``), then TensorFlow Datasets when it is installed and the
  data is already prepared or can be downloaded.
* ``digits``: scikit-learn's bundled 8x8 handwritten digits (1,797 real images, no download),
  scaled to 0..255; the first 1,437 are ``train``, the last 360 ``test``.
* ``synthetic``: 8x8 bars and boxes in 4 classes, generated from a fixed seed (unit tests only).
* ``"tfds:NAME"``: any tensorflow-datasets name, when tfds and a network are there (refused with
  one line otherwise).
* a folder path: its images (class sub-folders give labels), 10% held out as ``test`` (seed 0);
  read once per process.

Your own images: :func:`from_directory` (a folder, class sub-folders give labels, a held-out split
by fraction and seed) and :func:`from_arrays` (numpy arrays), from :mod:`tfgen.user_data`, take the
same options and protocols (the pipeline is :func:`tfgen.pipeline.image_batches`).

Binarization protocols (name the one you use next to any number you report):

* ``"static"``: threshold at 0.5, as the TF tutorial.
* ``"dynamic"``: train images are resampled ``x ~ Bernoulli(pixel)`` every epoch; the test split
  is sampled once with a fixed seed (``seed``), so every evaluation sees the same binary images.
"""

from __future__ import annotations

import functools
import gzip
import os
import pathlib

import numpy as np
import tensorflow as tf

from tfgen import checks, pipeline
from tfgen.user_data import directory_arrays as directory_arrays  # re-exported
from tfgen.user_data import from_arrays as from_arrays  # re-exported
from tfgen.user_data import from_directory as from_directory  # re-exported
from tfgen.user_data import tfds_arrays

DATASETS = ("fashion_mnist", "mnist", "digits", "synthetic")
SPLITS = ("train", "test")
BINARIZE = pipeline.BINARIZE
TFDS_PREFIX = "tfds:"  # load("tfds:cifar10"): any tensorflow-datasets name (tfds and network)
DEBIAN_DIRS = {
    "fashion_mnist": "/usr/share/datasets/fashion-mnist",
    "mnist": "/usr/share/datasets/mnist",
}
_IDX_FILES = {"train": "train-{}-idx{}-ubyte", "test": "t10k-{}-idx{}-ubyte"}
_DIGITS_TRAIN = 1437
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip


class DatasetNotFoundError(FileNotFoundError):
    """Raised when no offline copy of a dataset exists and tfds cannot provide it."""


def event_shape(name: str) -> tuple[int, int, int]:
    """``(H, W, C)`` of a dataset's images.

    Example:
        >>> event_shape("digits")
        (8, 8, 1)
    """
    if name.startswith(TFDS_PREFIX) or os.path.isdir(name):
        return tuple(load_arrays(name)[0].shape[1:])
    checks.one_of("name", name, DATASETS)
    return (28, 28, 1) if name in ("fashion_mnist", "mnist") else (8, 8, 1)


def num_classes(name: str) -> int:
    """Number of label classes of a dataset (10, 4 for ``synthetic``; a folder's class folders).

    Example:
        >>> num_classes("digits")
        10
    """
    if name.startswith(TFDS_PREFIX) or os.path.isdir(name):
        return int(load_arrays(name)[1].max()) + 1
    checks.one_of("name", name, DATASETS)
    return 4 if name == "synthetic" else 10


def _read_idx(path: pathlib.Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = np.frombuffer(raw, dtype=">u4", count=ndim, offset=4).astype(int)
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _idx_dirs(name: str) -> list[pathlib.Path]:
    dirs = []
    if os.environ.get("TFGEN_DATA_DIR"):
        root = pathlib.Path(os.environ["TFGEN_DATA_DIR"])
        dirs += [root / name, root / name.replace("_", "-"), root]
    dirs.append(pathlib.Path(DEBIAN_DIRS[name]))
    return dirs


def _find_idx(name: str, split: str, kind: str, ndim: int) -> pathlib.Path | None:
    stem = _IDX_FILES[split].format(kind, ndim)
    for d in _idx_dirs(name):
        for candidate in (d / stem, d / f"{stem}.gz"):
            if candidate.is_file():
                return candidate
    return None


def _load_tfds(name: str, split: str):
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        return None
    ds = tfds.load(name, split=split, batch_size=-1, as_supervised=True)
    x, y = tfds.as_numpy(ds)
    return x.astype(np.uint8), y.astype(np.int32)


def _missing(name: str) -> DatasetNotFoundError:
    apt = "dataset-fashion-mnist" if name == "fashion_mnist" else None
    hints = [f"put the IDX files in $TFGEN_DATA_DIR (or $TFGEN_DATA_DIR/{name})"]
    if apt:
        hints.insert(0, f"`apt-get install {apt}` (files in {DEBIAN_DIRS[name]})")
    hints.append(
        'or `pip install ".[data]"` in a checkout of this project (distribution tfgen-zoo) '
        "with network access so tensorflow-datasets can fetch it"
    )
    return DatasetNotFoundError(f"dataset {name!r} not found offline; " + ", ".join(hints))


def _synthetic(split: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0 if split == "train" else 1)
    n = 512 if split == "train" else 128
    y = rng.integers(0, 4, size=n).astype(np.int32)
    x = np.zeros([n, 8, 8, 1], np.uint8)
    pos = rng.integers(1, 6, size=(n, 2))
    for i, (label, (r, c)) in enumerate(zip(y, pos, strict=True)):
        if label == 0:
            x[i, r, 1:7] = 255  # horizontal bar
        elif label == 1:
            x[i, 1:7, c] = 255  # vertical bar
        elif label == 2:
            x[i, r - 1 : r + 2, c - 1 : c + 2] = 255  # 3x3 box
        else:
            x[i, np.arange(8), np.arange(8)] = 255  # diagonal
    return x, y


@functools.lru_cache(maxsize=8)
def _load_arrays_cached(name: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    if name == "synthetic":
        return _synthetic(split)
    if name == "digits":
        from sklearn.datasets import load_digits

        digits = load_digits()
        x = np.round(digits.images * (255.0 / 16.0)).astype(np.uint8)[..., None]
        y = digits.target.astype(np.int32)
        part = slice(None, _DIGITS_TRAIN) if split == "train" else slice(_DIGITS_TRAIN, None)
        return x[part], y[part]
    images, labels = _find_idx(name, split, "images", 3), _find_idx(name, split, "labels", 1)
    if images is not None and labels is not None:
        return _read_idx(images)[..., None], _read_idx(labels).astype(np.int32)
    found = _load_tfds(name, split)
    if found is None:
        raise _missing(name)
    return found


def load_arrays(name: str, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """A dataset split as numpy arrays.

    Args:
        name: one of ``DATASETS``, ``"tfds:NAME"`` (a tensorflow-datasets name) or the path of
            a folder of images (:func:`directory_arrays`: class sub-folders give labels, 10% of
            the images, chosen with seed 0, are ``"test"``).
        split: ``"train"`` or ``"test"``.

    Returns:
        ``(x, y)``: uint8 images ``[N, H, W, C]`` in 0..255 and int32 labels ``[N]`` (read-only).

    Raises:
        ValueError: for an unknown ``name`` or ``split``, listing the valid ones.
        DatasetNotFoundError: when no offline copy exists, saying how to install one.

    Example:
        >>> x, y = load_arrays("digits", "test")
        >>> x.shape, x.dtype, y[:3].tolist()
        ((360, 8, 8, 1), dtype('uint8'), [2, 3, 4])
    """
    checks.one_of("split", split, SPLITS)
    if name.startswith(TFDS_PREFIX):
        x, y = _tfds_cached(name[len(TFDS_PREFIX) :], split)
    elif os.path.isdir(name):
        x, y = _directory_cached(os.path.abspath(name), split)
    else:
        checks.one_of("name", name, DATASETS)
        x, y = _load_arrays_cached(name, split)
    x.flags.writeable = False
    return x, y


@functools.lru_cache(maxsize=4)
def _directory_cached(path: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """A folder's split (10% held out as ``"test"``, seed 0); no class folders: all class 0."""
    x, y, _ = directory_arrays(path, split=split)
    return x, np.zeros(len(x), np.int32) if y is None else y


@functools.lru_cache(maxsize=4)
def _tfds_cached(name: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    return tfds_arrays(name, split)


def load(
    name: str,
    split: str = "train",
    *,
    batch_size: int | None = None,
    binarize: str | None = None,
    labels: bool = False,
    scale: tuple[float, float] = (0.0, 1.0),
    shuffle: bool | None = None,
    seed: int = 0,
    drop_remainder: bool = False,
) -> tf.data.Dataset:
    """A dataset split as a ``tf.data.Dataset`` of float32 images (and int32 labels).

    Batches are gathered from the whole split held in memory (uint8) by shuffled index, which is
    much cheaper per image than an element-wise ``shuffle(buffer)``; conversion to float,
    binarization and scaling run once per batch.

    Args:
        name: one of ``DATASETS``, ``"tfds:NAME"`` (a tensorflow-datasets name) or the path of
            a folder of images (:func:`directory_arrays`: class sub-folders give labels, 10% of
            the images, chosen with seed 0, are ``"test"``).
        split: ``"train"`` or ``"test"``.
        batch_size: images per batch; None yields single images ``[H, W, C]``.
        binarize: None, ``"static"`` (threshold 0.5) or ``"dynamic"`` (Bernoulli resampling per
            epoch for train; one fixed sample, from ``seed``, for test).
        labels: yield ``(x, y)`` with int32 class ids instead of ``x``.
        scale: ``(low, high)`` that 0 and 1 (or 0 and 255 before binarization) map to, e.g.
            ``(-1, 1)`` for GANs.
        shuffle: reshuffle every epoch; default True for train, False for test.
        seed: seed of the shuffle and of dynamic binarization (results are reproducible).
        drop_remainder: drop the last incomplete batch.

    Returns:
        ``tf.data.Dataset`` of ``[B, H, W, C]`` float32 (or ``[H, W, C]`` when unbatched),
        prefetched.

    Raises:
        ValueError: for an unknown ``name``, ``split``, ``binarize``, a bad ``batch_size`` or
            ``scale``, listing what is allowed.
        DatasetNotFoundError: when no offline copy exists, saying how to install one.

    Example:
        >>> ds = load("digits", "train", batch_size=32, binarize="static", labels=True)
        >>> x, y = next(iter(ds))
        >>> x.shape, x.dtype.name, y.dtype.name
        (TensorShape([32, 8, 8, 1]), 'float32', 'int32')
    """
    x, y = load_arrays(name, split)
    return pipeline.image_batches(
        x,
        y,
        split=split,
        batch_size=batch_size,
        binarize=binarize,
        labels=labels,
        scale=scale,
        shuffle=shuffle,
        seed=seed,
        drop_remainder=drop_remainder,
    )
