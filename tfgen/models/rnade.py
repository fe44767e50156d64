"""RNADE (Uria, Murray & Larochelle 2013): NADE for real-valued pixels.

Each conditional ``p(v_i | v_{<i})`` is a mixture of Gaussians computed from NADE's shared hidden
layer; the ordering, the one-pass ``log_prob``, the sequential sampler and image completion come
from :class:`tfgen.models.nade_base.NADEBase`. With ``preprocessing="dequantize_logit"`` the
model reads 8-bit images and scores them on the 8-bit scale (dequantization plus a logit
transform, counted in ``log_prob``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from tfgen import checks
from tfgen import distributions as dists
from tfgen.models import autoregressive
from tfgen.models.nade_base import NADEBase

PREPROCESSING = (None, "dequantize_logit")
_NUM_LEVELS = 256


@tf.custom_gradient
def _round_straight_through(x: tf.Tensor):
    """``tf.round(x)`` (values unchanged) with the identity as its gradient, so ``call``'s
    conditionals stay differentiable with respect to the image (autoregressive gradient checks)."""
    return tf.round(x), lambda dy: dy


@keras.saving.register_keras_serializable(package="tfgen")
class RNADE(NADEBase):
    """Real-valued NADE: each conditional is a mixture of Gaussians (Uria, Murray & Larochelle).

    ``p(v_i | v_{<i}) = sum_k pi_ik N(v_i; mu_ik, sigma_ik)`` with ``(pi, mu, sigma)_i`` an affine
    map of ``h_i = sigmoid(rho_i a_i)`` (per-dimension activation scale ``rho``, as in the paper)
    and the shared ``a_i`` of NADE; the mixture is a ``tfd.MixtureSameFamily``.

    With ``preprocessing="dequantize_logit"`` the model reads images in [0, 1] holding 8-bit levels
    ``k / 255`` and models ``v = logit(alpha + (1 - 2 alpha) y)`` of the dequantized
    ``y = (k + u) / 256``, ``u ~ U(0, 1)`` (fresh noise in training, a fixed draw from seed 0 in
    ``log_prob``/``evaluate``). ``log_prob`` then counts the change of variables and the
    ``256^D`` bins, so it is the log-likelihood of the 8-bit image in nats (in expectation over
    ``u`` a lower bound of the discrete ``log P(k)``), and ``bits_per_dim`` is on the 8-bit scale.
    Samples are mapped back and quantized to levels ``k / 255``. With ``preprocessing=None`` the
    model is a plain density over real-valued ``x`` (samples are unbounded reals).

    Args:
        event_shape: ``(H, W, C)``.
        hidden_units: H.
        num_components: K, Gaussians per conditional.
        ordering: ``"raster"`` or ``"random"`` (fixed by ``seed``).
        preprocessing: None or ``"dequantize_logit"``.
        logit_alpha: the ``alpha`` of the logit transform (0.05, as RealNVP; in (0, 0.5)).
        seed: seed of the ordering and of the model's random stream.
        **kwargs: ``keras.Model`` arguments.

    Raises:
        ValueError: naming ``hidden_units``, ``num_components``, ``ordering``, ``preprocessing``
            or ``logit_alpha`` when invalid.

    Example:
        >>> rnade = RNADE(event_shape=(1, 2, 1), hidden_units=8, num_components=3, seed=0)
        >>> rnade.log_prob(tf.zeros([4, 1, 2, 1])).shape
        TensorShape([4])

    References:
        Uria, Murray & Larochelle, "RNADE: The real-valued neural autoregressive
        density-estimator", NeurIPS 2013. Dinh et al., "Density estimation using Real NVP" (the
        logit transform), ICLR 2017.
    """

    def __init__(
        self,
        event_shape: Sequence[int] = (28, 28, 1),
        hidden_units: int = 100,
        num_components: int = 10,
        ordering: str = "raster",
        preprocessing: str | None = "dequantize_logit",
        logit_alpha: float = 0.05,
        seed: int | None = None,
        **kwargs,
    ):
        self.num_components = checks.positive_int("num_components", num_components)
        self.preprocessing = checks.one_of("preprocessing", preprocessing, PREPROCESSING)
        self.logit_alpha = checks.number_in(
            "logit_alpha", logit_alpha, 0.0, 0.5, low_open=True, high_open=True
        )
        self.num_params = 3 * self.num_components
        super().__init__(event_shape, hidden_units, ordering, seed, **kwargs)

    @property
    def value_range(self) -> dists.ValueRange:
        """8-bit levels ``k / 255`` in [0, 1] with ``"dequantize_logit"``; any finite value
        without preprocessing."""
        return dists.EIGHT_BIT if self.preprocessing else dists.REAL

    def _build_head(self) -> None:
        d, h, k = self.num_dims, self.hidden_units, self.num_components
        self.activation_scale = self.add_weight(
            shape=(d,), initializer="ones", name="activation_scale"
        )
        self.output_weights = self.add_weight(
            shape=(d, h, 3 * k),
            initializer=keras.initializers.RandomNormal(stddev=0.01),
            name="output_weights",
        )
        span = 2.0 if self.preprocessing else 1.0
        bias = np.zeros([d, 3, k], np.float32)
        bias[:, 1] = np.linspace(-span, span, k)  # component means spread at init
        self.output_bias = self.add_weight(
            shape=(d, 3 * k),
            initializer=keras.initializers.Constant(bias.reshape(d, 3 * k)),
            name="output_bias",
        )

    def _activation(self, a, dims=None):
        scale = self.activation_scale if dims is None else self.activation_scale[dims]
        return tf.sigmoid(scale[..., None] * a)

    def _head(self, hidden, dims=None):
        if dims is None:  # [B, D, H] x [D, H, 3K] -> [B, D, 3K], one matmul per dimension
            out = tf.matmul(tf.transpose(hidden, [1, 0, 2]), self.output_weights)
            return tf.transpose(out, [1, 0, 2]) + self.output_bias
        return tf.matmul(hidden, self.output_weights[dims]) + self.output_bias[dims]

    def _mixture(self, params):
        logits, loc, raw_scale = tf.split(params, 3, axis=-1)
        scale = tf.nn.softplus(raw_scale) + dists.MIN_SCALE
        return logits, loc, scale

    def _log_prob_ordered(self, v):
        mixture = dists.mixture_of_gaussians(*self._mixture(self.conditional_params(v)))
        return tf.reduce_sum(mixture.log_prob(v), axis=-1)

    def _noise(self, num_samples, seed):
        """Per dimension: K Gumbel draws (component choice) and one standard normal."""
        k = self.num_components
        u = tf.random.stateless_uniform(
            [num_samples, self.num_dims, k], seed=seed, minval=1e-7, maxval=1.0
        )
        z = tf.random.stateless_normal(
            [num_samples, self.num_dims, 1], seed=tf.random.experimental.stateless_fold_in(seed, 1)
        )
        return tf.concat([autoregressive.gumbel_noise(u), z], axis=-1)

    def _draw(self, params, noise):
        logits, loc, scale = self._mixture(params)
        k = self.num_components
        component = autoregressive.gumbel_max(logits, noise[:, :k])  # k ~ Categorical(pi)
        pick = lambda t: tf.gather(t, component, axis=1, batch_dims=1)  # noqa: E731
        return pick(loc) + pick(scale) * noise[:, k]

    # ------------------------------------------------------------ dequantization + logit
    def _to_model_space(self, x, training: bool = False, seed=None, observed: bool = False):
        """Ordered model-space values and the log-Jacobian of the data -> model map, per image.

        With ``"dequantize_logit"``: levels ``k = round(255 x)`` (straight-through gradient),
        ``y = (k + u) / 256`` with ``u ~ U(0, 1)`` (from ``seed``; seed 0 when None; 1/2 for
        completion's observed pixels), ``p = alpha + (1 - 2 alpha) y``, ``v = logit(p)``; the
        log-Jacobian adds ``log((1 - 2 alpha) / (p (1 - p)))`` per pixel and ``-log 256`` per
        pixel for the bin width, so ``log p_v(v) + log_det`` is the log-likelihood of the 8-bit
        image.
        """
        flat = self._flatten_ordered(x)
        if self.preprocessing is None:
            return flat, tf.zeros(tf.shape(flat)[:1])
        levels = _round_straight_through(tf.clip_by_value(flat, 0.0, 1.0) * (_NUM_LEVELS - 1))
        if observed:
            u = tf.fill(tf.shape(flat), 0.5)
        elif seed is None:  # evaluation: one fixed noise image, the same for every example
            u = tf.random.stateless_uniform(tf.shape(flat)[1:], seed=[0, 0])[None]
        else:
            u = tf.random.stateless_uniform(tf.shape(flat), seed=seed)
        y = (levels + u) / _NUM_LEVELS
        alpha = self.logit_alpha
        p = alpha + (1.0 - 2.0 * alpha) * y
        v = tf.math.log(p) - tf.math.log1p(-p)
        log_det = tf.reduce_sum(
            math.log(1.0 - 2.0 * alpha) - tf.math.log(p) - tf.math.log1p(-p), axis=-1
        ) - self.num_dims * math.log(_NUM_LEVELS)
        return v, log_det

    def _to_data_space(self, images):
        if self.preprocessing is None:
            return images
        y = (tf.sigmoid(images) - self.logit_alpha) / (1.0 - 2.0 * self.logit_alpha)
        levels = tf.clip_by_value(tf.floor(y * _NUM_LEVELS), 0.0, _NUM_LEVELS - 1.0)
        return levels / (_NUM_LEVELS - 1)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            num_components=self.num_components,
            preprocessing=self.preprocessing,
            logit_alpha=self.logit_alpha,
        )
        return config
