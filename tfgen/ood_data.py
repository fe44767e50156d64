"""Out-of-distribution test sets for 28x28 grey-level models, all offline.

* ``digits``: scikit-learn's 1,797 bundled handwritten digits (8x8, 17 grey levels) resized to a
  20x20 box centred in 28x28, as MNIST's digits are (real handwriting, no download).
* ``fashion_mnist`` with one class held out (:func:`held_out_class`): train on nine classes,
  the tenth is the novelty.
* corruptions of a test set (:func:`corrupt`): ``noise`` (a fraction of pixels replaced by
  uniform random levels), ``inverted``, ``rotated`` (90 degrees), ``blurred`` (3x3 box blur
  twice) and ``constant`` (every pixel one random level per image).

Every function returns uint8 images ``[N, H, W, 1]`` in 0..255, like
:func:`tfgen.data.load_arrays`; :func:`to_model_input` applies a binarization protocol.

Example:
    >>> x = digits_28()
    >>> x.shape, x.dtype.name
    ((1797, 28, 28, 1), 'uint8')
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfgen import checks, data, pipeline

CORRUPTIONS = ("noise", "inverted", "rotated", "blurred", "constant")


def digits_28(size: int = 28, box: int = 20) -> np.ndarray:
    """scikit-learn's 1,797 handwritten digits as uint8 ``[N, size, size, 1]``.

    Each 8x8 image (levels 0..16, scaled to 0..255) is resized bilinearly to ``box x box`` and
    centred on a black ``size x size`` canvas (MNIST puts its digits in a 20x20 box in 28x28).

    Args:
        size: output height and width.
        box: side of the resized digit, ``8 <= box <= size``.

    Example:
        >>> digits_28(box=28).shape
        (1797, 28, 28, 1)
    """
    size = checks.positive_int("size", size)
    box = checks.int_at_least("box", box, 8)
    if box > size:
        raise checks.fail("box", f"an int <= size ({size})", box)
    train, _ = data.load_arrays("digits", "train")
    test, _ = data.load_arrays("digits", "test")
    x = np.concatenate([train, test]).astype(np.float32)
    resized = tf.image.resize(x, [box, box], method="bilinear", antialias=False).numpy()
    out = np.zeros([len(x), size, size, 1], np.float32)
    top = (size - box) // 2
    out[:, top : top + box, top : top + box] = resized
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def held_out_class(
    name: str = "fashion_mnist", split: str = "train", held_out: int = 9
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A split with one class held out: ``(images of the other classes, their labels, images of
    the held-out class)``.

    Args:
        name: a ``tfgen.data`` dataset name.
        split: ``"train"`` or ``"test"``.
        held_out: the class id that is the novelty.

    Example:
        >>> kept, labels, novel = held_out_class("digits", "test", held_out=0)
        >>> bool(np.all(labels != 0)), len(kept) + len(novel)
        (True, 360)
    """
    x, y = data.load_arrays(name, split)
    k = checks.int_at_least("held_out", held_out, 0)
    if k >= data.num_classes(name):
        raise checks.fail("held_out", f"a class id < {data.num_classes(name)}", held_out)
    keep = y != k
    return x[keep], y[keep], x[~keep]


def corrupt(x, kind: str, *, seed: int = 0, noise_rate: float = 0.5) -> np.ndarray:
    """Corrupted copies of uint8 images ``[N, H, W, 1]``.

    Args:
        x: uint8 images in 0..255.
        kind: one of ``CORRUPTIONS``.
        seed: seed of the random corruptions (``noise``, ``constant``).
        noise_rate: for ``noise``, the fraction of pixels replaced by uniform levels 0..255.

    Returns:
        uint8 images with ``x``'s shape.

    Example:
        >>> x = np.zeros([2, 4, 4, 1], np.uint8)
        >>> int(corrupt(x, "inverted").min())
        255
    """
    checks.one_of("kind", kind, CORRUPTIONS)
    x = np.asarray(x)
    if x.dtype != np.uint8 or x.ndim != 4:
        raise checks.fail("x", "uint8 images [N, H, W, C]", f"{x.dtype} {x.shape}")
    rng = np.random.default_rng(seed)
    if kind == "inverted":
        return 255 - x
    if kind == "rotated":
        return np.ascontiguousarray(np.rot90(x, k=1, axes=(1, 2)))
    if kind == "constant":
        levels = rng.integers(0, 256, size=[len(x), 1, 1, 1])
        return np.broadcast_to(levels, x.shape).astype(np.uint8)
    if kind == "noise":
        rate = checks.number_in("noise_rate", noise_rate, 0.0, 1.0)
        replace = rng.random(x.shape) < rate
        return np.where(replace, rng.integers(0, 256, size=x.shape), x).astype(np.uint8)
    blurred = tf.convert_to_tensor(x, tf.float32)
    kernel = tf.ones([3, 3, x.shape[-1], 1]) / 9.0
    for _ in range(2):
        blurred = tf.nn.depthwise_conv2d(blurred, kernel, [1, 1, 1, 1], "SAME")
    return np.clip(np.round(blurred.numpy()), 0, 255).astype(np.uint8)


def to_model_input(x, binarize: str | None, seed: int = 0) -> np.ndarray:
    """uint8 images -> float32 model input under a binarization protocol of :mod:`tfgen.data`.

    ``"dynamic"`` draws ``Bernoulli(pixel)`` once from ``seed`` (as test splits are), ``"static"``
    thresholds at 0.5, ``None`` gives grey levels ``k / 255``.

    Example:
        >>> to_model_input(np.array([[[[0], [200]]]], np.uint8), "static").ravel().tolist()
        [0.0, 1.0]
    """
    checks.one_of("binarize", binarize, data.BINARIZE)
    if binarize == "dynamic":  # the same draws as a dynamically binarized test split
        return pipeline.fixed_binarization(np.asarray(x, np.uint8), seed) / np.float32(255.0)
    x = np.asarray(x, np.float32) / np.float32(255.0)
    if binarize == "static":
        return (x > 0.5).astype(np.float32)
    return x


def out_of_distribution_set(name: str, reference, *, seed: int = 0) -> np.ndarray:
    """The OOD set ``name`` as uint8 images: ``"digits"`` or a corruption of ``reference``.

    Args:
        name: ``"digits"`` or one of ``CORRUPTIONS``.
        reference: uint8 in-distribution images that corruptions are applied to.
        seed: seed of random corruptions.

    Example:
        >>> out_of_distribution_set("inverted", np.zeros([1, 2, 2, 1], np.uint8)).ravel().tolist()
        [255, 255, 255, 255]
    """
    checks.one_of("name", name, ("digits",) + CORRUPTIONS)
    if name == "digits":
        return digits_28()
    return corrupt(np.asarray(reference), name, seed=seed)
