"""Gated PixelCNN (van den Oord et al. 2016b) with class conditioning, and its cached sampling.

Vertical and horizontal stacks of masked convolutions remove the plain PixelCNN's blind spot. The
likelihood, ``log_prob``, ``sample`` and config come from
:class:`~tfgen.models.pixelcnn.PixelCNNBase`; the generic generation loop from
:mod:`tfgen.models.pixelcnn_sampling`.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf

from tfgen.layers.masked import MaskedConv2D
from tfgen.models.pixelcnn import PixelCNNBase
from tfgen.models.pixelcnn_sampling import at, gate, put, window


@keras.saving.register_keras_serializable(package="tfgen")
class GatedPixelCNN(PixelCNNBase):
    """Gated PixelCNN (van den Oord et al. 2016b): vertical + horizontal stacks, no blind spot.

    Layer 0 reads the image: a ``first_kernel_size`` square ``"VA"`` convolution (rows strictly
    above) feeds the vertical stack, a ``1 x first_kernel_size`` type-A convolution (left of the
    pixel) the horizontal one. Each of the ``num_layers`` layers computes ``v' = gate(conv_v(v))``
    with a ``"VB"`` kxk kernel and ``h' = h + 1x1(gate(conv_h(h) + 1x1(conv_v(v))))`` with a
    ``1 x k`` type-B kernel, where ``gate(a, b) = tanh(a) * sigmoid(b)``. Labels add a learned
    per-layer embedding to both stacks' gate inputs (conditional PixelCNN). Output: ``ReLU -> 1x1
    -> ReLU -> 1x1`` logits from the horizontal stack.

    Data (``model.value_range``): images in [0, 1], binary for ``likelihood="bernoulli"`` (grey
    levels are scored as given), 8-bit levels ``k / 255`` for ``"categorical"``.

    Args:
        event_shape: ``(H, W, C)``.
        num_layers: gated layers (including the first).
        filters: channels of each stack; a multiple of the image channels (the default 30 fits
            grey and RGB images).
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
        >>> model.sample(2, seed=0).shape  # labels drawn uniformly
        TensorShape([2, 4, 4, 1])

    References:
        van den Oord et al., "Conditional Image Generation with PixelCNN Decoders", NeurIPS 2016.
    """

    def __init__(
        self,
        event_shape: Sequence[int] = (28, 28, 1),
        num_layers: int = 6,
        filters: int = 30,
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
        c, f, n = self.event_shape[-1], self.filters, self.num_layers
        sizes = [self.first_kernel_size] + [self.kernel_size] * (n - 1)
        self.v_convs = [
            MaskedConv2D(2 * f, k, "VA" if i == 0 else "VB", name=f"v_conv_{i}")
            for i, k in enumerate(sizes)
        ]
        self.h_convs = [
            MaskedConv2D(2 * f, (1, k), "A" if i == 0 else "B", c, name=f"h_conv_{i}")
            for i, k in enumerate(sizes)
        ]
        self.v_to_h = [keras.layers.Dense(2 * f, name=f"v_to_h_{i}") for i in range(n)]
        self.h_out = [MaskedConv2D(f, 1, "B", c, name=f"h_out_{i}") for i in range(n)]
        self.label_embedding = self.label_embedding_layer(n * 2 * f)
        self.build_all()

    def _layer(self, i, v, h_gate_in, cond):
        """Layer ``i`` from the stacks' pre-activations: ``(gated v, h's gate input)``.

        Shared by the full pass and the cached steps (``v`` ``[N, ..., 2F]``, ``h_gate_in``
        broadcastable to it, ``cond`` None or broadcastable).
        """
        if cond is not None:
            v = v + cond
            h_gate_in = h_gate_in + cond
        h_gate_in = h_gate_in + self.v_to_h[i](v)
        return gate(v), h_gate_in

    def logits(self, x, labels=None) -> tf.Tensor:
        conds = self.conditions(labels, self.num_layers, 2 * self.filters)
        v, h = x, x
        for i in range(self.num_layers):
            cond = None if conds[i] is None else conds[i][:, None, None]
            v, gate_in = self._layer(i, self.v_convs[i](v), self.h_convs[i](h), cond)
            update = self.h_out[i](gate(gate_in))
            h = update if i == 0 else h + update
        return self.output_head(h)

    # Cached sampling: the vertical stack depends on rows above only, so it is computed for a
    # whole row at the row's start from the k // 2 previous rows of each layer's input; the
    # horizontal stack is computed pixel by pixel from the current row of each layer's input.
    def cache_init(self, n, labels):
        """Vertical stack: previous rows per layer; horizontal stack: current row per layer."""
        w, k, f = self.event_shape[1], self.kernel_size, self.filters
        zeros = lambda *s: tf.zeros([n, *s], self.compute_dtype)  # noqa: E731
        v_rows = [zeros(k // 2, w + k - 1, f) for _ in range(self.num_layers - 1)]
        h_rows = [zeros(w + k - 1, f) for _ in range(self.num_layers - 1)]
        conds = self.conditions(labels, self.num_layers, 2 * f)
        return (v_rows, h_rows), conds

    def cache_row(self, state, consts, x_pad, r):
        """The vertical stack of row ``r``: each layer's contribution to the gate inputs."""
        v_rows, h_rows = state
        conds, k, p = consts, self.kernel_size, self.input_padding
        v = self.v_convs[0].call_valid(x_pad[:, r : r + p])[:, 0]  # x rows r-p .. r-1
        h_from_v, new_rows = [], []
        for i in range(self.num_layers):
            if i > 0:
                padded = tf.pad(v, [[0, 0], [k // 2, k // 2], [0, 0]])
                rows = tf.concat([v_rows[i - 1], padded[:, None]], axis=1)
                new_rows.append(rows[:, 1:])
                v = self.v_convs[i].call_valid(rows)[:, 0]
            cond = None if conds[i] is None else conds[i][:, None]
            v, gate_in = self._layer(i, v, 0.0, cond)
            h_from_v.append(gate_in)
        return (new_rows, [tf.zeros_like(h) for h in h_rows]), h_from_v

    def cache_pixel(self, state, consts, row, x_pad, r, c):
        """Horizontal stack and logits at ``(r, c)`` from the row's vertical-stack inputs."""
        v_rows, h_rows = state
        k, p = self.kernel_size, self.input_padding
        gate_in = self.h_convs[0].call_window(window(self.h_convs[0], x_pad, r + p, c + p))
        h = at(self.h_out[0], gate(gate_in + row[0][:, c]))
        new_h_rows = []
        for i in range(1, self.num_layers):
            cur = put(h_rows[i - 1], c + k // 2, h)
            gate_in = self.h_convs[i].call_window(cur[:, None, c : c + k // 2 + 1])
            h = h + at(self.h_out[i], gate(gate_in + row[i][:, c]))
            new_h_rows.append(cur)
        return self.output_head(h, one_position=True), (v_rows, new_h_rows)


__all__ = ["GatedPixelCNN"]
