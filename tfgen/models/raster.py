"""What the raster-order pixel models (PixelCNN, gated PixelCNN, PixelRNN) share.

Each is an exact autoregressive density model over raster-ordered pixels (channels in order
within a pixel): ``log p(x) = sum_i log p(x_i | x_<i)``, with Bernoulli logits for binary images
or 256-way categorical logits for 8-bit images. :class:`RasterAutoregressiveModel` owns the
likelihood, the label embedding, the ``ReLU -> 1x1 -> ReLU -> 1x1`` output head,
``call``/``log_prob``/``sample`` and the shared config; a network subclass builds its layers, then
calls :meth:`~RasterAutoregressiveModel.build_all`, and implements :meth:`logits` and the cached
sampling steps of :mod:`tfgen.models.pixelcnn_sampling`.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf

from tfgen import checks
from tfgen import distributions as dists
from tfgen.layers.masked import MaskedConv2D
from tfgen.models import pixelcnn_sampling as sampling
from tfgen.models.autoregressive import AutoregressiveMixin
from tfgen.models.base import DensityModel
from tfgen.models.pixelcnn_sampling import at


class RasterAutoregressiveModel(AutoregressiveMixin, DensityModel):
    """Likelihood, checks, output head, ``log_prob``, ``sample`` and config of raster models.

    Args:
        event_shape: ``(H, W, C)``.
        first_kernel_size: odd size of the network's first (mask-A) convolution; its half is
            the zero border the sampling loop puts around the image.
        likelihood: ``"bernoulli"`` (binary images) or ``"categorical"`` (256 levels).
        num_classes: number of label classes for a class-conditional model, or None.
        seed: seed of the model's random stream (unseeded sampling).
        **kwargs: ``keras.Model`` arguments.

    Example:
        >>> import tfgen
        >>> model = tfgen.models.PixelCNN(event_shape=(2, 2, 1), num_layers=1, filters=4)
        >>> isinstance(model, RasterAutoregressiveModel), model.input_padding
        (True, 3)
    """

    def __init__(
        self,
        event_shape: Sequence[int],
        first_kernel_size: int,
        likelihood: str,
        num_classes: int | None,
        seed: int | None,
        **kwargs,
    ):
        super().__init__(event_shape=event_shape, num_classes=num_classes, seed=seed, **kwargs)
        self.first_kernel_size = checks.odd_int("first_kernel_size", first_kernel_size, 3)
        self.likelihood = likelihood
        self.image_likelihood = dists.get_likelihood(likelihood)

    # ------------------------------------------------------------------------------ layers
    @property
    def input_padding(self) -> int:
        """Zero border around the image during sampling: the first layer's reach."""
        return self.first_kernel_size // 2

    def build_output_head(self, hidden: int) -> None:
        """Creates the head's layers: a mask-B 1x1 to ``hidden`` channels, one to the logits."""
        channels = self.event_shape[-1]
        out_channels = channels * self.image_likelihood.params_per_channel
        self.output_hidden = MaskedConv2D(hidden, 1, "B", channels, name="output_hidden")
        self.output_logits = MaskedConv2D(
            out_channels, 1, "B", channels, name="output_logits", dtype="float32"
        )

    def label_embedding_layer(self, size: int) -> keras.layers.Embedding | None:
        """A ``[num_classes, size]`` label embedding (None when unconditional)."""
        if not self.conditional:
            return None
        # N(0, 1) rows: labels change the conditionals visibly from initialisation on
        return keras.layers.Embedding(
            self.num_classes,
            size,
            embeddings_initializer=keras.initializers.RandomNormal(stddev=1.0),
            name="label_embedding",
        )

    def build_all(self) -> None:
        """Creates every weight now (one forward pass on a zero image)."""
        labels = tf.zeros([1], tf.int32) if self.conditional else None
        self.logits(tf.zeros([1, *self.event_shape]), labels)
        self.built = True

    def conditions(self, labels, num: int, size: int) -> list:
        """``num`` per-layer label embeddings ``[N, size]`` (Nones when unconditional)."""
        if labels is None:
            return [None] * num
        emb = tf.cast(self.label_embedding(labels), self.compute_dtype)
        return tf.split(emb, num, axis=-1)

    def output_head(self, h: tf.Tensor, one_position: bool = False) -> tf.Tensor:
        """``ReLU -> 1x1 -> ReLU -> 1x1``: features to logits (``one_position``: ``[N, F]``)."""
        if one_position:
            return at(self.output_logits, tf.nn.relu(at(self.output_hidden, tf.nn.relu(h))))
        return self.output_logits(tf.nn.relu(self.output_hidden(tf.nn.relu(h))))

    # ------------------------------------------------------------------------------ network
    def network_input(self, x) -> tf.Tensor:
        """Images in [0, 1] -> the values the network reads (quantized to the support).

        The quantization is straight-through, so gradients with respect to ``x`` exist (the
        causality checks differentiate the logits with respect to the image).
        """
        like = self.image_likelihood
        x = tf.convert_to_tensor(x, tf.float32)
        return x + tf.stop_gradient(like.from_support(like.to_support(x)) - x)

    def logits(self, x, labels=None) -> tf.Tensor:
        """Per-pixel logits ``[N, H, W, C * params]`` of ``p(x_i | x_<i)``.

        ``x`` holds network inputs (:meth:`network_input`), ``labels`` validated int32 ids.
        """
        raise NotImplementedError

    def cache_init(self, n, labels):
        """Cached sampling: ``(state, consts)`` for ``n`` images (see pixelcnn_sampling)."""
        raise NotImplementedError

    def cache_row(self, state, consts, x_pad, r):
        """Cached sampling, start of row ``r``: ``(state, row)``."""
        raise NotImplementedError

    def cache_pixel(self, state, consts, row, x_pad, r, c):
        """Cached sampling: ``(logits [N, C * params], state)`` at pixel ``(r, c)``."""
        raise NotImplementedError

    def call(self, inputs, training: bool = False) -> tf.Tensor:
        x, labels = self._split_inputs(inputs)
        return self.logits(self.network_input(x), self.check_labels(labels))

    # ------------------------------------------------------------------------------ density
    def training_log_prob(self, x, labels=None, training: bool = False) -> tf.Tensor:
        x = tf.convert_to_tensor(x, tf.float32)
        logits = self.logits(self.network_input(x), labels)
        like = self.image_likelihood
        return like.distribution(logits).log_prob(like.to_support(x))

    def log_prob(self, x, labels=None) -> tf.Tensor:
        """Exact ``log p(x)`` (or ``log p(x | labels)``) in nats, ``[batch]``.

        Args:
            x: ``[batch, H, W, C]`` images in [0, 1] (binary for ``"bernoulli"``).
            labels: ``[batch]`` class ids (conditional models only).

        Raises:
            ValueError: naming ``x`` or ``labels`` (``x`` must hold finite values in
                :attr:`value_range`: [0, 1], levels ``k / 255`` for ``"categorical"``).
        """
        x = self.check_inputs(x)
        return self.training_log_prob(x, self.check_labels(labels, self._batch_size(x)))

    def sample(
        self,
        num_samples: int,
        *,
        seed: int | None = None,
        labels=None,
        method: str = "cached",
        observed=None,
        mask=None,
    ) -> tf.Tensor:
        """Draws images ``[num_samples, H, W, C]`` pixel by pixel (channels in order).

        Each value is drawn from its conditional with its own stateless random numbers (the same
        for both methods), so ``"cached"`` and ``"naive"`` give the same images for the same seed
        and weights, up to a rare flip where float rounding of the logits moves a probability
        across the random threshold.

        Args:
            num_samples: how many images.
            seed: int for reproducible samples; None draws from the model's random stream.
            labels: ``[num_samples]`` class ids (conditional models only); None draws them
                uniformly from ``[0, num_classes)``.
            method: ``"cached"`` (default: every layer runs once per pixel from cached
                activations or carried states, Ramachandran et al. 2017) or ``"naive"`` (one full
                network pass per pixel and channel: the reference).
            observed: images ``[num_samples, H, W, C]`` (or one ``[H, W, C]``) in [0, 1] whose
                pixels where ``mask`` is true are kept instead of drawn (image completion; each
                missing pixel is drawn from ``p(x_i | x_<i)``, given pixels before it only).
            mask: bool (or 0/1) array broadcastable to the samples: true where ``observed``
                is given. Required with ``observed`` (see
                :func:`tfgen.models.autoregressive.check_completion`).

        Raises:
            ValueError: naming ``method``, ``num_samples``, ``labels``, ``observed`` or ``mask``.
        """
        checks.one_of("method", method, sampling.METHODS)
        num_samples = self._check_num_samples(num_samples)
        seed = self._seed(seed)
        labels = self._sample_labels(labels, num_samples, seed)
        observed, mask = self.check_completion(num_samples, observed, mask)

        def draw(n, seed, labels, observed, mask):
            observed, mask = sampling.completion_inputs(self, n, observed, mask)
            return sampling.sample(self, method, n, seed, labels, observed, mask)

        return self._in_chunks(draw, num_samples, seed, labels, observed, mask)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            first_kernel_size=self.first_kernel_size,
            likelihood=self.likelihood,
            num_classes=self.num_classes,
        )
        return config


__all__ = ["RasterAutoregressiveModel"]
