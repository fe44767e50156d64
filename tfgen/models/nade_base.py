"""The machinery NADE and RNADE share (Larochelle & Murray 2011; Uria et al. 2013).

Both factorise ``p(x) = prod_i p(x_{o(i)} | x_{o(<i)})`` along an ordering ``o`` of the D pixels
and share one hidden layer across the D conditionals: ``a_i = c + sum_{k<i} W[k] x_{o(k)}`` and
``h_i = sigmoid(rho_i a_i)``. Because ``a_{i+1} = a_i + W[i] x_{o(i)}``, all D hidden vectors
are one exclusive prefix sum: ``log_prob`` evaluates every conditional in a single vectorised
O(D * H) pass, with no loop over pixels. Sampling is inherently sequential: D steps of the same
recurrence inside one ``tf.while_loop`` (traced once into a ``tf.function``), with optional
completion of partly observed images.

:class:`NADEBase` holds that machinery (ordering, input weights, prefix sum, sampling loop,
completion); :class:`~tfgen.models.nade.NADE` and :class:`~tfgen.models.rnade.RNADE` add their
output heads. Completion checks, Bernoulli and Gumbel-max draws and the traced-function cache are
shared with PixelCNN in :mod:`tfgen.models.autoregressive`.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

from tfgen import checks
from tfgen.models import autoregressive
from tfgen.models.autoregressive import AutoregressiveMixin
from tfgen.models.base import DensityModel

ORDERINGS = ("raster", "random")


def ordering_indices(num_dims: int, ordering: str, seed: int | None = None) -> np.ndarray:
    """The pixel visited at each step: ``order[i]`` is the flat index of the i-th conditional.

    Args:
        num_dims: D.
        ordering: ``"raster"`` (row by row, channels last) or ``"random"`` (a permutation fixed by
            ``seed``; None means 0).
        seed: seed of the random permutation.

    Raises:
        ValueError: naming ``ordering`` when it is not one of ``ORDERINGS``.

    Example:
        >>> ordering_indices(4, "raster").tolist()
        [0, 1, 2, 3]
        >>> sorted(ordering_indices(4, "random", seed=1).tolist())
        [0, 1, 2, 3]
    """
    if ordering not in ORDERINGS:
        raise ValueError(f"ordering must be one of {list(ORDERINGS)}; got {ordering!r}")
    if ordering == "raster":
        return np.arange(num_dims)
    return np.random.default_rng(0 if seed is None else seed).permutation(num_dims)


def exclusive_prefix_sum(v: tf.Tensor, weights: tf.Tensor, block: int | None = None) -> tf.Tensor:
    """``out[b, i] = sum_{k<i} v[b, k] weights[k]`` for all i at once: ``[B, D]``, ``[D, H]`` ->
    ``[B, D, H]``.

    Equal to ``tf.cumsum(v[:, :, None] * weights, axis=1, exclusive=True)`` but computed in blocks
    of ``block`` dimensions (default ``ceil(sqrt(D))``): within a block by a small strictly
    lower-triangular matmul, across blocks by a cumulative sum of the ``D / block`` block totals.
    Still O(D * H) per example, with no ``[B, D, H]`` outer product and no long scan, which on a
    CPU is several times faster than ``tf.cumsum`` (see ``zoo/bench/nade.py``).

    Example:
        >>> v, w = tf.constant([[1.0, 2.0, 3.0]]), tf.constant([[1.0], [10.0], [100.0]])
        >>> exclusive_prefix_sum(v, w)[0, :, 0].numpy().tolist()
        [0.0, 1.0, 21.0]
    """
    num_dims, hidden = weights.shape
    block = block or math.ceil(math.sqrt(num_dims))
    blocks = math.ceil(num_dims / block)
    pad = blocks * block - num_dims
    if pad:
        v = tf.pad(v, [[0, 0], [0, pad]])
        weights = tf.pad(weights, [[0, pad], [0, 0]])
    batch = tf.shape(v)[0]
    vb = tf.transpose(tf.reshape(v, [batch, blocks, block]), [1, 0, 2])  # [blocks, B, block]
    wb = tf.reshape(weights, [blocks, block, hidden])
    strict_lower = tf.constant(np.tril(np.ones([block, block], np.float32), -1))
    masked = tf.reshape(vb[:, :, None, :] * strict_lower, [blocks, -1, block])
    within = tf.reshape(tf.matmul(masked, wb), [blocks, batch, block, hidden])
    totals = tf.cumsum(tf.matmul(vb, wb), axis=0, exclusive=True)  # [blocks, B, H]
    out = tf.transpose(within + totals[:, :, None, :], [1, 0, 2, 3])
    out = tf.reshape(out, [batch, blocks * block, hidden])
    return out[:, :num_dims] if pad else out


class NADEBase(AutoregressiveMixin, DensityModel):
    """Ordering, shared hidden layer and sequential sampler common to NADE and RNADE.

    Subclasses set ``num_params`` (outputs per dimension), build their output head in
    ``_build_head`` and implement ``_head``, ``_log_prob_ordered`` and ``_draw``.

    Args:
        event_shape: ``(H, W, C)``.
        hidden_units: H, the size of the shared hidden layer.
        ordering: ``"raster"`` or ``"random"`` (a permutation fixed by ``seed``).
        seed: seed of the random ordering and of the model's random stream.
        **kwargs: ``keras.Model`` arguments.
    """

    num_params = 1

    def __init__(self, event_shape, hidden_units, ordering, seed, **kwargs):
        super().__init__(event_shape=event_shape, seed=seed, **kwargs)
        self.hidden_units = checks.positive_int("hidden_units", hidden_units)
        order = ordering_indices(self.num_dims, ordering, seed)
        self.ordering = ordering
        self._ordering_indices = order
        self._order = tf.constant(order, tf.int32)
        self._position = tf.constant(np.argsort(order), tf.int32)  # inverse permutation
        d, h = self.num_dims, self.hidden_units
        self.input_weights = self.add_weight(
            shape=(d, h), initializer=keras.initializers.GlorotUniform(), name="input_weights"
        )
        self.hidden_bias = self.add_weight(shape=(h,), initializer="zeros", name="hidden_bias")
        self._build_head()
        self.built = True

    @property
    def ordering_indices(self) -> np.ndarray:
        """``ordering_indices[i]``: the flat pixel index of the i-th conditional."""
        return self._ordering_indices

    # ------------------------------------------------------------------ to implement
    def _build_head(self) -> None:
        raise NotImplementedError

    def _head(self, hidden: tf.Tensor, dims=None) -> tf.Tensor:
        """Per-dimension parameters ``[B, D, num_params]`` (``[B, num_params]`` for one dim)."""
        raise NotImplementedError

    def _activation(self, a: tf.Tensor, dims=None) -> tf.Tensor:
        return tf.sigmoid(a)

    # ------------------------------------------------------------------ shared machinery
    def _flatten_ordered(self, x) -> tf.Tensor:
        """``[B, H, W, C]`` -> ``[B, D]`` in visiting order, float32."""
        x = tf.reshape(tf.cast(x, tf.float32), [-1, self.num_dims])
        return tf.gather(x, self._order, axis=1)

    def _unorder(self, v: tf.Tensor) -> tf.Tensor:
        """``[B, D]`` in visiting order -> ``[B, H, W, C]`` images."""
        v = tf.gather(v, self._position, axis=1)
        return tf.reshape(v, [-1, *self.event_shape])

    def hidden_preactivations(self, v: tf.Tensor) -> tf.Tensor:
        """``a_i = c + sum_{k<i} W[k] v_k`` for every i, ``[B, D, H]``: an exclusive prefix sum."""
        return self.hidden_bias + exclusive_prefix_sum(v, self.input_weights)

    def conditional_params(self, v: tf.Tensor) -> tf.Tensor:
        """Parameters of all D conditionals ``[B, D, num_params]`` given ordered values ``v``."""
        return self._head(self._activation(self.hidden_preactivations(v)))

    def call(self, inputs, training: bool = False) -> tf.Tensor:
        """Conditional parameters in image layout ``[B, H, W, C * num_params]``: entry i depends
        only on the pixels before i in the ordering (logits for NADE)."""
        x, labels = self._split_inputs(inputs)
        self.check_labels(labels)
        params = self.conditional_params(self._to_model_space(x, training=False)[0])
        params = tf.gather(params, self._position, axis=1)
        h, w, c = self.event_shape
        return tf.reshape(params, [-1, h, w, c * self.num_params])

    def _to_model_space(self, x, training: bool = False, seed=None, observed: bool = False):
        """Ordered model-space values ``[B, D]`` and the log-Jacobian ``[B]`` of the map."""
        v = self._flatten_ordered(x)
        return v, tf.zeros(tf.shape(v)[:1])

    def log_prob(self, x, labels=None) -> tf.Tensor:
        """Exact ``log p(x)`` in nats, shape ``[batch]``: all D conditionals in one pass.

        Raises:
            ValueError: naming ``x`` (not ``[batch, *event_shape]``, or values outside
                :attr:`value_range`) or ``labels``.
        """
        x = self.check_inputs(x)
        self.check_labels(labels)
        v, log_det = self._to_model_space(x)
        return self._log_prob_ordered(v) + log_det

    def _log_prob_ordered(self, v: tf.Tensor) -> tf.Tensor:
        raise NotImplementedError

    def training_log_prob(self, x, labels=None, training: bool = False) -> tf.Tensor:
        """``log p(x)``; in training with fresh noise of the model-space map (RNADE)."""
        seed = self._seed() if training else None
        v, log_det = self._to_model_space(x, training=training, seed=seed)
        return self._log_prob_ordered(v) + log_det

    # ------------------------------------------------------------------ sampling
    def _completion_values(self, observed, mask):
        """Validated ``observed``/``mask`` ``[N, H, W, C]`` as ordered ``[N, D]`` values / bool."""
        values, _ = self._to_model_space(observed, observed=True)
        return values, self._flatten_ordered(tf.cast(mask, tf.float32)) > 0.5

    def sample(
        self,
        num_samples: int,
        *,
        seed: int | None = None,
        labels=None,
        observed=None,
        mask=None,
    ) -> tf.Tensor:
        """Draws images ``[num_samples, H, W, C]``: D sequential steps in one ``tf.function``.

        Args:
            num_samples: how many images.
            seed: int for reproducible samples (stateless: identical in eager, graph and an
                exported SavedModel); None draws from the model's random stream.
            labels: must be None (unconditional model).
            observed: optional images ``[num_samples, H, W, C]`` (or one ``[H, W, C]``) whose
                pixels where ``mask`` is 1 are kept; the others are sampled from their
                conditionals given everything earlier in the ordering (completion, e.g. of half
                images).
            mask: 1/True where ``observed`` is kept, broadcastable to ``[num_samples, H, W, C]``
                (e.g. one ``[H, W, C]`` mask for all samples).

        Raises:
            ValueError: naming ``num_samples``, ``labels``, ``observed`` or ``mask``.
        """
        num_samples = self._check_num_samples(num_samples)
        self.check_labels(labels)
        observed, mask = self.check_completion(num_samples, observed, mask)
        return self._in_chunks(self._draw_images, num_samples, self._seed(seed), observed, mask)

    def _draw_images(self, num_samples, seed, observed, mask) -> tf.Tensor:
        """``sample``'s draw of one chunk (arguments already validated)."""
        noise = self._noise(num_samples, seed)
        if observed is None:
            observed_v = tf.zeros(tf.shape(noise)[:2])
            mask_v = tf.zeros(tf.shape(noise)[:2], tf.bool)
        else:
            observed_v, mask_v = self._completion_values(observed, mask)
        if tf.executing_eagerly():  # one traced loop per model, reused by later calls
            loop = autoregressive.cached_function(self, "sample", type(self)._sample_loop)
            values = loop(noise, observed_v, mask_v)
        else:
            values = self._sample_loop(noise, observed_v, mask_v)
        return self._to_data_space(self._unorder(values))

    def _noise(self, num_samples, seed) -> tf.Tensor:
        """All the randomness of a draw up front ``[N, D, ...]`` (stateless, from ``seed``)."""
        return tf.random.stateless_uniform([num_samples, self.num_dims], seed=seed)

    def _to_data_space(self, images: tf.Tensor) -> tf.Tensor:
        return images

    def _sample_loop(self, noise, observed, mask) -> tf.Tensor:
        """The D sequential steps: ``[N, D]`` model-space values in visiting order."""
        n = tf.shape(noise)[0]
        a = tf.tile(self.hidden_bias[None], [n, 1])
        noise_t = tf.transpose(noise, [1, 0, *range(2, noise.shape.rank)])  # [D, N, ...]
        observed_t, mask_t = tf.transpose(observed), tf.transpose(mask)
        values = tf.TensorArray(tf.float32, size=self.num_dims)

        def step(i, a, values):
            hidden = self._activation(a, dims=i)
            drawn = self._draw(self._head(hidden, dims=i), noise_t[i])
            v = tf.where(mask_t[i], observed_t[i], drawn)
            a = a + v[:, None] * self.input_weights[i]
            return i + 1, a, values.write(i, v)

        _, _, values = tf.while_loop(
            lambda i, *_: i < self.num_dims, step, (tf.constant(0), a, values)
        )
        return tf.transpose(values.stack())

    def _draw(self, params: tf.Tensor, noise: tf.Tensor) -> tf.Tensor:
        """One dimension's values ``[N]`` from its parameters ``[N, num_params]`` and noise."""
        raise NotImplementedError

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(hidden_units=self.hidden_units, ordering=self.ordering)
        return config


__all__ = ["NADEBase", "ORDERINGS", "exclusive_prefix_sum", "ordering_indices"]
