"""Your own images as ``tf.data``: a folder of image files, numpy arrays, a tfds name.

Each source ends in :func:`tfgen.pipeline.image_batches`, so it takes the options of the named
datasets (``batch_size``, ``binarize``, ``labels``, ``scale``, ``shuffle``, ``seed``) and follows
the same protocols. ``tfgen.data`` re-exports :func:`from_arrays`, :func:`from_directory` and
:func:`directory_arrays`; ``tfgen.data.load("tfds:NAME")`` reads a tensorflow-datasets name.

Value ranges: images are uint8 levels 0..255, or floats in [0, 1]; the loaders give models
float32 images in [0, 1] (``scale=(-1, 1)`` for GANs), binary with ``binarize``.
"""

from __future__ import annotations

import pathlib
from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from tfgen import checks, pipeline

COLOR_MODES = {"grayscale": "L", "rgb": "RGB", "auto": "RGB"}  # auto: grey if no pixel has colour
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
SPLITS = ("train", "test", "all")


def from_arrays(x, y=None, *, split: str = "train", **options) -> tf.data.Dataset:
    """Numpy images as a dataset, with the options of :func:`tfgen.data.load`.

    Args:
        x: images ``[N, H, W, C]``: uint8 levels 0..255, or floats in [0, 1].
        y: int class ids ``[N]`` (for ``labels=True``), or None.
        split: ``"train"`` (dynamic binarization resampled every epoch, shuffled) or ``"test"``
            (binarized once from ``seed``, in order).
        **options: ``batch_size``, ``binarize``, ``labels``, ``scale``, ``shuffle``, ``seed``,
            ``drop_remainder`` as :func:`tfgen.pipeline.image_batches`.

    Raises:
        ValueError: naming ``x``, ``y``, ``split`` or the option that is invalid.

    Example:
        >>> x = np.full([4, 2, 2, 1], 200, np.uint8)
        >>> float(next(iter(from_arrays(x, batch_size=4, binarize="static"))).numpy().max())
        1.0
    """
    checks.one_of("split", split, ("train", "test"))
    return pipeline.image_batches(x, y, split=split, **options)


def _read_image(path: pathlib.Path, mode: str, image_size) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(path) as image:
            image = image.convert(mode)
            if image_size is not None:
                image = image.resize((image_size[1], image_size[0]), Image.Resampling.BILINEAR)
            array = np.asarray(image, np.uint8)
    except OSError as e:
        raise ValueError(f"path holds {path.name}, which is not a readable image: {e}") from None
    return array[..., None] if array.ndim == 2 else array


def _image_files(root: pathlib.Path) -> tuple[list[pathlib.Path], list[int] | None, list[str]]:
    """Image files under ``root``; class sub-folders (sorted) give labels."""
    folders = sorted(p for p in root.iterdir() if p.is_dir())
    is_image = lambda p: p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES  # noqa: E731
    if not folders:
        return sorted(p for p in root.iterdir() if is_image(p)), None, []
    files, labels = [], []
    for label, folder in enumerate(folders):
        found = sorted(p for p in folder.rglob("*") if is_image(p))
        files += found
        labels += [label] * len(found)
    return files, labels, [f.name for f in folders]


