"""What every autoencoder shares: the objective, the input noise, the sparsity penalty, the API.

An autoencoder is trained to reproduce its input through a code ``z = f(x)``:
``x_hat = g(f(x))``. It is a :class:`~tfgen.models.base.LossModel` (a per-example objective
trained by the library's one train step), not a density model: it has no ``log_prob`` and no
``sample`` (an autoencoder compresses; a VAE generates, because its codes follow a prior one can
sample from). :class:`AutoencoderBase` holds

* the reconstruction term, per example and averaged over pixels: binary cross-entropy of the
  decoder's logits (``output="bernoulli"``, images in [0, 1], grey levels allowed as soft
  targets) or squared error of its linear output (``output="mse"``);
* denoising (Vincent et al. 2008): while training only, the encoder sees a corrupted input
  (``noise="gaussian"``: ``x + noise_rate * N(0, 1)``; ``noise="dropout"``: masking noise, each
  pixel set to 0 with probability ``noise_rate``) and the target stays the clean image;
* a sparsity penalty on the codes: ``"kl"`` (Hands-On Machine Learning, ch. 17):
  ``sparsity_weight * sum_j KL(rho || rho_hat_j)`` with ``rho = sparsity_target`` and
  ``rho_hat_j`` the batch mean of code unit j (codes in (0, 1): sigmoid); ``"l1"``:
  ``sparsity_weight * mean_j |z_j|`` per example;
* ``encode``/``decode``/``reconstruct``/``corrupt``, and ``encoder``/``decoder`` as Keras models.

A family builds ``self.encoder`` (images -> codes ``[B, latent_dim]``) and ``self.decoder``
(codes -> ``[B, H, W, C]`` logits or values) in ``__init__`` after calling this ``__init__``.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tfgen import checks
from tfgen.distributions import REAL, UNIT, ValueRange
from tfgen.models.base import LossModel
from tfgen.models.inputs import check_data, check_values

OUTPUTS = ("bernoulli", "mse")
NOISES = (None, "gaussian", "dropout")
SPARSITIES = (None, "kl", "l1")
_EPS = 1e-6


def kl_sparsity(codes: tf.Tensor, target: float) -> tf.Tensor:
    """``sum_j KL(Bernoulli(target) || Bernoulli(rho_hat_j))`` with ``rho_hat`` the batch mean of
    each code unit (codes in (0, 1)); a scalar.

    Example:
        >>> round(float(kl_sparsity(tf.fill([4, 3], 0.1), 0.1)), 6)  # at the target: zero
        0.0
    """
    rho_hat = tf.clip_by_value(tf.reduce_mean(codes, axis=0), _EPS, 1.0 - _EPS)
    kl = target * tf.math.log(target / rho_hat) + (1.0 - target) * tf.math.log(
        (1.0 - target) / (1.0 - rho_hat)
    )
    return tf.reduce_sum(kl)


class AutoencoderBase(LossModel):
    """Objective, noise, sparsity and API shared by the autoencoders (see the module docstring).

    Args:
        event_shape: ``(H, W, C)`` of one image.
        latent_dim: size of the code.
        output: ``"bernoulli"`` (decoder logits, binary cross-entropy) or ``"mse"`` (linear
            decoder output, squared error).
        noise: None, ``"gaussian"`` or ``"dropout"`` (denoising; training only).
        noise_rate: the Gaussian noise's standard deviation, or the masking probability; in
            [0, 1).
        sparsity: None, ``"kl"`` or ``"l1"``.
        sparsity_target: ``rho`` of the KL penalty, in (0, 1).
        sparsity_weight: weight of the sparsity penalty, >= 0.
        seed: seed of the model's random stream (the training noise).
        **kwargs: ``keras.Model`` arguments.
    """

    #: ``"bernoulli"`` or ``"mse"`` (shadows Keras' ``Layer.output``, which is only meaningful for
    #: functional models, so the constructor argument can be an attribute of the same name).
    output: str = "bernoulli"

    def __init__(
        self,
        event_shape,
        latent_dim: int,
        output: str,
        noise: str | None,
        noise_rate: float,
        sparsity: str | None,
        sparsity_target: float,
        sparsity_weight: float,
        seed: int | None,
        **kwargs,
    ):
        self.sparsity = checks.one_of("sparsity", sparsity, SPARSITIES)
        # GenerativeModel.__init__ makes one tracker per metric name: set ours first.
        names = ("loss", "reconstruction") + (("sparsity",) if sparsity else ())
        self.metric_names = names
        super().__init__(event_shape=event_shape, seed=seed, **kwargs)
        self.latent_dim = checks.positive_int("latent_dim", latent_dim)
        self.output = checks.one_of("output", output, OUTPUTS)
        self.noise = checks.one_of("noise", noise, NOISES)
        self.noise_rate = checks.number_in("noise_rate", noise_rate, 0.0, 1.0, high_open=True)
        self.sparsity_target = checks.number_in(
            "sparsity_target", sparsity_target, 0.0, 1.0, low_open=True, high_open=True
        )
        self.sparsity_weight = checks.number_in("sparsity_weight", sparsity_weight, 0.0)

    # ------------------------------------------------------------------ inputs
    #: What ``encode``/``reconstruct``/``predict`` read: any finite image (a denoising
    #: autoencoder's inputs are noisy); the training targets follow :attr:`target_range`.
    value_range = REAL

    @property
    def target_range(self) -> ValueRange:
        """The training data (targets): [0, 1] for ``output="bernoulli"`` (grey levels as soft
        targets of the cross-entropy), any finite value for ``"mse"``."""
        return UNIT if self.output == "bernoulli" else REAL

    def _images(self, x) -> tf.Tensor:
        """``x`` as float32 ``[B, H, W, C]`` once checked (:meth:`check_inputs`)."""
        return self.check_inputs(x)

    def corrupt(self, x, seed: int | None = None) -> tf.Tensor:
        """``x`` with the training noise added (``x`` itself when ``noise`` is None).

        Args:
            x: images ``[B, H, W, C]``.
            seed: int for reproducible noise; None draws from the model's random stream.
        """
        x = self._images(x)
        if self.noise is None or self.noise_rate == 0.0:
            return x
        seed = self._seed(seed)
        if self.noise == "gaussian":
            return x + self.noise_rate * tf.random.stateless_normal(tf.shape(x), seed)
        keep = tf.random.stateless_uniform(tf.shape(x), seed) >= self.noise_rate
        return x * tf.cast(keep, x.dtype)

    # ------------------------------------------------------------------ API
    def encode(self, x, labels=None, training: bool = False) -> tf.Tensor:
        """The codes ``[B, latent_dim]`` of images ``x`` (no noise)."""
        self.check_labels(labels)
        return tf.cast(self.encoder(self._images(x), training=training), tf.float32)

    def decode(self, z, labels=None, training: bool = False) -> tf.Tensor:
        """Decoder outputs ``[B, H, W, C]`` for codes ``z``: logits (``output="bernoulli"``) or
        the reconstruction itself (``"mse"``)."""
        self.check_labels(labels)
        z = check_data("z", z, (self.latent_dim,))
        return tf.cast(self.decoder(z, training=training), tf.float32)

    def to_data(self, outputs: tf.Tensor) -> tf.Tensor:
        """Decoder outputs -> images: ``sigmoid`` of logits (in [0, 1]) or the outputs (mse)."""
        return tf.sigmoid(outputs) if self.output == "bernoulli" else outputs

    def reconstruct(self, x, labels=None) -> tf.Tensor:
        """Reconstructions ``[B, H, W, C]`` of ``x``: in [0, 1] for ``"bernoulli"``, the linear
        decoder output for ``"mse"``."""
        return self.to_data(self.decode(self.encode(x, labels)))

    def call(self, inputs, training: bool = False) -> tf.Tensor:
        """Per-pixel parameters of the reconstruction likelihood ``[B, H, W, C]``: Bernoulli
        logits (``"bernoulli"``) or the reconstruction (``"mse"``); no noise."""
        x, labels = self._split_inputs(inputs)
        return self.decode(self.encode(x, labels, training=training), training=training)

    # ------------------------------------------------------------------ objective
    def reconstruction_error(self, x, outputs) -> tf.Tensor:
        """Per-example mean over pixels ``[B]``: binary cross-entropy of logits, or squared
        error."""
        x = tf.reshape(x, [tf.shape(x)[0], -1])
        outputs = tf.reshape(outputs, [tf.shape(outputs)[0], -1])
        if self.output == "bernoulli":
            error = tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=outputs)
        else:
            error = tf.square(outputs - x)
        return tf.reduce_mean(error, axis=-1)

    def sparsity_penalty(self, codes: tf.Tensor) -> tf.Tensor:
        """The weighted sparsity penalty per example ``[B]`` (the batch's KL term, repeated)."""
        if self.sparsity == "kl":
            value = kl_sparsity(codes, self.sparsity_target) * tf.ones(tf.shape(codes)[:1])
        else:
            value = tf.reduce_mean(tf.abs(codes), axis=-1)
        return self.sparsity_weight * value

    def compute_terms(self, x, labels=None, training: bool = False) -> dict[str, tf.Tensor]:
        x = check_values("x", self._images(x), self.target_range)
        inputs = self.corrupt(x) if training else x
        codes = tf.cast(self.encoder(inputs, training=training), tf.float32)
        outputs = tf.cast(self.decoder(codes, training=training), tf.float32)
        terms = {"reconstruction": self.reconstruction_error(x, outputs)}
        terms["loss"] = terms["reconstruction"]
        if self.sparsity:
            terms["sparsity"] = self.sparsity_penalty(codes)
            terms["loss"] = terms["loss"] + terms["sparsity"]
        return terms

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            latent_dim=self.latent_dim,
            output=self.output,
            noise=self.noise,
            noise_rate=self.noise_rate,
            sparsity=self.sparsity,
            sparsity_target=self.sparsity_target,
            sparsity_weight=self.sparsity_weight,
        )
        return config


