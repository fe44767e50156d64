"""PixelRNN (van den Oord, Kalchbrenner & Kavukcuoglu 2016): Row LSTM and Diagonal BiLSTM.

An exact autoregressive density model over raster-ordered pixels (channels in order within a
pixel), like the PixelCNN, with LSTM layers between the mask-A input convolution and the output
head (the layers and their scans are in :mod:`tfgen.layers.pixel_lstm`). ``sample`` reuses the
generation loop of :mod:`tfgen.models.pixelcnn_sampling`: ``"naive"`` runs one full pass per pixel;
``"cached"`` (default) carries the LSTM states along, row by row (Row LSTM) or, for the Diagonal
BiLSTM, the left-to-right states pixel by pixel and the right-to-left ones row by row (a row's
right-to-left scan runs when the row is complete, for the row below it).
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf

from tfgen import checks
from tfgen.layers.masked import MaskedConv2D
from tfgen.layers.pixel_lstm import DiagonalBiLSTM, RowLSTM, lstm_cell
from tfgen.models.pixelcnn_sampling import at, put, window
from tfgen.models.raster import RasterAutoregressiveModel

KINDS = ("row_lstm", "diagonal_bilstm")


@keras.saving.register_keras_serializable(package="tfgen")
class PixelRNN(RasterAutoregressiveModel):
    """PixelRNN: a 7x7 mask-A convolution, ``num_layers`` residual LSTM layers, a 1x1 head.

    The input convolution maps the image to ``2 * hidden_units`` features; each layer (a
    :class:`~tfgen.layers.pixel_lstm.RowLSTM` or
    :class:`~tfgen.layers.pixel_lstm.DiagonalBiLSTM` of ``hidden_units``)
    is followed by a mask-B 1x1 convolution back to ``2 * hidden_units`` added to its input
    (residual); the head is ``ReLU -> 1x1 -> ReLU -> 1x1`` to Bernoulli or 256-way logits.
    Labels (``num_classes`` set) add a learned embedding after the input convolution and every
    layer. The Row LSTM's field is a triangle above the pixel (``N`` sequential steps for an
    ``N x N`` image); the Diagonal BiLSTM's is the whole context (``2N - 1`` steps).

    Args:
        event_shape: ``(H, W, C)``.
        kind: ``"row_lstm"`` or ``"diagonal_bilstm"``.
        num_layers: LSTM layers.
        hidden_units: LSTM units per layer (and direction); a multiple of the image channels (the
            default 30 fits grey and RGB images).
        kernel_size: odd ``k >= 3`` of the Row LSTM's ``1 x k`` convolutions (unused by the
            Diagonal BiLSTM, whose state-to-state kernel is ``2 x 1`` by construction).
        first_kernel_size: odd size of the mask-A input convolution.
        likelihood: ``"bernoulli"`` (binary images) or ``"categorical"`` (256 levels).
        num_classes: number of label classes for a class-conditional model, or None.
        seed: seed of the model's random stream (unseeded sampling).
        **kwargs: ``keras.Model`` arguments.

    Raises:
        ValueError: naming the argument when one is invalid.

    Example:
        >>> import tfgen
        >>> model = tfgen.models.PixelRNN((4, 4, 1), kind="row_lstm", num_layers=1, hidden_units=4)
        >>> x = tf.cast(tf.random.stateless_uniform([2, 4, 4, 1], [0, 1]) < 0.5, tf.float32)
        >>> model.log_prob(x).shape, model.predict(x, verbose=0).shape
        (TensorShape([2]), (2, 4, 4, 1))
        >>> model.sample(3, seed=0).shape
        TensorShape([3, 4, 4, 1])

    References:
        van den Oord, Kalchbrenner & Kavukcuoglu, "Pixel Recurrent Neural Networks", ICML 2016.
    """

    def __init__(
        self,
        event_shape: Sequence[int] = (28, 28, 1),
        kind: str = "diagonal_bilstm",
        num_layers: int = 2,
        hidden_units: int = 30,
        kernel_size: int = 3,
        first_kernel_size: int = 7,
        likelihood: str = "bernoulli",
        num_classes: int | None = None,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(event_shape, first_kernel_size, likelihood, num_classes, seed, **kwargs)
        self.kind = checks.one_of("kind", kind, KINDS)
        self.num_layers = checks.positive_int("num_layers", num_layers)
        self.hidden_units = checks.positive_int("hidden_units", hidden_units)
        self.kernel_size = checks.odd_int("kernel_size", kernel_size, 3)
        c, u = self.event_shape[-1], self.hidden_units
        if u % c:
            raise checks.fail("hidden_units", f"a multiple of the image channels {c}", u)
        f = 2 * u
        self.input_conv = MaskedConv2D(f, self.first_kernel_size, "A", c, name="input_conv")
        if self.kind == "row_lstm":
            make = lambda i: RowLSTM(u, self.kernel_size, c, name=f"row_lstm_{i}")  # noqa: E731
        else:
            make = lambda i: DiagonalBiLSTM(u, c, name=f"diagonal_bilstm_{i}")  # noqa: E731
        self.lstms = [make(i) for i in range(self.num_layers)]
        self.up = [MaskedConv2D(f, 1, "B", c, name=f"up_{i}") for i in range(self.num_layers)]
        self.build_output_head(f)
        self.label_embedding = self.label_embedding_layer((self.num_layers + 1) * f)
        self.build_all()

    @property
    def sequential_steps(self) -> int:
        """Sequential steps of one layer's scan: ``H`` (Row LSTM) or ``W + H - 1`` (Diagonal)."""
        h, w = self.event_shape[:2]
        return h if self.kind == "row_lstm" else w + h - 1

    # ------------------------------------------------------------------------------ network
    def logits(self, x, labels=None) -> tf.Tensor:
        """Per-pixel logits ``[N, H, W, C * params]`` of ``p(x_i | x_<i)`` from network inputs."""
        conds = self.conditions(labels, self.num_layers + 1, 2 * self.hidden_units)
        image = tf.cast(x, self.compute_dtype)
        h = self.input_conv(image)
        h = h if conds[0] is None else h + conds[0][:, None, None]
        for i, lstm in enumerate(self.lstms):
            out = lstm(h) if self.kind == "row_lstm" else lstm(h, image)
            h = h + self.up[i](out)
            h = h if conds[i + 1] is None else h + conds[i + 1][:, None, None]
        return self.output_head(h)

    # ------------------------------------------------------------------------------ cached steps
    # Per layer the state holds the current row of the layer's input (``rows``) and the LSTM
    # states of the previous and current rows; the Diagonal BiLSTM also the right-to-left states
    # of the previous row. ``cache_row`` returns per-layer row constants: the Row LSTM's
    # state-to-state gates of the row, or the Diagonal BiLSTM's right-to-left outputs for it.
    def cache_init(self, n, labels):
        """Zero buffers for ``n`` images; consts: the label terms."""
        w, u, pad = self.event_shape[1], self.hidden_units, self.kernel_size // 2
        zeros = lambda *s: tf.zeros([n, *s], self.compute_dtype)  # noqa: E731
        width = w + pad if self.kind == "row_lstm" else w
        layer = lambda: (zeros(width, 2 * u),) + tuple(zeros(w, u) for _ in range(6))  # noqa: E731
        return [layer() for _ in self.lstms], self.conditions(labels, len(self.lstms) + 1, 2 * u)

    def cache_row(self, state, consts, x_pad, r):
        """Start of row ``r``: the finished row becomes the previous one."""
        new_state, row_consts = [], []
        p, w = self.input_padding, self.event_shape[1]
        for lstm, (rows, _, _, h, c, rh, rc) in zip(self.lstms, state, strict=True):
            if self.kind == "row_lstm":
                row_consts.append(lstm.state_gates(h))
                new_state.append((tf.zeros_like(rows), h, c, h, c, rh, rc))
                continue
            # the right-to-left scan of row r - 1 (complete now), for row r's outputs
            image = tf.cast(x_pad[:, r - 1 + p, p : p + w], rows.dtype)  # row r - 1
            gates = tf.reverse(lstm.right_gates(rows, image), axis=[1])

            def step(carry, inputs, lstm=lstm):
                g, h_up = inputs
                return lstm.step(g, carry[0], h_up, carry[1], lstm.right_state)

            elems = (tf.transpose(gates, [1, 0, 2]), tf.transpose(tf.reverse(rh, [1]), [1, 0, 2]))
            zeros = tf.zeros_like(rh[:, 0])
            new_h, new_c = tf.scan(step, elems, initializer=(zeros, zeros))
            new_h, new_c = (tf.reverse(tf.transpose(t, [1, 0, 2]), [1]) for t in (new_h, new_c))
            first = tf.equal(r, 0)  # no row -1: right-to-left states and outputs stay zero
            new_h, new_c = (tf.where(first, tf.zeros_like(t), t) for t in (new_h, new_c))
            row_consts.append(new_h)
            new_state.append((tf.zeros_like(rows), h, c, tf.zeros_like(h), c, new_h, new_c))
        return new_state, row_consts

    def cache_pixel(self, state, consts, row, x_pad, r, c):
        """Logits ``[N, C * params]`` at ``(r, c)`` and the updated buffers."""
        conds, p = consts, self.input_padding
        h = self.input_conv.call_window(window(self.input_conv, x_pad, r + p, c + p))
        h = h if conds[0] is None else h + conds[0]
        new_state, groups = [], self.event_shape[-1]
        for i, (lstm, layer) in enumerate(zip(self.lstms, state, strict=True)):
            rows, ph, pc, ch, cc, rh, rc = layer
            if self.kind == "row_lstm":
                rows = put(rows, c + lstm.kernel_size // 2, h)
                win = rows[:, None, c : c + lstm.kernel_size // 2 + 1]
                gates = lstm.input_to_state.call_window(win) + row[i][:, c]
                out, cell = lstm_cell(gates, pc[:, c], groups)
                side = out
            else:
                rows = put(rows, c, h)
                left = tf.cast(c > 0, h.dtype)
                h_side, c_side = ch[:, tf.maximum(c - 1, 0)] * left, cc[:, tf.maximum(c - 1, 0)]
                gates = lstm.left_input.call_window(h[:, None, None])
                out, cell = lstm.step(gates, h_side, ph[:, c], c_side * left, lstm.left_state)
                side = out + row[i][:, c]
            ch, cc = put(ch, c, out), put(cc, c, cell)
            new_state.append((rows, ph, pc, ch, cc, rh, rc))
            h = h + at(self.up[i], side)
            h = h if conds[i + 1] is None else h + conds[i + 1]
        return self.output_head(h, one_position=True), new_state

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            kind=self.kind,
            num_layers=self.num_layers,
            hidden_units=self.hidden_units,
            kernel_size=self.kernel_size,
        )
        return config


__all__ = ["KINDS", "PixelRNN"]
