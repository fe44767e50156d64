"""Pixel-by-pixel generation for convolutional autoregressive models: naive and cached.

This module knows no network. It runs the generation loop (one ``tf.function``: a
``tf.while_loop`` over rows, one over columns, channels unrolled) for any model that provides the
*sampling protocol* below (:class:`~tfgen.models.pixelcnn.PixelCNNBase` declares it; each network
implements its cached steps next to its layers), and draws value ``i = (r * W + c) * C + ch`` from
its conditional with the stateless random numbers ``u_i = stateless_uniform(fold_in(seed, i))``:
a Bernoulli pixel is ``u_i < sigmoid(logit)``, a categorical one ``argmax(logits + Gumbel(u_i))``.
So for the same seed and weights the two methods produce the same images, except where float
rounding of the logits (different summation order) moves a probability across ``u_i``, which is
rare.

* ``"naive"``: one full network pass (``model.logits``) over the partly generated image for every
  value (the reference): ``H * W * C`` passes of ``H * W`` positions each.
* ``"cached"`` (Ramachandran et al. 2017, "Fast Generation for Convolutional Autoregressive
  Models"): every activation at pixel ``p`` depends on pixels before ``p`` only, so each layer's
  output at ``p`` is computed once, when ``p`` is generated, from a cache of that layer's input
  rows. Work per image falls from ``O((H W)^2)`` to ``O(H W)`` network positions.

The sampling protocol (attributes and methods of ``model``):

* ``event_shape`` ``(H, W, C)``, ``image_likelihood`` (a
  :class:`tfgen.distributions.ImageLikelihood`) and ``input_padding`` ``p``: the image is
  generated inside a zero border of ``p`` pixels, ``x_pad [N, H + 2p, W + 2p, C]``, so the first
  layer's window at ``(r, c)`` is ``window(layer, x_pad, r + p, c + p)``.
* ``logits(x, labels) -> [N, H, W, C * params]`` (naive method).
* ``cache_init(n, labels) -> (state, consts)``: the caches (a nest of tensors carried by the
  loops) and loop constants (e.g. label embeddings).
* ``cache_row(state, consts, x_pad, r) -> (state, row)``: at the start of row ``r``; ``row`` is
  anything the row's pixels share (e.g. a vertical stack computed for the whole row).
* ``cache_pixel(state, consts, row, x_pad, r, c) -> (logits [N, C * params], state)``.

The helpers :func:`window`, :func:`put`, :func:`gate` and :func:`at` are the pieces the cached
steps are written with. The completion checks and the Bernoulli / Gumbel-max draws are shared
with NADE (:mod:`tfgen.models.autoregressive`).
"""

from __future__ import annotations

import tensorflow as tf

from tfgen import checks
from tfgen.models import autoregressive

METHODS = ("cached", "naive")


def window(layer, padded: tf.Tensor, r, c) -> tf.Tensor:
    """The inputs a masked conv ``layer`` reads for its output centred at ``(r, c)`` of
    ``padded`` (see ``MaskedConv2D.window_offsets``).

    Example:
        >>> from tfgen.layers import MaskedConv2D
        >>> layer = MaskedConv2D(2, 3, "A")
        >>> padded = tf.zeros([1, 5, 5, 1])
        >>> _ = layer(padded)  # built: its mask (and so its window) is known
        >>> window(layer, padded, 2, 2).shape  # rows -1..0, columns -1..1
        TensorShape([1, 2, 3, 1])
    """
    dr0, dr1, dc0, dc1 = layer.window_offsets
    return padded[:, r + dr0 : r + dr1 + 1, c + dc0 : c + dc1 + 1]


def put(row: tf.Tensor, col, value: tf.Tensor) -> tf.Tensor:
    """``row[:, col] = value`` for a ``[N, W, F]`` buffer (functional update).

    Example:
        >>> put(tf.zeros([1, 3, 1]), 1, tf.ones([1, 1]))[0, :, 0].numpy().tolist()
        [0.0, 1.0, 0.0]
    """
    n = tf.shape(row)[0]
    indices = tf.stack([tf.range(n), tf.fill([n], tf.cast(col, tf.int32))], axis=1)
    return tf.tensor_scatter_nd_update(row, indices, tf.cast(value, row.dtype))


def gate(t: tf.Tensor) -> tf.Tensor:
    """``tanh(a) * sigmoid(b)`` with ``a, b`` the even / odd channels (keeps channel groups).

    Example:
        >>> round(float(gate(tf.constant([[1.0, 0.0]]))[0, 0]), 4)  # tanh(1) * sigmoid(0)
        0.3808
    """
    return tf.tanh(t[..., 0::2]) * tf.sigmoid(t[..., 1::2])


def at(layer, t: tf.Tensor) -> tf.Tensor:
    """A 1x1 masked conv ``layer`` at one position: ``[N, F_in] -> [N, F_out]``.

    Example:
        >>> from tfgen.layers import MaskedConv2D
        >>> layer = MaskedConv2D(4, 1, "B")
        >>> x = tf.random.normal([2, 3, 3, 1], seed=0)
        >>> y = layer(x)
        >>> bool(tf.reduce_all(tf.abs(at(layer, x[:, 1, 2]) - y[:, 1, 2]) < 1e-6))
        True
    """
    return layer.call_window(t[:, None, None, :])


