"""GANs: the non-saturating GAN base every GAN shares, and a small MLP GAN for toy data.

:class:`GANBase` (on :class:`~tfgen.models.adversarial.AdversarialModel`) holds the losses: the
discriminator minimises the cross-entropy of real vs generated examples, the generator minimises
``-log D(G(z))``. The mode-collapse remedies of the course are options of every GAN: minibatch
discrimination (``minibatch_kernels``) and an experience-replay buffer of past fakes for the
discriminator (``replay_size``). :class:`GAN` has MLP networks; the convolutional DCGAN is in
:mod:`tfgen.models.dcgan`.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf

from tfgen import checks
from tfgen.distributions import REAL, SYMMETRIC, ValueRange
from tfgen.layers.gan import ExperienceReplay, MinibatchDiscrimination
from tfgen.models.adversarial import AdversarialModel
from tfgen.models.inputs import check_data


def output_layer_dtype() -> str | None:
    """The dtype of a GAN's output layers: float32 under a mixed global policy, else the policy's.

    Example:
        >>> output_layer_dtype() is None  # under the default float32 policy
        True
    """
    return "float32" if keras.mixed_precision.global_policy().name.startswith("mixed") else None


class GANBase(AdversarialModel):
    """Non-saturating GAN losses, conditioning, sampling and the remedies (no networks).

    Subclasses set their own arguments, then call :meth:`_finish` with the generator
    (``z`` or ``[z, one_hot(labels)]`` -> examples) and the discriminator's feature graph
    (``x`` or ``[x, one_hot(labels)]`` -> ``[B, F]`` features), to which this class appends the
    minibatch-discrimination layer (if any) and the logit layer.

    ``fit``/``evaluate`` report ``d_loss``, ``g_loss``, ``d_real_accuracy`` (share of real
    examples with ``D(x) > 0``) and ``d_fake_accuracy`` (share of fakes with ``D(G(z)) < 0``).
    A GAN is implicit: it has no likelihood of ``x``, so ``call``/``predict`` (which return the
    likelihood's parameters in every other family) raise; :meth:`discriminate` gives ``D``'s
    logits and :meth:`sample` generates.
    """

    event_ranks = (1, 3)
    metric_names = ("d_loss", "g_loss", "d_real_accuracy", "d_fake_accuracy")

    def __init__(
        self,
        event_shape,
        latent_dim: int,
        num_classes: int | None = None,
        minibatch_kernels: int = 0,
        minibatch_kernel_dim: int = 5,
        replay_size: int = 0,
        replay_fraction: float = 0.5,
        label_smoothing: float = 0.0,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(event_shape=event_shape, num_classes=num_classes, seed=seed, **kwargs)
        self.latent_dim = checks.positive_int("latent_dim", latent_dim)
        self.minibatch_kernels = checks.int_at_least("minibatch_kernels", minibatch_kernels, 0)
        self.minibatch_kernel_dim = checks.positive_int(
            "minibatch_kernel_dim", minibatch_kernel_dim
        )
        self.replay_size = checks.int_at_least("replay_size", replay_size, 0)
        self.replay_fraction = checks.number_in(
            "replay_fraction", replay_fraction, 0.0, 1.0, low_open=True
        )
        self.label_smoothing = checks.number_in(
            "label_smoothing", label_smoothing, 0.0, 0.5, high_open=True
        )

    # ----------------------------------------------------------------------------- construction
    def _inputs(self, shape, name):
        x = keras.Input(shape, name=name)
        y = keras.Input((self.num_classes,), name="one_hot_labels") if self.conditional else None
        return x, y

    def _finish(self, generator: keras.Model, d_inputs, d_features) -> None:
        """Adds the discriminator head on ``d_features`` (a tensor of the functional graph from
        ``d_inputs``) and the replay buffer; marks the model built."""
        self.generator = generator
        h = d_features
        if self.minibatch_kernels:
            h = MinibatchDiscrimination(self.minibatch_kernels, self.minibatch_kernel_dim)(h)
        logits = keras.layers.Dense(1, dtype=output_layer_dtype(), name="logit")(h)
        logits = keras.layers.Reshape(())(logits)
        self.discriminator = keras.Model(d_inputs, logits, name="discriminator")
        self.replay = (
            ExperienceReplay(self.replay_size, self.event_shape, name="replay")
            if self.replay_size
            else None
        )
        self.built = True

    @property
    def discriminator_variables(self):
        return self.discriminator.trainable_variables

    @property
    def generator_variables(self):
        return self.generator.trainable_variables

    # ----------------------------------------------------------------------------- networks
    def _one_hot(self, labels):
        return None if labels is None else tf.one_hot(labels, self.num_classes)

    @property
    def value_range(self) -> ValueRange:
        """The data a GAN is trained on: [-1, 1] under a tanh output, else any finite value."""
        return SYMMETRIC if getattr(self, "output_activation", None) == "tanh" else REAL

    def generate(self, z, labels=None, training: bool = False) -> tf.Tensor:
        """``G(z)`` (``labels``: int class ids of conditional models), examples ``[B, *shape]``.

        Raises:
            ValueError: naming ``z`` (not finite ``[B, latent_dim]``) or ``labels``.
        """
        z = check_data("z", z, (self.latent_dim,))
        return self._generate(z, self.check_labels(labels, _batch_size(z)), training)

    def _generate(self, z, labels, training: bool = False) -> tf.Tensor:
        inputs = [z, self._one_hot(labels)] if self.conditional else z
        return tf.cast(self.generator(inputs, training=training), tf.float32)

    def discriminate(self, x, labels=None, training: bool = False) -> tf.Tensor:
        """Discriminator logits ``[B]`` (``D(x) > 0``: judged real).

        Raises:
            ValueError: naming ``x`` (shape, or values outside :attr:`value_range`) or
                ``labels``.
        """
        x = self.check_inputs(x)
        return self._discriminate(x, self.check_labels(labels, _batch_size(x)), training)

    def _discriminate(self, x, labels, training: bool = False) -> tf.Tensor:
        inputs = [x, self._one_hot(labels)] if self.conditional else x
        return tf.cast(self.discriminator(inputs, training=training), tf.float32)

    def call(self, inputs, training: bool = False) -> tf.Tensor:
        """Raises: a GAN has no likelihood of ``x`` whose parameters ``call``/``predict`` return.

        Raises:
            ValueError: always, naming :meth:`discriminate` and :meth:`sample`.
        """
        raise self._no_likelihood()

    def predict_step(self, data):
        """Raises, as :meth:`call` (a clear error before Keras wraps the call's)."""
        raise self._no_likelihood()

    def _no_likelihood(self) -> ValueError:
        return ValueError(
            f"{type(self).__name__} is an implicit model: it has no likelihood of x to predict; "
            "use discriminate(x, labels) for the discriminator's logits or sample(n) to generate"
        )

    def _latent(self, num, seed) -> tf.Tensor:
        return tf.random.stateless_normal([num, self.latent_dim], seed=seed)

    # ----------------------------------------------------------------------------- losses
    def _fakes(self, x, labels, training):
        batch = tf.shape(x)[0]
        return self._generate(self._latent(batch, self._seed()), labels, training=training)

    def discriminator_loss(self, x, labels=None, training: bool = False):
        """Cross-entropy of ``D`` on real ``x`` (target ``1 - label_smoothing``) and on fakes
        (target 0), fakes partly replaced by replayed ones when ``replay_size`` > 0."""
        fakes, fake_labels = self._fakes(x, labels, training), labels
        if self.replay is not None and training:
            mix_labels = tf.zeros([tf.shape(x)[0]], tf.int32) if labels is None else labels
            shown, shown_labels = self.replay.mix(
                fakes, mix_labels, self.replay_fraction, self._seed()
            )
            self.replay.push(fakes, mix_labels)
            fakes, fake_labels = shown, (shown_labels if labels is not None else None)
        real = self._discriminate(x, labels, training=training)
        fake = self._discriminate(fakes, fake_labels, training=training)
        target = 1.0 - self.label_smoothing
        loss = tf.reduce_mean(
            target * tf.nn.softplus(-real) + (1 - target) * tf.nn.softplus(real)
        ) + tf.reduce_mean(tf.nn.softplus(fake))
        return loss, {
            "d_loss": loss,
            "d_real_accuracy": tf.reduce_mean(tf.cast(real > 0, tf.float32)),
            "d_fake_accuracy": tf.reduce_mean(tf.cast(fake < 0, tf.float32)),
        }

    def generator_loss(self, x, labels=None, training: bool = False):
        """Non-saturating loss ``-log D(G(z))`` (fakes conditioned on the batch's labels)."""
        fake = self._discriminate(self._fakes(x, labels, training), labels, training=training)
        loss = tf.reduce_mean(tf.nn.softplus(-fake))
        return loss, {"g_loss": loss}

    # ----------------------------------------------------------------------------- sampling
    def sample(self, num_samples: int, *, seed: int | None = None, labels=None) -> tf.Tensor:
        """``G(z)``, ``z ~ N(0, I)``: ``[num_samples, *event_shape]`` (reproducible for a seed).

        Args:
            num_samples: how many examples.
            seed: int for reproducible samples; None draws from the model's random stream
                (keyword-only, like ``labels``).
            labels: ``[num_samples]`` int class ids (conditional models only); None draws them
                uniformly from ``[0, num_classes)`` (from ``seed`` when given).
        """
        num_samples = self._check_num_samples(num_samples)
        seed = self._seed(seed)
        labels = self._sample_labels(labels, num_samples, seed)
        draw = lambda n, seed, labels: self._generate(self._latent(n, seed), labels)  # noqa: E731
        return self._in_chunks(draw, num_samples, seed, labels)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            latent_dim=self.latent_dim,
            num_classes=self.num_classes,
            minibatch_kernels=self.minibatch_kernels,
            minibatch_kernel_dim=self.minibatch_kernel_dim,
            replay_size=self.replay_size,
            replay_fraction=self.replay_fraction,
            label_smoothing=self.label_smoothing,
        )
        return config


def _batch_size(t: tf.Tensor) -> int | tf.Tensor:
    """Static batch size when known (an eager count check), else the dynamic one."""
    t = tf.convert_to_tensor(t)
    return int(t.shape[0]) if t.shape[0] is not None else tf.shape(t)[0]


@keras.saving.register_keras_serializable(package="tfgen")
class GAN(GANBase):
    """A GAN with MLP generator and discriminator, for vectors (e.g. 2-D toy data) or images.

    Generator: ``z`` -> Dense(ReLU) per ``hidden_units`` -> Dense(D, ``output_activation``).
    Discriminator: flatten -> Dense(LeakyReLU 0.2) per ``hidden_units`` -> logit.

    Args:
        event_shape: shape of one example, ``(D,)`` or ``(H, W, C)``.
        latent_dim: dimension of ``z``.
        num_classes: number of classes of a conditional GAN (one-hot label concatenated to the
            inputs of both networks), or None.
        hidden_units: widths of the hidden layers of both networks.
        output_activation: None (linear outputs) or ``"tanh"`` (outputs in [-1, 1]).
        minibatch_kernels: number K of minibatch-discrimination features (0: off).
        minibatch_kernel_dim: dimension of each minibatch-discrimination kernel.
        replay_size: capacity of the experience-replay buffer of past fakes (0: off).
        replay_fraction: share of each fake batch the discriminator sees replaced by replayed
            fakes.
        label_smoothing: one-sided label smoothing of the real target (Salimans et al. 2016).
        seed: seed of the model's random stream (training noise, unseeded sampling).
        **kwargs: ``keras.Model`` arguments (``name``, ``dtype``).

    Example:
        >>> gan = GAN(event_shape=(2,), latent_dim=4, hidden_units=(16,))
        >>> gan.compile()
        >>> logs = gan.fit(tf.random.normal([64, 2]), batch_size=32, verbose=0).history
        >>> sorted(logs)
        ['d_fake_accuracy', 'd_loss', 'd_real_accuracy', 'g_loss']
        >>> gan.sample(5, seed=0).shape
        TensorShape([5, 2])
    """

    def __init__(
        self,
        event_shape: Sequence[int] = (2,),
        latent_dim: int = 16,
        num_classes: int | None = None,
        hidden_units: Sequence[int] = (128, 128),
        output_activation: str | None = None,
        minibatch_kernels: int = 0,
        minibatch_kernel_dim: int = 5,
        replay_size: int = 0,
        replay_fraction: float = 0.5,
        label_smoothing: float = 0.0,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(
            event_shape, latent_dim, num_classes, minibatch_kernels, minibatch_kernel_dim,
            replay_size, replay_fraction, label_smoothing, seed, **kwargs,
        )  # fmt: skip
        self.hidden_units = checks.positive_ints("hidden_units", hidden_units)
        self.output_activation = checks.one_of(
            "output_activation", output_activation, (None, "tanh")
        )

        z, y = self._inputs((latent_dim,), "z")
        h = keras.layers.Concatenate()([z, y]) if self.conditional else z
        for units in self.hidden_units:
            h = keras.layers.Dense(units, activation="relu")(h)
        out = keras.layers.Dense(self.num_dims, output_activation, dtype=output_layer_dtype())(h)
        out = keras.layers.Reshape(self.event_shape)(out)
        generator = keras.Model([z, y] if self.conditional else z, out, name="generator")

        x, y = self._inputs(self.event_shape, "x")
        h = keras.layers.Flatten()(x)
        h = keras.layers.Concatenate()([h, y]) if self.conditional else h
        for units in self.hidden_units:
            h = keras.layers.Dense(units, activation=keras.activations.leaky_relu)(h)
        self._finish(generator, [x, y] if self.conditional else x, h)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            hidden_units=list(self.hidden_units), output_activation=self.output_activation
        )
        return config


__all__ = ["GAN", "GANBase", "output_layer_dtype"]
