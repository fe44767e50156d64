"""Conditional VAE ``p(z) p(x | z, y)`` with ``q(z | x, y)`` (Sohn et al. 2015)."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf

from tfgen import checks
from tfgen.models.vae import VAE

CONDITIONINGS = ("onehot", "embedding")


@keras.saving.register_keras_serializable(package="tfgen")
class ConditionalVAE(VAE):
    """A :class:`~tfgen.models.VAE` whose encoder and decoder also see an integer label.

    ``q(z | x, y)`` and ``p(x | z, y)`` are the VAE's networks with label features appended to
    their inputs: to the image as constant extra channels (encoder) and to the code (decoder).
    The features are a one-hot vector (``conditioning="onehot"``, the default) or a learnt
    ``embedding_dim``-wide embedding (``conditioning="embedding"``). The prior ``p(z)`` does not
    depend on the label, so ``sample(labels=...)`` draws ``z ~ p(z)`` and decodes it with the label.

    Everything else is the VAE's (and the shared train step's): ``fit`` on ``(x, labels)`` data
    (``tfgen.data.load(..., labels=True)``) maximises the conditional ELBO and reports ``loss``,
    ``elbo``, ``kl``, ``reconstruction``, ``bits_per_dim``;
    ``log_prob(x, labels, importance_samples=k)`` is the importance-weighted estimate of
    ``log p(x | labels)``, ``elbo(x, labels)`` the bound.

    Note: the TensorFlow tutorial called "CVAE" is a *convolutional* (unconditional) VAE, which is
    :class:`~tfgen.models.VAE` here; this class is the *conditional* VAE.

    Data (``model.value_range``): images in [0, 1], binary for ``likelihood="bernoulli"`` (grey
    levels are scored as given), 8-bit levels ``k / 255`` for ``"categorical"``.

    Args:
        event_shape: ``(H, W, C)``; H and W must be divisible by ``2 ** len(decoder_filters)``.
        num_classes: number of label classes (labels are ints in ``[0, num_classes)``).
        latent_dim: dimension of ``z``.
        conditioning: ``"onehot"`` or ``"embedding"``: how labels become network inputs.
        embedding_dim: width of the learnt label embedding (``conditioning="embedding"`` only).
        likelihood: ``"bernoulli"`` or ``"categorical"``.
        prior: ``"normal"`` or ``"mixture"`` (see :class:`~tfgen.models.VAE`).
        prior_components: mixture components when ``prior="mixture"``.
        encoder_filters: channels of the encoder's stride-2 convolutions.
        decoder_filters: channels of the decoder's stride-2 transposed convolutions.
        seed: seed of the model's random stream.
        **kwargs: ``keras.Model`` arguments (``name``, ``dtype``).

    Raises:
        ValueError: naming ``num_classes``, ``conditioning``, ``embedding_dim`` or a VAE argument
            when it is invalid; naming ``labels`` in every method when labels have the wrong
            dtype, shape or count or lie outside ``[0, num_classes)``.

    Example:
        >>> import tfgen
        >>> cvae = tfgen.models.ConditionalVAE(event_shape=(8, 8, 1), num_classes=4)
        >>> cvae.sample(3, seed=0, labels=[0, 1, 3]).shape
        TensorShape([3, 8, 8, 1])
        >>> x = tf.zeros([2, 8, 8, 1])
        >>> cvae.log_prob(x, labels=[2, 2], importance_samples=4).shape
        TensorShape([2])
        >>> cvae.sample(2, seed=0).shape  # labels=None: labels drawn uniformly
        TensorShape([2, 8, 8, 1])

    References:
        Sohn, Lee & Yan, "Learning Structured Output Representation using Deep Conditional
        Generative Models", NeurIPS 2015.
        Kingma, Rezende, Mohamed & Welling, "Semi-Supervised Learning with Deep Generative
        Models", NeurIPS 2014.
    """

    def __init__(
        self,
        event_shape: Sequence[int] = (28, 28, 1),
        num_classes: int = 10,
        latent_dim: int = 2,
        conditioning: str = "onehot",
        embedding_dim: int = 16,
        likelihood: str = "bernoulli",
        prior: str = "normal",
        prior_components: int = 10,
        encoder_filters: Sequence[int] = (32, 64),
        decoder_filters: Sequence[int] = (64, 32),
        seed: int | None = None,
        **kwargs,
    ):
        checks.one_of("conditioning", conditioning, CONDITIONINGS)
        checks.positive_int("embedding_dim", embedding_dim)
        checks.int_at_least("num_classes", num_classes, 2)
        # Read by VAE.__init__ (label_feature_dim) to size the networks' inputs.
        self.conditioning, self.embedding_dim = conditioning, embedding_dim
        self._feature_dim = num_classes if conditioning == "onehot" else embedding_dim
        super().__init__(
            event_shape=event_shape,
            latent_dim=latent_dim,
            likelihood=likelihood,
            prior=prior,
            prior_components=prior_components,
            encoder_filters=encoder_filters,
            decoder_filters=decoder_filters,
            seed=seed,
            num_classes=num_classes,
            **kwargs,
        )
        self.label_embedding = None
        if conditioning == "embedding":
            self.label_embedding = keras.layers.Embedding(
                num_classes, embedding_dim, name="label_embedding"
            )
            self.label_embedding.build((None,))

    @property
    def label_feature_dim(self) -> int:
        """Width of the label features appended to the encoder's and decoder's inputs."""
        return self._feature_dim

    def label_features(self, labels, num) -> tf.Tensor:
        """Validated ``labels`` -> ``[N, label_feature_dim]`` float features (one-hot or embedding).

        Args:
            labels: int class ids ``[N]``.
            num: expected N (int, or an int tensor inside a traced function).
        """
        labels = self.check_labels(labels, num)
        if self.label_embedding is not None:
            return tf.cast(self.label_embedding(labels), self.compute_dtype)
        return tf.one_hot(labels, self.num_classes, dtype=self.compute_dtype)

    def encoder_inputs(self, x, labels=None, training: bool = False) -> tf.Tensor:
        """Images with the label features as constant extra channels ``[B, H, W, C + F]``."""
        x = tf.convert_to_tensor(x)
        features = self.label_features(labels, _batch_size(x))
        height, width, _ = self.event_shape
        maps = tf.tile(features[:, None, None, :], [1, height, width, 1])
        return tf.concat([tf.cast(x, maps.dtype), maps], axis=-1)

    def decoder_inputs(self, z, labels=None, training: bool = False) -> tf.Tensor:
        """Codes with the label features appended ``[B, latent_dim + F]``."""
        features = self.label_features(labels, _batch_size(z))
        return tf.concat([tf.cast(z, features.dtype), features], axis=-1)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(conditioning=self.conditioning, embedding_dim=self.embedding_dim)
        return config


def _batch_size(t) -> int | tf.Tensor:
    """Static batch size when known (eager: a clear ValueError), else the dynamic one."""
    n = t.shape[0]
    return int(n) if n is not None else tf.shape(t)[0]


CVAE = ConditionalVAE
