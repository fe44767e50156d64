"""Latent priors as Keras layers, so their parameters are tracked, trained and saved."""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfgen import checks
from tfgen import distributions as dists

tfd = tfp.distributions

PRIOR_KINDS = ("normal", "mixture")


@keras.saving.register_keras_serializable(package="tfgen")
class LatentPrior(keras.layers.Layer):
    """A prior ``p(z)`` over ``[latent_dim]``: standard normal, or a learnable mixture of Gaussians.

    ``kind="normal"`` is ``N(0, I)`` (no weights; the KL to a diagonal Gaussian posterior is
    analytic). ``kind="mixture"`` is a mixture of ``num_components`` diagonal Gaussians with
    trainable logits, means and scales, initialised with equal weights, means evenly spaced on a
    circle of radius ``radius`` in the first two latent dimensions and scales ``scale``; its KL
    has no closed form, so models estimate it by Monte Carlo.

    Args:
        latent_dim: dimension of ``z``.
        kind: ``"normal"`` or ``"mixture"``.
        num_components: mixture components (``kind="mixture"`` only).
        radius: radius of the circle the initial means lie on.
        scale: initial standard deviation of each component.
        trainable: whether the mixture parameters are learnt.

    Example:
        >>> prior = LatentPrior(2, kind="mixture", num_components=4)
        >>> prior.distribution().sample(3, seed=(1, 2)).shape
        TensorShape([3, 2])
    """

    def __init__(
        self,
        latent_dim: int,
        kind: str = "normal",
        num_components: int = 10,
        radius: float = 2.0,
        scale: float = 0.5,
        trainable: bool = True,
        **kwargs,
    ):
        super().__init__(trainable=trainable, **kwargs)
        checks.one_of("kind", kind, PRIOR_KINDS)
        checks.positive_int("latent_dim", latent_dim)
        if kind == "mixture":
            checks.positive_int("num_components", num_components)
        self.latent_dim, self.kind = latent_dim, kind
        self.num_components, self.radius, self.scale = num_components, radius, scale
        if kind == "mixture":
            angles = 2 * np.pi * np.arange(num_components) / num_components
            loc = np.zeros([num_components, latent_dim], np.float32)
            loc[:, 0] = radius * np.cos(angles)
            if latent_dim > 1:
                loc[:, 1] = radius * np.sin(angles)
            raw = math.log(math.expm1(scale))
            self.logits = self.add_weight(
                shape=(num_components,), initializer="zeros", name="logits"
            )
            self.loc = self.add_weight(
                shape=loc.shape, initializer=keras.initializers.Constant(loc), name="loc"
            )
            self.raw_scale = self.add_weight(
                shape=loc.shape, initializer=keras.initializers.Constant(raw), name="raw_scale"
            )
        self.built = True

    def distribution(self) -> tfd.Distribution:
        """The prior as a float32 TFP distribution with event shape ``[latent_dim]``."""
        if self.kind == "normal":
            return dists.standard_normal(self.latent_dim)
        return dists.mixture_of_gaussians(
            tf.convert_to_tensor(self.logits),
            tf.convert_to_tensor(self.loc),
            tf.nn.softplus(tf.convert_to_tensor(self.raw_scale)),
        )

    def call(self, num_samples, seed=None):
        """Draws ``[num_samples, latent_dim]`` codes."""
        return self.distribution().sample(num_samples, seed=seed)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            latent_dim=self.latent_dim,
            kind=self.kind,
            num_components=self.num_components,
            radius=self.radius,
            scale=self.scale,
        )
        return config
