"""Adversarial autoencoder (Makhzani et al. 2016): an autoencoder whose codes are matched to a
prior by a discriminator on the latent space instead of a KL term."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tfgen import checks
from tfgen import distributions as dists
from tfgen.layers import LatentPrior, conv_decoder, conv_encoder
from tfgen.models.adversarial import AdversarialModel, AdversarialPhase
from tfgen.models.latent import LatentSpaceMixin

tfd = tfp.distributions

POSTERIORS = ("deterministic", "gaussian")
PRIORS = ("normal", "mixture", "supervised")
#: Kernel bandwidths of :func:`mmd` (latent codes live on the prior's unit scale).
MMD_BANDWIDTHS = (0.25, 0.5, 1.0, 2.0, 4.0)


def mmd(x, y, bandwidths: Sequence[float] = MMD_BANDWIDTHS) -> tf.Tensor:
    """Unbiased estimate (float32 scalar) of the squared maximum mean discrepancy of two samples.

    ``MMD^2 = E k(x, x') + E k(y, y') - 2 E k(x, y)`` with ``k`` a sum of Gaussian kernels
    ``exp(-|a - b|^2 / (2 s^2))`` over ``bandwidths`` s; the diagonal terms are left out, so the
    estimate is 0 in expectation when both samples come from the same distribution (it can then
    be slightly negative) and grows as they differ.

    Args:
        x: ``[N, D]`` sample (N >= 2), e.g. encoder codes.
        y: ``[M, D]`` sample (M >= 2), e.g. prior draws.
        bandwidths: kernel widths s.

    Example:
        >>> a = tf.random.stateless_normal([500, 2], seed=[0, 1])
        >>> b = tf.random.stateless_normal([500, 2], seed=[0, 2])
        >>> abs(float(mmd(a, b))) < 0.02, float(mmd(a, b + 3.0)) > 1.0
        (True, True)
    """
    x, y = tf.cast(x, tf.float32), tf.cast(y, tf.float32)

    def mean_kernel(a, b, same: bool):
        d2 = (
            tf.reduce_sum(a**2, 1)[:, None] + tf.reduce_sum(b**2, 1)[None] - 2 * a @ tf.transpose(b)
        )
        d2 = tf.maximum(d2, 0.0)
        k = tf.add_n([tf.exp(-d2 / (2.0 * s**2)) for s in bandwidths])
        n = tf.cast(tf.shape(a)[0], tf.float32)
        if same:
            return (tf.reduce_sum(k) - tf.linalg.trace(k)) / (n * (n - 1.0))
        return tf.reduce_mean(k)

    return mean_kernel(x, x, True) + mean_kernel(y, y, True) - 2.0 * mean_kernel(x, y, False)


@keras.saving.register_keras_serializable(package="tfgen")
class AdversarialAutoencoder(LatentSpaceMixin, AdversarialModel):
    """Adversarial autoencoder: reconstruction plus a latent-space GAN that shapes ``q(z)``.

    An encoder (deterministic ``z = f(x)``, or a Gaussian ``q(z | x)`` sampled by
    reparameterization), a decoder ``p(x | z)`` (the VAE's conv networks and likelihoods) and a
    discriminator ``D(z)`` (an MLP on codes). Each training batch runs the paper's two phases as
    three optimizer updates of the shared :class:`~tfgen.models.adversarial.AdversarialModel` step:

    1. ``reconstruction`` (``ae_optimizer``): encoder and decoder minimise ``-log p(x | z)``.
    2. ``discriminator`` (``d_optimizer``): ``D`` learns to tell prior draws ``z ~ p(z)`` (real)
       from codes of the batch (fake).
    3. ``generator`` (``g_optimizer``): the encoder learns to fool ``D`` (non-saturating loss).

    So the aggregated posterior ``q(z) = E_x q(z | x)`` is pushed to the prior as a whole, rather
    than each ``q(z | x)`` as by a VAE's KL term. Priors (fixed: ``model.prior_distribution``):

    * ``"normal"``: ``N(0, I)``.
    * ``"mixture"``: ``prior_components`` Gaussians of scale ``prior_scale`` with means evenly
      spaced on a circle of radius ``prior_radius`` in the first two latent dimensions.
    * ``"supervised"``: the same mixture with one component per class (``num_classes``
      components); a real draw for an example of class ``y`` comes from component ``y``, and
      ``D`` sees ``(z, one_hot(y))`` for real and fake codes alike, so each class's codes are
      pushed to their own component (Makhzani et al., section 2.3). Training data must carry
      labels; ``sample(labels=...)`` decodes draws from the labels' components. ``D``'s gradient
      is then the encoder's only class signal; ``classification_weight`` > 0 adds to the
      reconstruction phase the cross-entropy ``-log p(y | z)`` of the label under the prior's
      component responsibilities (:meth:`component_logits`; cf. the paper's section 6).

    ``fit``/``evaluate`` report ``reconstruction`` (nats per image), ``d_loss``, ``g_loss`` and
    ``prior_mmd``: the unbiased MMD^2 (:func:`mmd`) between the batch's codes and as many prior
    draws, about 0 when ``q(z)`` matches ``p(z)``. ``reconstruct`` returns reconstructions,
    ``predict`` the decoder's logits at the code of ``x``. Data (``model.value_range``): images
    in [0, 1], binary for ``likelihood="bernoulli"`` (grey levels are scored as given), 8-bit
    levels ``k / 255`` for ``"categorical"``.

    Args:
        event_shape: ``(H, W, C)``; H and W divisible by ``2 ** len(decoder_filters)``.
        latent_dim: dimension of ``z``.
        posterior: ``"deterministic"`` or ``"gaussian"`` encoder.
        prior: ``"normal"``, ``"mixture"`` or ``"supervised"``.
        num_classes: number of classes; required by (and only allowed with) ``"supervised"``.
        prior_components: mixture components of ``prior="mixture"``.
        prior_radius: radius of the circle of the mixture means.
        prior_scale: standard deviation of each mixture component.
        likelihood: ``"bernoulli"`` or ``"categorical"``.
        encoder_filters: channels of the encoder's stride-2 convolutions.
        decoder_filters: channels of the decoder's stride-2 transposed convolutions.
        discriminator_units: widths of the discriminator's hidden ReLU layers.
        classification_weight: weight (>= 0) of ``-log p(y | z)`` in the reconstruction phase;
            > 0 with ``"supervised"`` only.
        seed: seed of the model's random stream (prior draws, encoder noise, unseeded sampling).
        **kwargs: ``keras.Model`` arguments (``name``, ``dtype``).

    Raises:
        ValueError: naming the argument when one is invalid.

    Example:
        >>> import tfgen
        >>> aae = tfgen.models.AAE(event_shape=(8, 8, 1), prior="mixture", prior_components=4)
        >>> aae.compile()  # ae_optimizer, d_optimizer, g_optimizer: Adam defaults
        >>> x = tf.cast(tf.random.uniform([16, 8, 8, 1]) > 0.5, tf.float32)
        >>> sorted(aae.fit(x, batch_size=16, verbose=0).history)
        ['d_loss', 'g_loss', 'prior_mmd', 'reconstruction']
        >>> aae.sample(3, seed=0).shape, aae.encode(x).mean().shape
        (TensorShape([3, 8, 8, 1]), TensorShape([16, 2]))

    References:
        Makhzani, Shlens, Jaitly, Goodfellow & Frey, "Adversarial Autoencoders", ICLR 2016
        workshop (arXiv:1511.05644).
    """

    metric_names = ("reconstruction", "d_loss", "g_loss", "prior_mmd")
    default_learning_rate = 5e-4

    def __init__(
        self,
        event_shape: Sequence[int] = (28, 28, 1),
        latent_dim: int = 2,
        posterior: str = "deterministic",
        prior: str = "normal",
        num_classes: int | None = None,
        prior_components: int = 10,
        prior_radius: float = 4.0,
        prior_scale: float = 0.5,
        likelihood: str = "bernoulli",
        encoder_filters: Sequence[int] = (32, 64),
        decoder_filters: Sequence[int] = (64, 32),
        discriminator_units: Sequence[int] = (256, 256),
        classification_weight: float = 0.0,
        seed: int | None = None,
        **kwargs,
    ):
        checks.one_of("posterior", posterior, POSTERIORS)
        checks.one_of("prior", prior, PRIORS)
        if (prior == "supervised") != (num_classes is not None):
            why = f"given with prior='supervised' only (prior={prior!r})"
            raise checks.fail("num_classes", why, num_classes)
        super().__init__(event_shape=event_shape, num_classes=num_classes, seed=seed, **kwargs)
        self.latent_dim = checks.positive_int("latent_dim", latent_dim)
        self.posterior, self.prior = posterior, prior
        self.prior_components = checks.positive_int("prior_components", prior_components)
        self.prior_radius = checks.positive_number("prior_radius", prior_radius)
        self.prior_scale = checks.positive_number("prior_scale", prior_scale)
        self.likelihood = likelihood
        self.image_likelihood = dists.get_likelihood(likelihood)
        self.encoder_filters = checks.positive_ints("encoder_filters", encoder_filters)
        self.decoder_filters = checks.positive_ints("decoder_filters", decoder_filters)
        self.discriminator_units = checks.positive_ints("discriminator_units", discriminator_units)
        self.classification_weight = checks.number_in(
            "classification_weight", classification_weight, 0
        )
        if self.classification_weight and prior != "supervised":
            raise checks.fail("classification_weight", "0 unless prior='supervised'", prior)
        self.prior_layer = LatentPrior(
            latent_dim,
            kind="normal" if prior == "normal" else "mixture",
            num_components=num_classes if prior == "supervised" else prior_components,
            radius=self.prior_radius,
            scale=self.prior_scale,
            trainable=False,
        )
        why, factor = "2 ** len(decoder_filters)", 2 ** len(self.decoder_filters)
        checks.image_sides_divisible("event_shape", self.event_shape, factor, why)
        height, width, channels = self.event_shape
        code_params = latent_dim * (2 if posterior == "gaussian" else 1)
        self.encoder = conv_encoder(self.event_shape, code_params, self.encoder_filters)
        out_channels = channels * self.image_likelihood.params_per_channel
        self.decoder = conv_decoder(latent_dim, (height, width, out_channels), self.decoder_filters)
        self.discriminator = keras.Sequential(
            [keras.Input(shape=(latent_dim + (num_classes or 0),))]
            + [keras.layers.Dense(u, activation="relu") for u in self.discriminator_units]
            + [keras.layers.Dense(1, dtype="float32")],
            name="discriminator",
        )
        self.built = True

    # ----------------------------------------------------------------------------- latent space
    @property
    def prior_distribution(self) -> tfd.Distribution:
        """``p(z)``, a TFP distribution over ``[latent_dim]`` (``"supervised"``: all classes)."""
        return self.prior_layer.distribution()

    def class_prior(self, labels) -> tfd.Distribution:
        """``p(z | y)``: the labels' mixture components, batch shape ``[N]`` (supervised prior)."""
        if self.prior != "supervised":
            raise checks.fail("prior", "'supervised' for class_prior", self.prior)
        labels = self.check_labels(labels)
        layer = self.prior_layer
        loc = tf.gather(tf.convert_to_tensor(layer.loc), labels)
        scale = tf.gather(tf.nn.softplus(tf.convert_to_tensor(layer.raw_scale)), labels)
        return tfd.MultivariateNormalDiag(loc=loc, scale_diag=scale)

    def prior_draw(self, num_samples, seed: tf.Tensor, labels=None) -> tf.Tensor:
        """Codes from ``p(z)``, or from ``p(z | labels)`` (one per label) if supervised.

        Example:
            >>> from tfgen.models import AAE
            >>> aae = AAE(event_shape=(8, 8, 1), prior="supervised", num_classes=4, latent_dim=2)
            >>> aae.sample_prior(3, seed=1, labels=[0, 1, 3]).shape
            TensorShape([3, 2])
        """
        if self.prior == "supervised":
            return self.class_prior(labels).sample(seed=seed)
        return self.prior_distribution.sample(num_samples, seed=seed)

    def encode(self, x, labels=None, training: bool = False) -> tfd.Distribution:
        """``q(z | x)``: a ``tfd.VectorDeterministic`` or ``tfd.MultivariateNormalDiag``, batch [B]
        (``labels``, optional, are validated when given but unused: the encoder sees images)."""
        x = self.check_inputs(x)
        if labels is not None:
            self.check_labels(labels, self._batch_size(x))
        return self._posterior(x, training)

    def _posterior(self, x, training: bool = False) -> tfd.Distribution:
        params = self.encoder(x, training=training)
        if self.posterior == "gaussian":
            return dists.gaussian_posterior(params)
        return tfd.VectorDeterministic(tf.cast(params, tf.float32))

    def decoder_outputs(self, z, labels=None, training: bool = False) -> tf.Tensor:
        """Likelihood parameters (logits) ``[B, H, W, C * params_per_channel]`` for codes ``z``."""
        return self.decoder(z, training=training)

    def call(self, inputs, training: bool = False) -> tf.Tensor:
        """Decoder logits of the encoder's mean code (deterministic, for serving)."""
        x, labels = self._split_inputs(inputs)
        return self.decoder_outputs(self.encode(x, labels).mean(), labels, training=training)

    # ----------------------------------------------------------------------------- training
    def codes(self, x, training: bool = False, seed=None) -> tf.Tensor:
        """Codes used in training: ``f(x)``, or a reparameterized draw of the Gaussian ``q``."""
        q = self._posterior(x, training)
        return q.sample(seed=self._seed(seed)) if self.posterior == "gaussian" else q.mean()

    def discriminator_logits(self, z, labels=None, training: bool = False) -> tf.Tensor:
        """``D(z)`` (or ``D(z, one_hot(labels))``) logits ``[B]``: high for prior draws."""
        if self.prior == "supervised":
            z = tf.concat([z, tf.one_hot(labels, self.num_classes, dtype=z.dtype)], axis=-1)
        return tf.squeeze(tf.cast(self.discriminator(z, training=training), tf.float32), -1)

    def component_logits(self, z) -> tf.Tensor:
        """``log p(k) + log p(z | k)`` of each component ``k`` of a mixture prior: ``[B, K]``."""
        prior = self.prior_distribution  # equal weights: the softmax of the logits
        log_p = prior.components_distribution.log_prob(z[..., None, :])
        return log_p + tf.nn.log_softmax(prior.mixture_distribution.logits)

    def reconstruction_loss(self, x, labels=None, training: bool = False):
        """Mean ``-log p(x | z)`` over the batch, ``z`` the training codes (plus
        ``classification_weight`` times the mean ``-log p(y | z)``; logged: the former only)."""
        z = self.codes(x, training=training)
        nll = -self._decode(z, training=training).log_prob(self.image_likelihood.to_support(x))
        loss = tf.reduce_mean(nll)
        if not self.classification_weight:
            return loss, {"reconstruction": loss}
        logits = self.component_logits(z)  # the supervised classification term, -log p(y | z)
        ce = tf.nn.sparse_softmax_cross_entropy_with_logits(self._training_labels(labels), logits)
        return loss + self.classification_weight * tf.reduce_mean(ce), {"reconstruction": loss}

    def discriminator_loss(self, x, labels=None, training: bool = False):
        """Cross-entropy of ``D``: prior draws are real, codes fake. Also logs ``prior_mmd``."""
        labels = self._training_labels(labels)
        z = tf.stop_gradient(self.codes(x, training=training))
        n = tf.shape(z)[0]
        real = self.prior_draw(n, self._seed(), labels)
        d_real = self.discriminator_logits(real, labels, training=training)
        d_fake = self.discriminator_logits(z, labels, training=training)
        loss = tf.reduce_mean(tf.nn.softplus(-d_real)) + tf.reduce_mean(tf.nn.softplus(d_fake))
        return loss, {"d_loss": loss, "prior_mmd": mmd(z, real)}

    def generator_loss(self, x, labels=None, training: bool = False):
        """Non-saturating loss of the encoder as generator: ``-log D(code)``."""
        labels = self._training_labels(labels)
        d_fake = self.discriminator_logits(self.codes(x, training=training), labels, training)
        loss = tf.reduce_mean(tf.nn.softplus(-d_fake))
        return loss, {"g_loss": loss}

    def _training_labels(self, labels):
        if self.prior == "supervised" and labels is None:
            raise ValueError("labels are required to train with prior='supervised': fit on (x, y)")
        return self.check_labels(labels) if self.conditional else None

    @property
    def autoencoder_variables(self) -> list:
        return self.encoder.trainable_variables + self.decoder.trainable_variables

    @property
    def discriminator_variables(self) -> list:
        return self.discriminator.trainable_variables

    @property
    def generator_variables(self) -> list:
        return self.encoder.trainable_variables

    def phases(self) -> list[AdversarialPhase]:
        """Reconstruction (``ae_optimizer``), then the regularization phase's discriminator and
        generator updates."""
        ae_vars = self.autoencoder_variables
        phase = AdversarialPhase(
            "reconstruction", "ae_optimizer", ae_vars, self.reconstruction_loss
        )
        return [phase, *super().phases()]

    def default_optimizer(self, name: str) -> keras.optimizers.Optimizer:
        """Adam(5e-4, beta_1=0.5) for every phase."""
        return keras.optimizers.Adam(self.default_learning_rate, beta_1=self.default_beta_1)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            latent_dim=self.latent_dim,
            posterior=self.posterior,
            prior=self.prior,
            num_classes=self.num_classes,
            prior_components=self.prior_components,
            prior_radius=self.prior_radius,
            prior_scale=self.prior_scale,
            likelihood=self.likelihood,
            encoder_filters=list(self.encoder_filters),
            decoder_filters=list(self.decoder_filters),
            discriminator_units=list(self.discriminator_units),
            classification_weight=self.classification_weight,
        )
        return config


AAE = AdversarialAutoencoder
