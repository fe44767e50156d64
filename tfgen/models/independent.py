"""The fully factorised baseline: one independent Bernoulli per pixel."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from tfgen import distributions as dists
from tfgen.models import autoregressive
from tfgen.models.base import DensityModel


@keras.saving.register_keras_serializable(package="tfgen")
class IndependentBernoulli(DensityModel):
    """``p(x) = prod_i Bernoulli(x_i; sigmoid(l_i))``: one logit per pixel, nothing shared.

    D parameters (784 for 28x28), fit by maximum likelihood with ``fit``; the optimum is the
    pixel means of the training images (:meth:`mle_logits` gives it in closed form). Samples look
    like noise around the mean image: each pixel ignores all the others. ``log_prob`` is exact.

    Args:
        event_shape: ``(H, W, C)`` of one binary image.
        seed: seed of the model's random stream (``sample(seed=None)``).
        **kwargs: ``keras.Model`` arguments (``name``, ``dtype``).

    Raises:
        ValueError: naming ``event_shape`` when it is not three positive ints.

    Example:
        >>> model = IndependentBernoulli(event_shape=(2, 2, 1))
        >>> float(model.log_prob(tf.ones([1, 2, 2, 1]))[0])  # 4 * log(1/2) at init
        -2.7725887298583984
        >>> model.sample(5, seed=0).shape
        TensorShape([5, 2, 2, 1])
    """

    #: Bernoulli pixels: data in [0, 1], grey levels scored as given.
    value_range = dists.UNIT

    def __init__(self, event_shape: Sequence[int] = (28, 28, 1), seed: int | None = None, **kwargs):
        super().__init__(event_shape=event_shape, seed=seed, **kwargs)
        self.logits = self.add_weight(shape=self.event_shape, initializer="zeros", name="logits")
        self.built = True

    @staticmethod
    def mle_logits(x, eps: float = 1e-6) -> np.ndarray:
        """The maximum-likelihood logits ``logit(mean(x))`` (means clipped to [eps, 1 - eps])."""
        mean = np.clip(np.mean(np.asarray(x, np.float64), axis=0), eps, 1.0 - eps)
        return np.log(mean) - np.log1p(-mean)

    def distribution(self):
        """``p(x)`` as a ``tfd.Independent(tfd.Bernoulli)`` with event shape ``(H, W, C)``."""
        return dists.bernoulli_image(self.logits)

    def call(self, inputs, training: bool = False) -> tf.Tensor:
        """The logits broadcast to the batch ``[B, H, W, C]`` (they ignore the pixels)."""
        x, labels = self._split_inputs(inputs)
        self.check_labels(labels)
        return tf.zeros_like(tf.cast(x, tf.float32)) + self.logits

    def log_prob(self, x, labels=None) -> tf.Tensor:
        """Exact ``log p(x)`` in nats, ``[batch]`` (``x`` in [0, 1], grey levels as given).

        Raises:
            ValueError: naming ``x`` or ``labels``.
        """
        x = self.check_inputs(x)
        self.check_labels(labels)
        return self.distribution().log_prob(x)

    def sample(
        self, num_samples: int, *, seed: int | None = None, labels=None, observed=None, mask=None
    ) -> tf.Tensor:
        """Independent draws ``[num_samples, H, W, C]``; with ``observed``/``mask`` (1 = keep,
        both broadcastable to the samples) the kept pixels are copied and the rest drawn
        (independently of them, by definition).

        Args:
            num_samples: how many images.
            seed: int for reproducible (stateless) samples; None draws from the model's stream.
            labels: must be None (unconditional model).
            observed: optional images whose pixels where ``mask`` is 1 are kept.
            mask: 1/True where ``observed`` is kept; required with ``observed``.

        Raises:
            ValueError: naming ``num_samples``, ``labels``, ``observed`` or ``mask``.
        """
        num_samples = self._check_num_samples(num_samples)
        self.check_labels(labels)
        observed, mask = self.check_completion(num_samples, observed, mask)
        return self._in_chunks(self._draw, num_samples, self._seed(seed), observed, mask)

    def _draw(self, num_samples, seed, observed, mask) -> tf.Tensor:
        u = tf.random.stateless_uniform([num_samples, *self.event_shape], seed=seed)
        draws = autoregressive.bernoulli_draw(self.logits, u)
        return draws if observed is None else tf.where(mask, observed, draws)
