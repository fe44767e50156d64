"""Variational autoencoder (Kingma & Welling 2014) with the TF2 conv-VAE tutorial's networks."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf

from tfgen import checks
from tfgen import distributions as dists
from tfgen.layers import LatentPrior, conv_decoder, conv_encoder
from tfgen.layers.priors import PRIOR_KINDS
from tfgen.models.base import DensityModel
from tfgen.models.latent import LatentVariableMixin


@keras.saving.register_keras_serializable(package="tfgen")
class VAE(LatentVariableMixin, DensityModel):
    """Variational autoencoder ``p(z) p(x | z)`` with a diagonal Gaussian ``q(z | x)``.

    The default networks are the TF2 "Convolutional Variational Autoencoder" tutorial's:
    encoder Conv2D(32, 3, stride 2) -> Conv2D(64, 3, stride 2) -> Dense(2 * latent_dim) (location
    and scale of q), decoder Dense(H/4 * W/4 * 32) -> Conv2DTranspose(64, stride 2) ->
    Conv2DTranspose(32, stride 2) -> Conv2DTranspose(C * params) giving likelihood logits.

    Training maximises the single-sample ELBO; ``fit``/``evaluate`` report ``loss`` (= -elbo),
    ``elbo``, ``kl``, ``reconstruction`` (= -E_q log p(x|z)) and ``bits_per_dim``, all per image in
    nats (bits for the last). ``log_prob`` is the importance-weighted estimate (IWAE), ``elbo`` the
    bound; ``reconstruct`` returns reconstruction means and ``predict``/``call`` the decoder's
    logits at the posterior mean.

    Args:
        event_shape: ``(H, W, C)``; H and W must be divisible by ``2 ** len(decoder_filters)``.
        latent_dim: dimension of ``z`` (the tutorial uses 2).
        likelihood: ``"bernoulli"`` (binary images, logits) or ``"categorical"`` (256 levels).
        prior: ``"normal"`` (standard normal, analytic KL) or ``"mixture"`` (learnable mixture
            of Gaussians, Monte-Carlo KL).
        prior_components: mixture components when ``prior="mixture"``.
        encoder_filters: channels of the encoder's stride-2 convolutions.
        decoder_filters: channels of the decoder's stride-2 transposed convolutions.
        seed: seed of the model's random stream (reparameterization noise, unseeded sampling).
        float32_output_layer: under a mixed dtype policy, compute the decoder's output layer in
            float32 (True) or in the compute dtype, its logits cast to float32 (False: faster;
            see :func:`tfgen.layers.conv_decoder`). No effect in float32.
        **kwargs: ``keras.Model`` arguments (``name``, ``dtype``).

    Raises:
        ValueError: naming the argument when ``latent_dim``, ``likelihood``, ``prior`` or
            ``event_shape`` is invalid.

    Example:
        >>> import tfgen
        >>> vae = tfgen.models.VAE(event_shape=(8, 8, 1), latent_dim=2)
        >>> vae.compile()
        >>> x = tf.cast(tf.random.uniform([4, 8, 8, 1]) > 0.5, tf.float32)
        >>> vae.log_prob(x, importance_samples=8).shape
        TensorShape([4])
        >>> vae.sample(3, seed=0).shape
        TensorShape([3, 8, 8, 1])

    References:
        Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014.
        Burda, Grosse & Salakhutdinov, "Importance Weighted Autoencoders", ICLR 2016.
        TensorFlow tutorial "Convolutional Variational Autoencoder" (generative/cvae).
    """

    def __init__(
        self,
        event_shape: Sequence[int] = (28, 28, 1),
        latent_dim: int = 2,
        likelihood: str = "bernoulli",
        prior: str = "normal",
        prior_components: int = 10,
        encoder_filters: Sequence[int] = (32, 64),
        decoder_filters: Sequence[int] = (64, 32),
        seed: int | None = None,
        float32_output_layer: bool = True,
        **kwargs,
    ):
        super().__init__(event_shape=event_shape, seed=seed, **kwargs)
        self.latent_dim = checks.positive_int("latent_dim", latent_dim)
        self.likelihood = likelihood
        self.image_likelihood = dists.get_likelihood(likelihood)
        self.prior = checks.one_of("prior", prior, PRIOR_KINDS)
        self.prior_components = checks.positive_int("prior_components", prior_components)
        self.encoder_filters = checks.positive_ints("encoder_filters", encoder_filters)
        self.decoder_filters = checks.positive_ints("decoder_filters", decoder_filters)
        self.float32_output_layer = bool(float32_output_layer)
        self.prior_layer = LatentPrior(latent_dim, kind=prior, num_components=prior_components)
        factor = 2 ** len(self.decoder_filters)
        why = "2 ** len(decoder_filters)"
        checks.image_sides_divisible("event_shape", self.event_shape, factor, why)
        height, width, channels = self.event_shape
        extra = self.label_feature_dim  # label features fed to both networks (0: unconditional)
        self.encoder = conv_encoder(
            (height, width, channels + extra), 2 * latent_dim, self.encoder_filters
        )
        out_channels = channels * self.image_likelihood.params_per_channel
        self.decoder = conv_decoder(
            latent_dim + extra,
            (height, width, out_channels),
            self.decoder_filters,
            float32_output_layer=self.float32_output_layer,
        )
        self.built = True

    #: Width of the label features concatenated to the networks' inputs (conditional subclasses).
    label_feature_dim: int = 0

    @property
    def prior_distribution(self):
        """``p(z)`` as a TFP distribution over ``[latent_dim]`` (``prior`` names its kind)."""
        return self.prior_layer.distribution()

    def encode(self, x, labels=None, training: bool = False):
        """``q(z | x)``: a ``tfd.MultivariateNormalDiag`` with batch shape ``[B]``.

        Raises:
            ValueError: naming ``x`` or ``labels`` (see :meth:`check_inputs`).
        """
        x = self.check_inputs(x)
        inputs = self.encoder_inputs(x, labels, training=training)
        return dists.gaussian_posterior(self.encoder(inputs, training=training))

    def decoder_outputs(self, z, labels=None, training: bool = False) -> tf.Tensor:
        """Likelihood parameters (logits) ``[B, H, W, C * params_per_channel]`` for codes ``z``."""
        return self.decoder(self.decoder_inputs(z, labels, training=training), training=training)

    def encoder_inputs(self, x, labels=None, training: bool = False) -> tf.Tensor:
        """What the encoder sees: the images (conditional subclasses append label features)."""
        self.check_labels(labels, self._batch_size(x))
        return x

    def decoder_inputs(self, z, labels=None, training: bool = False) -> tf.Tensor:
        """What the decoder sees: the codes (conditional subclasses append label features)."""
        return z

    def call(self, inputs, training: bool = False) -> tf.Tensor:
        """Decoder logits at the posterior mean (deterministic, for serving)."""
        x, labels = self._split_inputs(inputs)
        return self.decoder_outputs(self.encode(x, labels).mean(), labels, training=training)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            latent_dim=self.latent_dim,
            likelihood=self.likelihood,
            prior=self.prior,
            prior_components=self.prior_components,
            encoder_filters=list(self.encoder_filters),
            decoder_filters=list(self.decoder_filters),
            float32_output_layer=self.float32_output_layer,
        )
        return config