def directory_arrays(
    path: str | pathlib.Path,
    *,
    split: str = "all",
    image_size: Sequence[int] | None = None,
    color_mode: str = "auto",
    test_fraction: float = 0.1,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """The images of a folder as uint8 arrays, with class labels from its sub-folders.

    Args:
        path: a folder of images (png, jpg, bmp, gif), or of class sub-folders of images (the
            sorted folder names are the classes 0, 1, ...).
        split: ``"train"``, ``"test"`` (a held-out ``test_fraction`` of the images, chosen by
            ``seed``) or ``"all"``.
        image_size: ``(height, width)`` every image is resized to; None requires one size.
        color_mode: ``"grayscale"`` (1 channel), ``"rgb"`` (3 channels) or ``"auto"`` (1 channel
            when every pixel of every image is grey, else 3).
        test_fraction: share of the images held out as ``"test"``, in [0, 1).
        seed: seed of the held-out choice.

    Returns:
        ``(x, y, class_names)``: uint8 ``[N, H, W, C]``, int32 labels ``[N]`` (None without class
        folders) and the class names.

    Raises:
        ValueError: naming ``path`` (missing, no images, an unreadable file, mixed sizes without
            ``image_size``), ``split``, ``image_size``, ``color_mode`` or ``test_fraction``.

    Example:
        >>> import tempfile
        >>> from PIL import Image
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> for i in range(4):
        ...     Image.new("L", (3, 2), color=60 * i).save(folder / f"{i}.png")
        >>> x, y, names = directory_arrays(folder, split="all")
        >>> x.shape, x.dtype.name, y, names
        ((4, 2, 3, 1), 'uint8', None, [])
    """
    checks.one_of("split", split, SPLITS)
    checks.one_of("color_mode", color_mode, tuple(COLOR_MODES))
    if image_size is not None:
        image_size = checks.positive_ints("image_size", image_size)
        if len(image_size) != 2:
            raise checks.fail("image_size", "(height, width)", image_size)
    test_fraction = checks.number_in("test_fraction", test_fraction, 0.0, 1.0, high_open=True)
    root = pathlib.Path(path)
    if not root.is_dir():
        raise checks.fail("path", "an existing folder of images", str(path))
    files, labels, names = _image_files(root)
    if not files:
        raise checks.fail("path", f"a folder holding {'/'.join(IMAGE_SUFFIXES)} images", str(path))
    images = [_read_image(f, COLOR_MODES[color_mode], image_size) for f in files]
    shapes = sorted({im.shape for im in images})
    if len(shapes) > 1:
        raise checks.fail("path", "images of one size (or pass image_size=(H, W))", str(shapes))
    x, y = np.stack(images), None if labels is None else np.asarray(labels, np.int32)
    if color_mode == "auto" and (x == x[..., :1]).all():
        x = np.ascontiguousarray(x[..., :1])
    if split != "all":
        order = np.random.default_rng(seed).permutation(len(x))
        held_out = int(round(test_fraction * len(x)))
        part = order[len(x) - held_out :] if split == "test" else order[: len(x) - held_out]
        if not len(part):
            what = "a fraction that leaves images in both splits"
            raise checks.fail("test_fraction", what, test_fraction)
        part = np.sort(part)
        x, y = x[part], None if y is None else y[part]
    return x, y, names


def from_directory(
    path: str | pathlib.Path,
    split: str = "train",
    *,
    image_size: Sequence[int] | None = None,
    color_mode: str = "auto",
    test_fraction: float = 0.1,
    **options,
) -> tf.data.Dataset:
    """A folder of images as a dataset (:func:`directory_arrays` then :func:`from_arrays`).

    The held-out choice and the pipeline share ``options["seed"]`` (default 0).

    Example:
        >>> import tempfile
        >>> from PIL import Image
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> for name in ("cats", "dogs"):
        ...     (folder / name).mkdir()
        ...     for i in range(5):
        ...         Image.new("RGB", (4, 4), color=(50 * i, 0, 0)).save(folder / name / f"{i}.png")
        >>> ds = from_directory(folder, "test", color_mode="rgb", test_fraction=0.2,
        ...                     batch_size=8, labels=True)
        >>> x, y = next(iter(ds))
        >>> x.shape, sorted(y.numpy().tolist())
        (TensorShape([2, 4, 4, 3]), [0, 1])
    """
    if split == "all":
        raise checks.fail("split", "'train' or 'test' for a dataset", split)
    x, y, _ = directory_arrays(
        path,
        split=split,
        image_size=image_size,
        color_mode=color_mode,
        test_fraction=test_fraction,
        seed=options.get("seed", 0),
    )
    return from_arrays(x, y, split=split, **options)


def tfds_arrays(name: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """A tensorflow-datasets split as uint8 images and int32 labels (tfds and a network needed).

    Raises:
        ValueError: naming ``name`` when tensorflow-datasets is not installed or cannot provide
            the dataset (offline, unknown name), in one line.
    """
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        what = 'a tensorflow-datasets name with tfds installed (pip install ".[data]")'
        raise checks.fail("name", what, f"tfds:{name}") from None
    try:
        ds = tfds.load(name, split=split, batch_size=-1, as_supervised=True)
        x, y = tfds.as_numpy(ds)
    except Exception as e:  # noqa: BLE001  (offline, unknown name: one line, not a traceback)
        first = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
        what = "a tfds dataset available here"
        raise checks.fail("name", what, f"tfds:{name} ({first})") from None
    return np.asarray(x, np.uint8), np.asarray(y, np.int32)


__all__ = [
    "COLOR_MODES",
    "directory_arrays",
    "from_arrays",
    "from_directory",
    "tfds_arrays",
]
