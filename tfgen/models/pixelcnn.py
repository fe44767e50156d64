"""PixelCNN (van den Oord et al. 2016) and gated PixelCNN with class conditioning.

Both are exact autoregressive density models over raster-ordered pixels (channels in order within
a pixel): ``log p(x) = sum_i log p(x_i | x_<i)``, with Bernoulli logits for binary images or
256-way categorical logits for 8-bit images. ``call``/``predict`` return the per-pixel logits
``[N, H, W, C * params]``; ``log_prob`` is exact; ``sample`` draws pixel by pixel, with the cached
fast path of Ramachandran et al. (2017) by default (see :mod:`tfgen.models.pixelcnn_sampling`).
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf

from tfgen import distributions as dists
from tfgen.layers.masked import MaskedConv2D
from tfgen.models import pixelcnn_sampling as sampling
from tfgen.models.autoregressive import AutoregressiveMixin
from tfgen.models.base import DensityModel
from tfgen.models.pixelcnn_sampling import at as _at
from tfgen.models.pixelcnn_sampling import gate as _gate


class _PixelCNNBase(AutoregressiveMixin, DensityModel):
    """Shared likelihood, ``log_prob``, ``sample`` and config of the two PixelCNN variants."""

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
        for name, value in (("num_layers", num_layers), ("filters", filters)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int; got {value!r}")
        for name, value in (("kernel_size", kernel_size), ("first_kernel_size", first_kernel_size)):
            if not isinstance(value, int) or value < 3 or value % 2 == 0:
                raise ValueError(f"{name} must be an odd int >= 3; got {value!r}")
        channels = self.event_shape[-1]
        if filters % channels:
            raise ValueError(f"filters must be divisible by the image channels {channels}")
        if output_filters is not None and (
            not isinstance(output_filters, int) or output_filters < 1 or output_filters % channels
        ):
            raise ValueError(
                f"output_filters must be None or a positive multiple of {channels}; "
                f"got {output_filters!r}"
            )
        self.num_layers, self.filters = num_layers, filters
        self.kernel_size, self.first_kernel_size = kernel_size, first_kernel_size
        self.output_filters = output_filters
        self.likelihood = likelihood
        self.image_likelihood = dists.get_likelihood(likelihood)
        hidden = output_filters or 2 * filters
        out_channels = channels * self.image_likelihood.params_per_channel
        self.output_hidden = MaskedConv2D(hidden, 1, "B", channels, name="output_hidden")
        self.output_logits = MaskedConv2D(
            out_channels, 1, "B", channels, name="output_logits", dtype="float32"
        )

    def _build_all(self):
        """Creates every weight now (one forward pass on a zero image)."""
        labels = tf.zeros([1], tf.int32) if self.conditional else None
        self.logits(tf.zeros([1, *self.event_shape]), labels)
        self.built = True

    def _embedding(self, size: int):
        if not self.conditional:
            return None
        # N(0, 1) rows: labels change the conditionals visibly from initialisation on
        return keras.layers.Embedding(
            self.num_classes,
            size,
            embeddings_initializer=keras.initializers.RandomNormal(stddev=1.0),
            name="label_embedding",
        )

    def _conditions(self, labels, num: int, size: int) -> list:
        """``num`` per-layer label embeddings ``[N, size]`` (Nones when unconditional)."""
        if labels is None:
            return [None] * num
        emb = tf.cast(self.label_embedding(labels), self.compute_dtype)
        return tf.split(emb, num, axis=-1)

    def _output(self, h: tf.Tensor, at: bool = False) -> tf.Tensor:
        if at:
            hidden = tf.nn.relu(_at(self.output_hidden, tf.nn.relu(h)))
            return _at(self.output_logits, hidden)
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
        """Per-pixel logits ``[N, H, W, C * params]`` of ``p(x_i | x_<i)`` (labels unchecked)."""
        raise NotImplementedError

    def call(self, inputs, training: bool = False) -> tf.Tensor:
        x, labels = self._split_inputs(inputs)
        return self.logits(self.network_input(x), self.check_labels(labels))

    def _log_prob(self, x, labels) -> tf.Tensor:
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
        return self._log_prob(x, self.check_labels(labels, x.shape[0]))

    def training_log_prob(self, x, labels=None, training: bool = False) -> tf.Tensor:
        return self._log_prob(x, labels)

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
            labels: ``[num_samples]`` class ids (conditional models only).
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
        if method not in sampling.METHODS:
            raise ValueError(f"method must be one of {list(sampling.METHODS)}; got {method!r}")
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
class PixelCNN(_PixelCNNBase):
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

    cache_kind = "plain"  # its cached-sampling hooks in pixelcnn_sampling.HOOKS

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
        c = self.event_shape[-1]
        self.input_conv = MaskedConv2D(2 * filters, first_kernel_size, "A", c, name="input_conv")
        self.down = [MaskedConv2D(filters, 1, "B", c, name=f"down_{i}") for i in range(num_layers)]
        self.convs = [
            MaskedConv2D(filters, kernel_size, "B", c, name=f"conv_{i}") for i in range(num_layers)
        ]
        self.up = [MaskedConv2D(2 * filters, 1, "B", c, name=f"up_{i}") for i in range(num_layers)]
        self.label_embedding = self._embedding((num_layers + 1) * 2 * filters)
        self._build_all()

    def logits(self, x, labels=None) -> tf.Tensor:
        conds = self._conditions(labels, self.num_layers + 1, 2 * self.filters)
        h = self.input_conv(x)
        if conds[0] is not None:
            h += conds[0][:, None, None]
        for i in range(self.num_layers):
            t = tf.nn.relu(self.down[i](tf.nn.relu(h)))
            h = h + self.up[i](tf.nn.relu(self.convs[i](t)))
            if conds[i + 1] is not None:
                h += conds[i + 1][:, None, None]
        return self._output(h)


@keras.saving.register_keras_serializable(package="tfgen")
class GatedPixelCNN(_PixelCNNBase):
    """Gated PixelCNN (van den Oord et al. 2016b): vertical + horizontal stacks, no blind spot.

    Layer 0 reads the image: a ``first_kernel_size`` square ``"VA"`` convolution (rows strictly
    above) feeds the vertical stack, a ``1 x first_kernel_size`` type-A convolution (left of the
    pixel) the horizontal one. Each of the ``num_layers`` layers computes ``v' = gate(conv_v(v))``
    with a ``"VB"`` kxk kernel and ``h' = h + 1x1(gate(conv_h(h) + 1x1(conv_v(v))))`` with a
    ``1 x k`` type-B kernel, where ``gate(a, b) = tanh(a) * sigmoid(b)``. Labels add a learned
    per-layer embedding to both stacks' gate inputs (conditional PixelCNN). Output: ``ReLU -> 1x1
    -> ReLU -> 1x1`` logits from the horizontal stack.

    Args:
        event_shape: ``(H, W, C)``.
        num_layers: gated layers (including the first).
        filters: channels of each stack.
        kernel_size: odd size of the later layers' kernels.
        first_kernel_size: odd size of layer 0's kernels.
        output_filters: channels of the hidden 1x1 output layer (default ``2 * filters``).
        likelihood: ``"bernoulli"`` or ``"categorical"``.
        num_classes: number of label classes for a class-conditional model, or None.
        seed: seed of the model's random stream (unseeded sampling).
        **kwargs: ``keras.Model`` arguments.

    Raises:
        ValueError: naming the argument when one is invalid.

    Example:
        >>> import tfgen
        >>> model = tfgen.models.GatedPixelCNN((4, 4, 1), num_layers=2, filters=8, num_classes=3)
        >>> model.sample(2, seed=0, labels=[0, 2]).shape
        TensorShape([2, 4, 4, 1])

    References:
        van den Oord et al., "Conditional Image Generation with PixelCNN Decoders", NeurIPS 2016.
    """

    cache_kind = "gated"  # its cached-sampling hooks in pixelcnn_sampling.HOOKS

    def __init__(
        self,
        event_shape: Sequence[int] = (28, 28, 1),
        num_layers: int = 6,
        filters: int = 32,
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
        c, f = self.event_shape[-1], filters
        sizes = [first_kernel_size] + [kernel_size] * (num_layers - 1)
        self.v_convs = [
            MaskedConv2D(2 * f, k, "VA" if i == 0 else "VB", name=f"v_conv_{i}")
            for i, k in enumerate(sizes)
        ]
        self.h_convs = [
            MaskedConv2D(2 * f, (1, k), "A" if i == 0 else "B", c, name=f"h_conv_{i}")
            for i, k in enumerate(sizes)
        ]
        self.v_to_h = [keras.layers.Dense(2 * f, name=f"v_to_h_{i}") for i in range(num_layers)]
        self.h_out = [MaskedConv2D(f, 1, "B", c, name=f"h_out_{i}") for i in range(num_layers)]
        self.label_embedding = self._embedding(num_layers * 2 * f)
        self._build_all()

    def _layer(self, i, v, h_gate_in, h, cond):
        """One gated layer from the pre-activations; shared by the full and the cached pass."""
        if cond is not None:
            v = v + cond
            h_gate_in = h_gate_in + cond
        h_gate_in = h_gate_in + self.v_to_h[i](v)
        return _gate(v), h_gate_in

    def logits(self, x, labels=None) -> tf.Tensor:
        conds = self._conditions(labels, self.num_layers, 2 * self.filters)
        v, h = x, x
        for i in range(self.num_layers):
            cond = None if conds[i] is None else conds[i][:, None, None]
            v, gate_in = self._layer(i, self.v_convs[i](v), self.h_convs[i](h), h, cond)
            update = self.h_out[i](_gate(gate_in))
            h = update if i == 0 else h + update
        return self._output(h)