def activation_name(name: str, value) -> str:
    """``value`` if it is a Keras activation name (else the library's ``ValueError``).

    Example:
        >>> activation_name("activation", "tanh")
        'tanh'
    """
    if not isinstance(value, str):
        raise checks.fail(name, "a Keras activation name", value)
    try:
        keras.activations.get(value)
    except ValueError:
        raise checks.fail(name, "a Keras activation name", value) from None
    return value


def code_activation_arg(code_activation: str | None, sparsity: str | None) -> str | None:
    """Validates ``code_activation`` (None, or an activation; sigmoid with KL sparsity)."""
    if code_activation is None:
        return None
    activation_name("code_activation", code_activation)
    if sparsity == "kl" and code_activation != "sigmoid":
        raise checks.fail(
            "code_activation", "None or 'sigmoid' with sparsity='kl'", code_activation
        )
    return code_activation


def resolved_code_activation(code_activation: str | None, sparsity: str | None) -> str:
    """The code layer's activation: ``code_activation``, or for None ``"sigmoid"`` with
    ``sparsity="kl"`` (the penalty needs codes in (0, 1)) and ``"linear"`` otherwise."""
    if code_activation is not None:
        return code_activation
    return "sigmoid" if sparsity == "kl" else "linear"


def output_dtype() -> str | None:
    """float32 for output layers under a mixed policy (logits and codes in full precision)."""
    return "float32" if keras.mixed_precision.global_policy().name.startswith("mixed") else None


__all__ = [
    "AutoencoderBase",
    "NOISES",
    "OUTPUTS",
    "SPARSITIES",
    "activation_name",
    "code_activation_arg",
    "kl_sparsity",
    "output_dtype",
    "resolved_code_activation",
]
