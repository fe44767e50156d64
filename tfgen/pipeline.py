"""Images in memory to a ``tf.data`` pipeline: binarization protocols, scaling, batching.

:func:`image_batches` is what every loader of :mod:`tfgen.data` ends in (the named datasets,
folders of images, numpy arrays), so each source gets the same options and protocols:

* ``binarize="static"``: threshold at 0.5, as the TF tutorial.
* ``binarize="dynamic"``: a ``"train"`` split is resampled ``x ~ Bernoulli(pixel)`` every epoch;
  any other split is sampled once with ``numpy.random.default_rng(seed)``, so every evaluation
  sees the same binary images.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from tfgen import checks

BINARIZE = (None, "static", "dynamic")


def check_images(x, name: str = "x") -> np.ndarray:
    """``x`` as a numpy image array ``[N, H, W, C]``: uint8 levels 0..255 or floats in [0, 1].

    Raises:
        ValueError: naming ``name`` for another rank, an empty array, a dtype that is neither
            uint8 nor float, or float values that are not finite or outside [0, 1].

    Example:
        >>> check_images(np.zeros([2, 4, 4, 1], np.uint8)).shape
        (2, 4, 4, 1)
        >>> check_images(np.zeros([2, 2]))
        Traceback (most recent call last):
        ...
        ValueError: x must be a non-empty image array [N, H, W, C]; got shape [2, 2]
    """
    x = np.asarray(x)
    if x.ndim != 4 or not x.size:
        raise checks.fail_described(
            name, "a non-empty image array [N, H, W, C]", f"shape {list(x.shape)}"
        )
    what = "uint8 levels 0..255 or finite floats in [0, 1]"
    if x.dtype == np.uint8:
        return x
    if not np.issubdtype(x.dtype, np.floating):
        raise checks.fail_described(name, what, f"dtype {x.dtype}")
    low, high = float(np.min(x)), float(np.max(x))
    if not (np.isfinite(low) and np.isfinite(high) and low >= 0.0 and high <= 1.0):
        raise checks.fail_described(name, what, f"floats in [{low}, {high}]")
    return x.astype(np.float32, copy=False)


def fixed_binarization(x: np.ndarray, seed: int) -> np.ndarray:
    """``x`` binarized once, ``Bernoulli(pixel)`` from ``seed``: uint8 in {0, 255}.

    Example:
        >>> fixed_binarization(np.array([[[[0], [255]]]], np.uint8), seed=0).ravel().tolist()
        [0, 255]
    """
    u = np.random.default_rng(seed).random(x.shape, dtype=np.float32)
    p = x / np.float32(255.0) if x.dtype == np.uint8 else x
    return np.where(u < p, 255, 0).astype(np.uint8)


def image_batches(
    x: np.ndarray,
    y: np.ndarray | None = None,
    *,
    split: str = "train",
    batch_size: int | None = None,
    binarize: str | None = None,
    labels: bool = False,
    scale: Sequence[float] = (0.0, 1.0),
    shuffle: bool | None = None,
    seed: int = 0,
    drop_remainder: bool = False,
) -> tf.data.Dataset:
    """A ``tf.data.Dataset`` of float32 images (and int32 labels) from images in memory.

    Batches are gathered from the whole array by shuffled index, which is much cheaper per image
    than an element-wise ``shuffle(buffer)``; conversion to float, binarization and scaling run
    once per batch.

    Args:
        x: images ``[N, H, W, C]``, uint8 levels 0..255 or floats in [0, 1].
        y: int class ids ``[N]`` (needed with ``labels=True``).
        split: ``"train"`` resamples dynamic binarization every epoch and shuffles by default;
            any other split is binarized once and kept in order.
        batch_size: images per batch; None yields single images ``[H, W, C]``.
        binarize: None, ``"static"`` or ``"dynamic"`` (module docstring).
        labels: yield ``(x, y)`` instead of ``x``.
        scale: ``(low, high)`` that 0 and 1 map to, e.g. ``(-1, 1)`` for GANs.
        shuffle: reshuffle every epoch; default True for ``"train"``, False otherwise.
        seed: seed of the shuffle and of dynamic binarization (results are reproducible).
        drop_remainder: drop the last incomplete batch.

    Returns:
        ``tf.data.Dataset`` of ``[B, H, W, C]`` float32 (or ``[H, W, C]`` unbatched), prefetched.

    Raises:
        ValueError: naming ``x``, ``y``, ``binarize``, ``batch_size``, ``labels`` or ``scale``.

    Example:
        >>> x = np.arange(4 * 2 * 2, dtype=np.uint8).reshape([4, 2, 2, 1]) * 16
        >>> ds = image_batches(x, np.arange(4), split="test", batch_size=3, labels=True)
        >>> [(tuple(b.shape), l.numpy().tolist()) for b, l in ds]
        [((3, 2, 2, 1), [0, 1, 2]), ((1, 2, 2, 1), [3])]
    """
    checks.one_of("binarize", binarize, BINARIZE)
    checks.optional_positive_int("batch_size", batch_size)
    if len(tuple(scale)) != 2 or float(scale[0]) >= float(scale[1]):
        raise checks.fail("scale", "(low, high) with low < high", scale)
    x = check_images(x)
    if labels:
        if y is None:
            raise checks.fail("labels", "False for images without class labels", labels)
        y = np.asarray(y)
        if y.shape != (len(x),) or not np.issubdtype(y.dtype, np.integer):
            raise checks.fail_described(
                "y", f"int class ids of shape [{len(x)}]", f"{y.dtype} {list(y.shape)}"
            )
    resample = binarize == "dynamic" and split == "train"
    if binarize == "dynamic" and not resample:
        x = fixed_binarization(x, seed)
    n = len(x)
    shuffle = split == "train" if shuffle is None else bool(shuffle)
    x_all = tf.constant(x)
    y_all = tf.constant(np.asarray(y, np.int32)) if labels else None
    to_unit = 1.0 / 255.0 if x.dtype == np.uint8 else 1.0

    indices = tf.data.Dataset.range(n)
    if shuffle:
        indices = indices.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    if batch_size is not None:
        indices = indices.batch(batch_size, drop_remainder=drop_remainder)
    low, high = (float(v) for v in scale)

    def gather(idx, element_seed):
        x = tf.cast(tf.gather(x_all, idx), tf.float32) * to_unit
        if binarize == "static":
            x = tf.cast(x > 0.5, tf.float32)
        elif resample:
            u = tf.random.stateless_uniform(tf.shape(x), seed=tf.cast(element_seed, tf.int32))
            x = tf.cast(u < x, tf.float32)
        if (low, high) != (0.0, 1.0):
            x = low + (high - low) * x
        return (x, tf.gather(y_all, idx)) if labels else x

    # One stateless seed per batch, fresh every epoch: dynamic binarization resamples each epoch
    # and is still reproducible from `seed`. (Dynamic test images were fixed above.)
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
    ds = tf.data.Dataset.zip((indices, seeds)).map(gather, num_parallel_calls=2)
    # Fixed parallelism and buffers, autotuning off: one gather per batch needs no tuning, and
    # the autotuner's threads made dropping an iterator at each epoch end stall for seconds on
    # a 2-core CPU (zoo/RESULTS.md). Callers may re-enable it with `ds.with_options(...)`.
    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.prefetch(2).with_options(options)


__all__ = ["BINARIZE", "check_images", "fixed_binarization", "image_batches"]
