"""PixelCNN (van den Oord et al. 2016) and the base it shares with the gated PixelCNN.

Both are exact autoregressive density models over raster-ordered pixels (channels in order within
a pixel): ``log p(x) = sum_i log p(x_i | x_<i)``, with Bernoulli logits for binary images or
256-way categorical logits for 8-bit images. ``call``/``predict`` return the per-pixel logits
``[N, H, W, C * params]``; ``log_prob`` is exact; ``sample`` draws pixel by pixel, with the cached
fast path of Ramachandran et al. (2017) by default: the generic loop is in
:mod:`tfgen.models.pixelcnn_sampling`, each network's cached steps (``cache_init``, ``cache_row``,
``cache_pixel``) sit next to its layers. :class:`~tfgen.models.gated_pixelcnn.GatedPixelCNN` is in
its own module.
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
from tfgen.models.pixelcnn_sampling import at, put, window


class PixelCNNBase(AutoregressiveMixin, DensityModel):
    """Shared likelihood, output head, ``log_prob``, ``sample`` and config of the PixelCNNs.

    A subclass builds its layers in ``__init__`` (then calls :meth:`build_all`) and implements
    :meth:`logits` and the cached sampling steps :meth:`cache_init`, :meth:`cache_row` and
    :meth:`cache_pixel` (the protocol of :mod:`tfgen.models.pixelcnn_sampling`). Arguments as in
    :class:`PixelCNN`.
    """

    def __init__(
        self,
        event_shape: Sequence[int],
        num_layers: int,
        filters: int,
        kernel_size: int,
        first_kernel_size: int,
        output_filters: int | None,
        likelihood: str,
        num_classes: int | None,
        seed: int | None,
        **kwargs,
    ):
        super().__init__(event_shape=event_shape, num_classes=num_classes, seed=seed, **kwargs)
        self.num_layers = checks.positive_int("num_layers", num_layers)
        self.filters = checks.positive_int("filters", filters)
        self.kernel_size = checks.odd_int("kernel_size", kernel_size, 3)
        self.first_kernel_size = checks.odd_int("first_kernel_size", first_kernel_size, 3)
        channels = self.event_shape[-1]
        if filters % channels:
            raise checks.fail("filters", f"divisible by the image channels {channels}", filters)
        if output_filters is not None and (
            not checks.is_int(output_filters) or output_filters < 1 or output_filters % channels
        ):
            what = f"None or a positive multiple of the image channels {channels}"
            raise checks.fail("output_filters", what, output_filters)
        self.output_filters = output_filters
        self.likelihood = likelihood
        self.image_likelihood = dists.get_likelihood(likelihood)
        hidden = output_filters or 2 * filters
        out_channels = channels * self.image_likelihood.params_per_channel
        self.output_hidden = MaskedConv2D(hidden, 1, "B", channels, name="output_hidden")
        self.output_logits = MaskedConv2D(
            out_channels, 1, "B", channels, name="output_logits", dtype="float32"
        )

    @property
    def input_padding(self) -> int:
        """Zero border around the image during sampling: the first layer's reach."""
        return self.first_kernel_size // 2

    def build_all(self) -> None:
        """Creates every weight now (one forward pass on a zero image)."""
        labels = tf.zeros([1], tf.int32) if self.conditional else None
        self.logits(tf.zeros([1, *self.event_shape]), labels)
        self.built = True

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

    def conditions(self, labels, num: int, size: int) -> list:
        """``num`` per-layer label embeddings ``[N, size]`` (Nones when unconditional)."""
        if labels is None:
            return [None] * num
        emb = tf.cast(self.label_embedding(labels), self.compute_dtype)
        return tf.split(emb, num, axis=-1)

    def output_head(self, h: tf.Tensor, one_position: bool = False) -> tf.Tensor:
        """``ReLU -> 1x1 -> ReLU -> 1x1``: features to logits (``one_position``: ``[N, F]``)."""
        if one_position:
            hidden = tf.nn.relu(at(self.output_hidden, tf.nn.relu(h)))
            return at(self.output_logits, hidden)
        return self.output_logits(tf.nn.relu(self.output_hidden(tf.nn.relu(h))))

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
        """
        x = tf.convert_to_tensor(x, tf.float32)
        return self.training_log_prob(x, self.check_labels(labels, x.shape[0]))

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
            method: ``"cached"`` (default: every layer is evaluated once per pixel from cached
                activations, Ramachandran et al. 2017) or ``"naive"`` (one full network pass per
                pixel and channel: the reference).
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
        observed, mask = sampling.check_completion(self, num_samples, observed, mask)
        return sampling.sample(self, method, num_samples, seed, labels, observed, mask)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            num_layers=self.num_layers,
            filters=self.filters,
            kernel_size=self.kernel_size,
            first_kernel_size=self.first_kernel_size,
            output_filters=self.output_filters,
            likelihood=self.likelihood,
            num_classes=self.num_classes,
        )
        return config


@keras.saving.register_keras_serializable(package="tfgen")
class PixelCNN(PixelCNNBase):
    """PixelCNN (van den Oord et al. 2016): masked convolutions, residual blocks, 1x1 output.

    A ``first_kernel_size`` type-A masked convolution to ``2 * filters`` channels, then
    ``num_layers`` residual blocks ``ReLU -> 1x1 (filters) -> ReLU -> kxk type-B -> ReLU -> 1x1
    (2 * filters) -> + input``, then ``ReLU -> 1x1 -> ReLU -> 1x1`` to the logits. Labels (when
    ``num_classes`` is set) add a learned embedding after the first convolution and every block.
    Its receptive field has the known blind spot: pixels above and to the right of the current
    one beyond a diagonal are never seen (the gated variant fixes this).

    Args:
        event_shape: ``(H, W, C)``.
        num_layers: residual blocks.
        filters: channels of the blocks' inner layers (the residual stream has twice as many).
        kernel_size: odd size of the blocks' type-B convolutions.
        first_kernel_size: odd size of the first (type-A) convolution.
        output_filters: channels of the hidden 1x1 output layer (default ``2 * filters``).
        likelihood: ``"bernoulli"`` (binary images) or ``"categorical"`` (256 levels).
        num_classes: number of label classes for a class-conditional model, or None.
        seed: seed of the model's random stream (unseeded sampling).
        **kwargs: ``keras.Model`` arguments.

    Raises:
        ValueError: naming the argument when one is invalid.

    Example:
        >>> import tfgen
        >>> model = tfgen.models.PixelCNN(event_shape=(2, 2, 1), num_layers=1, filters=4)
        >>> x = tf.constant([[[[1.0], [0.0]], [[1.0], [1.0]]]])
        >>> model.log_prob(x).shape, model.predict(x, verbose=0).shape
        (TensorShape([1]), (1, 2, 2, 1))
        >>> model.sample(3, seed=0).shape
        TensorShape([3, 2, 2, 1])

    References:
        van den Oord, Kalchbrenner & Kavukcuoglu, "Pixel Recurrent Neural Networks", ICML 2016.
    """

    def __init__(
        self,
        event_shape: Sequence[int] = (28, 28, 1),
        num_layers: int = 15,
        filters: int = 16,
        kernel_size: int = 3,
        first_kernel_size: int = 7,
        output_filters: int | None = None,
        likelihood: str = "bernoulli",
        num_classes: int | None = None,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(
            event_shape, num_layers, filters, kernel_size, first_kernel_size, output_filters,
            likelihood, num_classes, seed, **kwargs,
        )  # fmt: skip
        c, n = self.event_shape[-1], self.num_layers
        f, k = self.filters, self.kernel_size
        self.input_conv = MaskedConv2D(2 * f, self.first_kernel_size, "A", c, name="input_conv")
        self.down = [MaskedConv2D(f, 1, "B", c, name=f"down_{i}") for i in range(n)]
        self.convs = [MaskedConv2D(f, k, "B", c, name=f"conv_{i}") for i in range(n)]
        self.up = [MaskedConv2D(2 * f, 1, "B", c, name=f"up_{i}") for i in range(n)]
        self.label_embedding = self.label_embedding_layer((n + 1) * 2 * f)
        self.build_all()

    def logits(self, x, labels=None) -> tf.Tensor:
        conds = self.conditions(labels, self.num_layers + 1, 2 * self.filters)
        h = self.input_conv(x)
        if conds[0] is not None:
            h += conds[0][:, None, None]
        for i in range(self.num_layers):
            t = tf.nn.relu(self.down[i](tf.nn.relu(h)))
            h = h + self.up[i](tf.nn.relu(self.convs[i](t)))
            if conds[i + 1] is not None:
                h += conds[i + 1][:, None, None]
        return self.output_head(h)

    # Cached sampling: block i keeps the rows its kxk conv reads of its input t (the ReLU'd 1x1
    # "down" output): the k // 2 previous rows and the current one, padded by k // 2 columns.
    def cache_init(self, n, labels):
        """Per-block ``(previous rows, current row)`` buffers (zeros); consts: label terms."""
        w, k, f = self.event_shape[1], self.kernel_size, self.filters
        zeros = lambda *s: tf.zeros([n, *s], self.compute_dtype)  # noqa: E731
        conds = self.conditions(labels, self.num_layers + 1, 2 * f)
        state = [(zeros(k // 2, w + k - 1, f), zeros(w + k - 1, f)) for _ in range(self.num_layers)]
        return state, conds

    def cache_row(self, state, consts, x_pad, r):
        """Start of row ``r``: the finished row moves into the previous-rows buffers."""
        state = [
            (tf.concat([prev[:, 1:], cur[:, None]], axis=1), tf.zeros_like(cur))
            for prev, cur in state
        ]
        return state, None

    def cache_pixel(self, state, consts, row, x_pad, r, c):
        """Logits ``[N, C * params]`` at ``(r, c)`` and the updated buffers."""
        conds, k, p = consts, self.kernel_size, self.input_padding
        h = self.input_conv.call_window(window(self.input_conv, x_pad, r + p, c + p))
        if conds[0] is not None:
            h += conds[0]
        new_state = []
        for i, (prev, cur) in enumerate(state):
            t = tf.nn.relu(at(self.down[i], tf.nn.relu(h)))
            cur = put(cur, c + k // 2, t)
            win = tf.concat([prev[:, :, c : c + k], cur[:, None, c : c + k]], axis=1)
            h = h + at(self.up[i], tf.nn.relu(self.convs[i].call_window(win)))
            if conds[i + 1] is not None:
                h += conds[i + 1]
            new_state.append((prev, cur))
        return self.output_head(h, one_position=True), new_state


__all__ = ["PixelCNN", "PixelCNNBase"]
