"""DCGAN (Radford et al. 2015) and the conditional DCGAN, on the shared :class:`GANBase`."""

from __future__ import annotations

from collections.abc import Sequence

import keras

from tfgen import checks
from tfgen.distributions import SYMMETRIC
from tfgen.layers.dropout import ReplicaDropout
from tfgen.models.gan import GANBase, output_layer_dtype


@keras.saving.register_keras_serializable(package="tfgen")
class DCGAN(GANBase):
    """Deep convolutional GAN (Radford et al. 2015); conditional with ``num_classes``.

    Generator: Dense(H/4 * W/4 * f0) -> BN -> ReLU -> reshape -> Conv2DTranspose(f1, 4, stride 2)
    -> BN -> ReLU -> Conv2DTranspose(C, 4, stride 2) -> tanh: images in [-1, 1] (train on data
    scaled to (-1, 1)). Discriminator: Conv2D(d0, 4, stride 2) -> LeakyReLU(0.2) -> Dropout ->
    Conv2D(d1, 4, stride 2) -> LeakyReLU(0.2) -> Dropout -> flatten -> logit. A conditional DCGAN
    (``num_classes``) concatenates the one-hot label to ``z`` and, as constant feature maps, to
    the discriminator's input image; ``fit`` data is then ``(x, labels)`` and ``sample`` takes
    ``labels=``.

    Args:
        event_shape: ``(H, W, C)``; H and W divisible by ``2 ** len(generator_filters)`` (4).
        latent_dim: dimension of ``z`` (100 in the paper).
        num_classes: number of classes of a conditional DCGAN, or None.
        generator_filters: channels of the generator's first map and of each hidden transposed
            convolution (one stride-2 upsampling per entry).
        discriminator_filters: channels of the discriminator's stride-2 convolutions.
        dropout: dropout rate after each discriminator convolution (as the TF DCGAN tutorial).
        minibatch_kernels: number K of minibatch-discrimination features (0: off).
        minibatch_kernel_dim: dimension of each minibatch-discrimination kernel.
        replay_size: capacity of the experience-replay buffer of past fakes (0: off).
        replay_fraction: share of each fake batch the discriminator sees replaced by replayed
            fakes.
        label_smoothing: one-sided label smoothing of the real target (Salimans et al. 2016).
        seed: seed of the model's random stream (training noise, unseeded sampling).
        **kwargs: ``keras.Model`` arguments (``name``, ``dtype``).

    Raises:
        ValueError: naming ``event_shape`` when its sides are not divisible, or the argument
            otherwise invalid.

    Example:
        >>> import tensorflow as tf
        >>> gan = DCGAN(event_shape=(8, 8, 1), latent_dim=8, num_classes=4)
        >>> gan.compile()
        >>> images = gan.sample(4, seed=0, labels=[0, 1, 2, 3])
        >>> images.shape, bool(tf.reduce_max(tf.abs(images)) <= 1.0)
        (TensorShape([4, 8, 8, 1]), True)

    References:
        Radford, Metz & Chintala, "Unsupervised Representation Learning with Deep Convolutional
        Generative Adversarial Networks", ICLR 2016. Mirza & Osindero, "Conditional Generative
        Adversarial Nets", 2014. Salimans et al., "Improved Techniques for Training GANs", 2016.
    """

    event_ranks = (3,)
    #: The generator ends in tanh: real images are scaled to [-1, 1] (``2 x - 1``).
    value_range = SYMMETRIC

    def __init__(
        self,
        event_shape: Sequence[int] = (28, 28, 1),
        latent_dim: int = 100,
        num_classes: int | None = None,
        generator_filters: Sequence[int] = (128, 64),
        discriminator_filters: Sequence[int] = (64, 128),
        dropout: float = 0.3,
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
        self.generator_filters = checks.positive_ints("generator_filters", generator_filters)
        self.discriminator_filters = checks.positive_ints(
            "discriminator_filters", discriminator_filters
        )
        self.dropout = checks.number_in("dropout", dropout, 0.0, 1.0, high_open=True)
        height, width, channels = self.event_shape
        factor = 2 ** len(self.generator_filters)
        checks.image_sides_divisible(
            "event_shape", self.event_shape, factor, "2 ** len(generator_filters)"
        )

        z, y = self._inputs((latent_dim,), "z")
        h = keras.layers.Concatenate()([z, y]) if self.conditional else z
        h0, w0 = height // factor, width // factor
        h = keras.layers.Dense(h0 * w0 * self.generator_filters[0], use_bias=False)(h)
        # synchronized: batch statistics over the global batch under a tf.distribute strategy, so
        # replicas normalize alike and keep identical moving statistics (one device: no change)
        norm = lambda: keras.layers.BatchNormalization(synchronized=True)  # noqa: E731
        h = keras.layers.ReLU()(norm()(h))
        h = keras.layers.Reshape((h0, w0, self.generator_filters[0]))(h)
        for f in self.generator_filters[1:]:
            h = keras.layers.Conv2DTranspose(f, 4, 2, padding="same", use_bias=False)(h)
            h = keras.layers.ReLU()(norm()(h))
        out = keras.layers.Conv2DTranspose(
            channels, 4, 2, padding="same", activation="tanh", dtype=output_layer_dtype()
        )(h)
        generator = keras.Model([z, y] if self.conditional else z, out, name="generator")

        x, y = self._inputs(self.event_shape, "x")
        h = x
        if self.conditional:
            maps = keras.layers.Reshape((1, 1, self.num_classes))(y)
            h = keras.layers.Concatenate()([x, keras.layers.UpSampling2D((height, width))(maps)])
        for i, f in enumerate(self.discriminator_filters):
            h = keras.layers.Conv2D(f, 4, 2, padding="same")(h)
            h = keras.layers.LeakyReLU(0.2)(h)
            seed = None if self.seed is None else self.seed + 1 + i  # masks differ per replica
            h = ReplicaDropout(self.dropout, seed=seed)(h) if self.dropout else h
        h = keras.layers.Flatten()(h)
        self._finish(generator, [x, y] if self.conditional else x, h)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            generator_filters=list(self.generator_filters),
            discriminator_filters=list(self.discriminator_filters),
            dropout=self.dropout,
        )
        return config


__all__ = ["DCGAN"]
