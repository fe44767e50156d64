"""NADE, the neural autoregressive distribution estimator for binary images (Larochelle & Murray
2011). Its shared hidden layer, one-pass ``log_prob`` and sequential sampler are
:class:`tfgen.models.nade_base.NADEBase`'s; RNADE (real-valued pixels) is in
:mod:`tfgen.models.rnade`.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf

from tfgen import distributions as dists
from tfgen.models import autoregressive
from tfgen.models.nade_base import NADEBase


@keras.saving.register_keras_serializable(package="tfgen")
class NADE(NADEBase):
    """Neural autoregressive distribution estimator for binary images (Larochelle & Murray 2011).

    ``p(x_{o(i)} = 1 | x_{o(<i)}) = sigmoid(b_i + V[i] . h_i)`` with the shared hidden layer
    ``h_i = sigmoid(c + sum_{k<i} W[k] x_{o(k)})``: ``2 D H + D + H`` parameters in all.
    ``log_prob`` is exact (nats); ``fit``/``evaluate`` report ``loss`` (= -log p(x)) and
    ``bits_per_dim``; ``predict``/``call`` return the conditional logits in image layout.

    Args:
        event_shape: ``(H, W, C)`` of one binary image.
        hidden_units: H, the size of the shared hidden layer.
        ordering: ``"raster"`` or ``"random"`` (a permutation fixed by ``seed``).
        seed: seed of the random ordering and of the model's random stream.
        **kwargs: ``keras.Model`` arguments (``name``, ``dtype``).

    Raises:
        ValueError: naming ``event_shape``, ``hidden_units`` or ``ordering`` when invalid.

    Example:
        >>> import numpy as np
        >>> nade = NADE(event_shape=(2, 3, 1), hidden_units=4, seed=0)
        >>> grid = np.array(np.meshgrid(*[[0.0, 1.0]] * 6)).reshape(6, -1).T.reshape(-1, 2, 3, 1)
        >>> round(float(tf.reduce_sum(tf.exp(nade.log_prob(grid)))), 5)  # sums to 1 over 2^6
        1.0
        >>> nade.sample(3, seed=0).shape
        TensorShape([3, 2, 3, 1])

    References:
        Larochelle & Murray, "The Neural Autoregressive Distribution Estimator", AISTATS 2011.
    """

    #: Bernoulli conditionals: data in [0, 1], grey levels scored as given.
    value_range = dists.UNIT

    def __init__(
        self,
        event_shape: Sequence[int] = (28, 28, 1),
        hidden_units: int = 500,
        ordering: str = "raster",
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(event_shape, hidden_units, ordering, seed, **kwargs)

    def _build_head(self) -> None:
        d, h = self.num_dims, self.hidden_units
        self.output_weights = self.add_weight(
            shape=(d, h), initializer=keras.initializers.GlorotUniform(), name="output_weights"
        )
        self.output_bias = self.add_weight(shape=(d,), initializer="zeros", name="output_bias")

    def _head(self, hidden, dims=None):
        if dims is None:
            return (tf.reduce_sum(hidden * self.output_weights, -1) + self.output_bias)[..., None]
        logits = tf.linalg.matvec(hidden, self.output_weights[dims]) + self.output_bias[dims]
        return logits[:, None]

    def conditional_logits(self, x) -> tf.Tensor:
        """Logits of ``p(x_{o(i)} = 1 | x_{o(<i)})`` for every i, ``[B, D]`` in visiting order.

        Raises:
            ValueError: naming ``x`` (see :meth:`check_inputs`).
        """
        return self.conditional_params(self._flatten_ordered(self.check_inputs(x)))[..., 0]

    def _log_prob_ordered(self, v):
        logits = self.conditional_params(v)[..., 0]
        return dists.bernoulli_image(logits, event_ndims=1).log_prob(v)

    def _draw(self, params, noise):
        return autoregressive.bernoulli_draw(params[:, 0], noise)


__all__ = ["NADE"]