def completion_inputs(model, num_samples, observed, mask):
    """``observed``/``mask`` (validated by ``model.check_completion``, or None) as the
    ``[N, H, W, C]`` network inputs / bool mask of the sampling loop; without ``observed``,
    "nothing observed" (zeros, all false)."""
    shape = [num_samples, *model.event_shape]
    if observed is None:
        return tf.zeros(shape), tf.zeros(shape, tf.bool)
    return model.network_input(observed), mask


def draw(likelihood, logits, seed, index, channel: int, channels: int) -> tf.Tensor:
    """Draws value ``index`` of every sample from its pixel's logits, as an image value.

    Args:
        likelihood: the model's :class:`tfgen.distributions.ImageLikelihood`.
        logits: ``[N, channels * params]`` logits of the pixel.
        seed: ``[2]`` int32 stateless seed of the whole draw.
        index: flat raster index ``(r * W + c) * C + channel`` of the value (its random numbers
            are ``stateless_uniform(fold_in(seed, index))``).
        channel: which channel of the pixel.
        channels: channels ``C`` of the image.

    Returns:
        ``[N]`` float32 values in [0, 1].

    Example:
        >>> from tfgen import distributions
        >>> bernoulli = distributions.get_likelihood("bernoulli")
        >>> draw(bernoulli, tf.constant([[30.0], [-30.0]]), tf.constant([1, 2]), 0, 0, 1).numpy()
        array([1., 0.], dtype=float32)
    """
    params = likelihood.params_per_channel
    n = tf.shape(logits)[0]
    logits = tf.reshape(tf.cast(logits, tf.float32), [n, channels, params])[:, channel]
    u = tf.random.stateless_uniform(
        [n, params], seed=tf.random.experimental.stateless_fold_in(seed, index)
    )
    if params == 1:
        value = autoregressive.bernoulli_draw(logits[:, 0], u[:, 0])
    else:
        gumbel = autoregressive.gumbel_noise(tf.clip_by_value(u, 1e-20, 1.0 - 1e-7))
        value = tf.cast(autoregressive.gumbel_max(logits, gumbel), tf.float32)
    return likelihood.from_support(value)


def generate(model, method: str, n, seed, labels, observed, mask) -> tf.Tensor:
    """The generation loop (traceable): ``[n, H, W, C]`` images drawn value by value.

    Args:
        model: a model with the sampling protocol (module docstring).
        method: ``"cached"`` or ``"naive"``.
        n: number of images (int32 scalar).
        seed: ``[2]`` int32 stateless seed.
        labels: ``[n]`` int32 class ids or None.
        observed: ``[n, H, W, C]`` network-input values kept where ``mask`` is true.
        mask: ``[n, H, W, C]`` bool.
    """
    height, width, channels = model.event_shape
    p = model.input_padding
    cached = method == "cached"
    x_pad = tf.zeros([n, height + 2 * p, width + 2 * p, channels])
    state, consts = model.cache_init(n, labels) if cached else ((), None)
    batch = tf.range(n)

    def row_body(r, x_pad, state):
        row = None
        if cached:
            state, row = model.cache_row(state, consts, x_pad, r)

        def col_body(c, x_pad, state):
            new_state = state
            for ch in range(channels):
                if cached:
                    logits, new_state = model.cache_pixel(state, consts, row, x_pad, r, c)
                else:
                    image = x_pad[:, p : p + height, p : p + width]
                    logits = model.logits(image, labels)[:, r, c]
                index = (r * width + c) * channels + ch
                value = draw(model.image_likelihood, logits, seed, index, ch, channels)
                value = tf.where(mask[:, r, c, ch], observed[:, r, c, ch], value)
                where = tf.stack(
                    [batch, tf.fill([n], r + p), tf.fill([n], c + p), tf.fill([n], ch)], axis=1
                )
                x_pad = tf.tensor_scatter_nd_update(x_pad, where, value)
            return c + 1, x_pad, new_state

        _, x_pad, state = tf.while_loop(lambda c, *_: c < width, col_body, (0, x_pad, state))
        return r + 1, x_pad, state

    _, x_pad, _ = tf.while_loop(lambda r, *_: r < height, row_body, (0, x_pad, state))
    return x_pad[:, p : p + height, p : p + width]


def _generate_cached(model, *args):
    return generate(model, "cached", *args)


def _generate_naive(model, *args):
    return generate(model, "naive", *args)


_GENERATORS = {"cached": _generate_cached, "naive": _generate_naive}


def sample(model, method: str, num_samples, seed, labels, observed, mask) -> tf.Tensor:
    """Runs :func:`generate` in a ``tf.function`` cached per model and method.

    Arguments are already validated (see ``PixelCNNBase.sample``): ``seed`` is a ``[2]`` int32
    stateless seed, ``observed``/``mask`` come from :func:`completion_inputs`.

    Raises:
        ValueError: naming ``method`` when it is not one of :data:`METHODS`.
    """
    checks.one_of("method", method, METHODS)
    n = tf.convert_to_tensor(num_samples, tf.int32)
    function = autoregressive.cached_function(model, method, _GENERATORS[method])
    return function(n, tf.cast(seed, tf.int32), labels, observed, mask)


__all__ = [
    "METHODS",
    "at",
    "completion_inputs",
    "draw",
    "gate",
    "generate",
    "put",
    "sample",
    "window",
]
