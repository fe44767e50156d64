"""PixelCNN (van den Oord et al. 2016) and the sizes it shares with the gated PixelCNN.

The likelihood, ``call``/``log_prob``/``sample`` and the output head come from
:class:`~tfgen.models.raster.RasterAutoregressiveModel` (shared with the PixelRNN); the generic
generation loop from :mod:`tfgen.models.pixelcnn_sampling`. Each network's cached sampling steps
(``cache_init``, ``cache_row``, ``cache_pixel``) sit next to its layers.
:class:`~tfgen.models.gated_pixelcnn.GatedPixelCNN` is in its own module.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf

from tfgen import checks
from tfgen.layers.masked import MaskedConv2D
from tfgen.models.pixelcnn_sampling import at, put, window
from tfgen.models.raster import RasterAutoregressiveModel


class PixelCNNBase(RasterAutoregressiveModel):
    """The PixelCNNs' sizes (layers, filters, kernels, output filters) on the raster base.

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
        super().__init__(event_shape, first_kernel_size, likelihood, num_classes, seed, **kwargs)
        self.num_layers = checks.positive_int("num_layers", num_layers)
        self.filters = checks.positive_int("filters", filters)
        self.kernel_size = checks.odd_int("kernel_size", kernel_size, 3)
        channels = self.event_shape[-1]
        if filters % channels:
            raise checks.fail("filters", f"divisible by the image channels {channels}", filters)
        if output_filters is not None and (
            not checks.is_int(output_filters) or output_filters < 1 or output_filters % channels
        ):
            what = f"None or a positive multiple of the image channels {channels}"
            raise checks.fail("output_filters", what, output_filters)
        self.output_filters = output_filters
        self.build_output_head(output_filters or 2 * filters)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            num_layers=self.num_layers,
            filters=self.filters,
            kernel_size=self.kernel_size,
            output_filters=self.output_filters,
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
        filters: channels of the blocks' inner layers (the residual stream has twice as many);
            a multiple of the image channels (the default 18 fits grey and RGB images).
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
        filters: int = 18,
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
