"""Lossless code lengths ``L(x)`` of images, the complexity term of :class:`InputComplexity`.

* :func:`png_bits`: a PNG's size (Serra et al. 2020 use PNG among other compressors).
* :func:`context_bits`: the ideal code length of JBIG's adaptive context model for bi-level
  images (ITU-T T.82: each pixel coded from its ten causal neighbours, the three-line template,
  with one adaptive binary estimator per neighbourhood). PNG's byte-wise LZ77 coder is a poor
  model of binary images (its ``L(x)`` is dominated by overhead); a context model is the standard
  lossless coder for them and a far better complexity estimate (see zoo/RESULTS.md).
"""

from __future__ import annotations

import math

import tensorflow as tf

from tfgen import checks

# JBIG's three-line template: (row, column) offsets of the ten causal neighbours of a pixel.
JBIG_TEMPLATE = (
    (-2, -1), (-2, 0), (-2, 1),
    (-1, -2), (-1, -1), (-1, 0), (-1, 1), (-1, 2),
    (0, -2), (0, -1),
)  # fmt: skip


def context_bits(x, template=JBIG_TEMPLATE) -> tf.Tensor:
    """Bits to code each binary image with an adaptive context model (JBIG's, ideal coder).

    Pixels are coded in raster order; each is predicted from the pixels at ``template`` offsets
    (outside the image: 0) by a per-image adaptive Krichevsky-Trofimov estimator of that
    neighbourhood, ``p(next = v) = (n_v + 1/2) / (n_0 + n_1 + 1)``. An arithmetic coder (JBIG's)
    attains this length within a few bits. The sequential probability of a context's pixels
    depends only on its counts, so the length is computed in closed form, in graph, for a batch:
    ``sum_c log2[Gamma(n_c + 1) Gamma(1/2)^2 / (Gamma(n_c0 + 1/2) Gamma(n_c1 + 1/2))]``.

    Args:
        x: images ``[B, H, W, 1]`` in [0, 1]; a pixel above 0.5 is a 1 (binary images).
        template: ``(row, column)`` offsets of causal neighbours (row < 0, or row 0 and
            column < 0); at most 16.

    Returns:
        ``[B]`` float32: the code length of each image in bits.

    Raises:
        ValueError: naming ``x`` for another rank or channel count, ``template`` for a
            non-causal offset or more than 16.

    Example:
        >>> import numpy as np
        >>> blank = np.zeros([1, 28, 28, 1])
        >>> round(float(context_bits(blank)[0]), 2)  # 784 zeros in one context
        5.63
        >>> noise = (np.random.default_rng(0).random([1, 28, 28, 1]) < 0.5).astype("float32")
        >>> bool(context_bits(noise)[0] > 784)  # incompressible: more than a bit per pixel
        True
    """
    x = tf.convert_to_tensor(x, tf.float32)
    if x.shape.rank != 4 or x.shape[-1] != 1:
        raise checks.fail("x", "binary images of shape [B, H, W, 1]", tuple(x.shape))
    offsets = [tuple(int(v) for v in o) for o in template]
    if not 0 < len(offsets) <= 16 or any(r > 0 or (r == 0 and c >= 0) for r, c in offsets):
        raise checks.fail("template", "1 to 16 causal (row, column) offsets", offsets)
    on = tf.cast(x[..., 0] > 0.5, tf.int32)
    h, w = x.shape[1], x.shape[2]
    top = -min(r for r, _ in offsets)
    side = max(abs(c) for _, c in offsets)
    padded = tf.pad(on, [[0, 0], [top, 0], [side, side]])
    context = tf.zeros_like(on)
    for r, c in offsets:
        context = context * 2 + padded[:, top + r : top + r + h, side + c : side + c + w]
    n = 2 ** len(offsets)
    batch = tf.shape(on)[0]
    ids = (tf.range(batch)[:, None, None] * n + context) * 2 + on
    counts = tf.math.unsorted_segment_sum(tf.ones_like(ids, tf.float64), ids, batch * n * 2)
    counts = tf.reshape(counts, [batch, n, 2])
    n0, n1 = counts[..., 0], counts[..., 1]
    half = tf.constant(0.5, tf.float64)
    nats = (
        tf.math.lgamma(n0 + n1 + 1.0)
        + 2.0 * tf.math.lgamma(half)
        - tf.math.lgamma(n0 + half)
        - tf.math.lgamma(n1 + half)
    )  # 0 for an unused context
    return tf.cast(tf.reduce_sum(nats, axis=1) / math.log(2.0), tf.float32)


def png_bits(x, bit_depth: int = 8) -> tf.Tensor:
    """Bits of each image's PNG (``tf.io.encode_png``, compression 9).

    ``bit_depth=8`` encodes the grey levels ``round(255 x)``; ``bit_depth=1`` (binary images)
    packs eight pixels per byte along each row first, the scanlines a 1-bit PNG stores (whose
    IHDR differs only in the depth field), since ``tf.io.encode_png`` writes 8 and 16 bits only.

    Args:
        x: float images ``[B, H, W, C]`` in [0, 1] (C in 1, 2, 3, 4; C = 1 for ``bit_depth=1``).
        bit_depth: 8 or 1.

    Returns:
        ``[B]`` float32: 8 times the PNG size in bytes.

    Example:
        >>> import numpy as np
        >>> flat, noisy = np.zeros([1, 28, 28, 1]), np.random.default_rng(0).random([1, 28, 28, 1])
        >>> bool(png_bits(flat)[0] < png_bits(noisy)[0])
        True
        >>> bool(png_bits(flat, bit_depth=1)[0] < png_bits(flat)[0])
        True
    """
    checks.one_of("bit_depth", bit_depth, (1, 8))
    x = tf.convert_to_tensor(x, tf.float32)
    pixels = tf.cast(tf.round(tf.clip_by_value(x, 0.0, 1.0) * 255.0), tf.uint8)
    if bit_depth == 1:
        on = tf.cast(pixels[..., 0] > 127, tf.int32)  # [B, H, W]
        pad = -x.shape[2] % 8
        on = tf.pad(on, [[0, 0], [0, 0], [0, pad]])
        on = tf.reshape(on, tf.concat([tf.shape(on)[:2], [-1, 8]], 0))
        weights = tf.constant([128, 64, 32, 16, 8, 4, 2, 1], tf.int32)
        pixels = tf.cast(tf.reduce_sum(on * weights, -1), tf.uint8)[..., None]
    sizes = tf.map_fn(_png_length, pixels, fn_output_signature=tf.int32)
    return 8.0 * tf.cast(sizes, tf.float32)


@tf.autograph.experimental.do_not_convert
def _png_length(image: tf.Tensor) -> tf.Tensor:
    return tf.strings.length(tf.io.encode_png(image, compression=9))


__all__ = ["JBIG_TEMPLATE", "context_bits", "png_bits"]
