"""The two recurrent layers of PixelRNN (van den Oord et al. 2016): Row LSTM and Diagonal BiLSTM.

Both read a feature map ``[N, H, W, F]`` that is causal in raster order (the output of a mask-A
convolution or of a previous layer) and return ``[N, H, W, units]``, causal too. The scans are one
``tf.scan`` each (a ``tf.while_loop`` inside the compiled step), never a Python loop per pixel:

* :class:`RowLSTM` scans the ``H`` rows. Gates of row ``r``: a masked ``1 x k`` input-to-state
  convolution of the input row (columns ``c - k // 2 .. c``) plus a ``1 x k`` state-to-state
  convolution of row ``r - 1``'s hidden states (columns ``c - k // 2 .. c + k // 2``). Its field
  is a triangle above the pixel: it misses the rest of the context.
* :class:`DiagonalBiLSTM` skews the map (row ``r`` shifted right by ``r``), so each column of the
  skewed map is a diagonal of the image, and scans the ``W + H - 1`` columns (``2N - 1`` steps for
  ``N x N``), in both directions at once. Left to right, the state at ``(r, c)`` reads the states
  at ``(r, c - 1)`` and ``(r - 1, c)`` (a ``2 x 1`` convolution in the skewed map); right to left,
  ``(r, c + 1)`` and ``(r - 1, c)``, and that direction's map is shifted down one row before the
  two are added, so no pixel sees its future. The right-to-left input-to-state transform also reads
  the image pixel at its own position (legal after the shift): without it the last pixel of the
  previous row would be outside the field of most pixels, and the field is the whole context.

Gate channels are laid out ``[data_channels, 4, units / data_channels]`` (output, forget, input,
cell candidate), so the masked convolutions' channel groups carry over to the LSTM units: the unit
groups of an RGB model's G channel see R of the same pixel, never B. The per-step transforms
(:meth:`RowLSTM.state_gates`, :func:`lstm_cell`, ...) are public for the cached sampler of
:class:`tfgen.models.PixelRNN`; :meth:`DiagonalBiLSTM.call_reference` runs the same cell pixel by
pixel (``H * W`` sequential steps), the reference of the tests and benchmark.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tfgen import checks
from tfgen.layers.masked import MaskedConv2D


def lstm_cell(gates: tf.Tensor, cell: tf.Tensor, groups: int) -> tuple[tf.Tensor, tf.Tensor]:
    """One LSTM update: ``gates [..., 4u]`` (layout above) and ``cell [..., u]`` -> ``(h, c)``.

    Example:
        >>> h, c = lstm_cell(tf.zeros([1, 8]), tf.ones([1, 2]), groups=1)
        >>> [round(float(v), 4) for v in (c[0, 0], h[0, 0])]  # c = 0.5 * 1, h = 0.5 * tanh(c)
        [0.5, 0.2311]
    """
    if groups == 1:
        o, f, i, g = tf.split(gates, 4, axis=-1)
    else:
        shape = tf.shape(gates)
        split = tf.reshape(gates, tf.concat([shape[:-1], [groups, 4, -1]], axis=0))
        o, f, i, g = (tf.reshape(t, tf.shape(cell)) for t in tf.unstack(split, axis=-2))
    cell = tf.sigmoid(f) * cell + tf.sigmoid(i) * tf.tanh(g)
    return tf.sigmoid(o) * tf.tanh(cell), cell


def skew(x: tf.Tensor) -> tf.Tensor:
    """``[N, H, W, F] -> [N, H, W + H - 1, F]``: row ``r`` shifted right by ``r`` (zeros around).

    Example:
        >>> skew(tf.reshape(tf.range(1, 5), [1, 2, 2, 1]))[0, :, :, 0].numpy().tolist()
        [[1, 2, 0], [0, 3, 4]]
    """
    n, h, w, f = tf.unstack(tf.shape(x))
    flat = tf.reshape(tf.pad(x, [[0, 0], [0, 0], [0, h], [0, 0]]), [n, h * (w + h), f])
    return tf.reshape(flat[:, : h * (w + h - 1)], [n, h, w + h - 1, f])


def unskew(x: tf.Tensor, width: int) -> tf.Tensor:
    """Inverse of :func:`skew`: ``[N, H, width + H - 1, F] -> [N, H, width, F]``.

    Example:
        >>> x = tf.reshape(tf.range(6), [1, 2, 3, 1])
        >>> bool(tf.reduce_all(unskew(skew(x), 3) == x))
        True
    """
    n, h, _, f = tf.unstack(tf.shape(x))
    flat = tf.pad(tf.reshape(x, [n, h * (width + h - 1), f]), [[0, 0], [0, h], [0, 0]])
    return tf.reshape(flat, [n, h, width + h, f])[:, :, :width]


def _check_units(units, data_channels) -> tuple[int, int]:
    units, data_channels = (checks.positive_int(n, v) for n, v in
                            (("units", units), ("data_channels", data_channels)))  # fmt: skip
    if units % data_channels:
        raise checks.fail("units", f"a multiple of data_channels={data_channels}", units)
    return units, data_channels


@keras.saving.register_keras_serializable(package="tfgen")
class RowLSTM(keras.layers.Layer):
    """Row LSTM: row-by-row scan with ``1 x k`` input-to-state and state-to-state convolutions.

    Args:
        units: LSTM units (a multiple of ``data_channels``).
        kernel_size: odd ``k >= 3`` of both convolutions.
        data_channels: channels of the modelled image (masked channel groups).
        **kwargs: ``keras.layers.Layer`` arguments.

    Example:
        >>> layer = RowLSTM(4, kernel_size=3)
        >>> layer(tf.ones([2, 5, 6, 8])).shape
        TensorShape([2, 5, 6, 4])
    """

    def __init__(self, units: int, kernel_size: int = 3, data_channels: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.units, self.data_channels = _check_units(units, data_channels)
        self.kernel_size = checks.odd_int("kernel_size", kernel_size, 3)
        self.input_to_state = MaskedConv2D(
            4 * self.units, (1, self.kernel_size), "B", self.data_channels, name="input_to_state"
        )

    def build(self, input_shape):
        self.input_to_state.build(input_shape)
        self.state_kernel = self.add_weight(
            name="state_kernel", shape=(self.kernel_size, self.units, 4 * self.units)
        )
        self.built = True

    def state_gates(self, h_row: tf.Tensor) -> tf.Tensor:
        """State-to-state gates of a row ``[N, W, 4u]`` from the previous row's ``h [N, W, u]``."""
        kernel = tf.cast(self.state_kernel, h_row.dtype)
        return tf.nn.conv1d(h_row, kernel, stride=1, padding="SAME")

    def call(self, x: tf.Tensor) -> tf.Tensor:
        gates = tf.transpose(self.input_to_state(x), [1, 0, 2, 3])  # [H, N, W, 4u]
        zeros = tf.zeros_like(gates[0, ..., : self.units])

        def step(state, row_gates):
            h, c = state
            return lstm_cell(row_gates + self.state_gates(h), c, self.data_channels)

        h, _ = tf.scan(step, gates, initializer=(zeros, zeros))
        return tf.transpose(h, [1, 0, 2, 3])

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            units=self.units, kernel_size=self.kernel_size, data_channels=self.data_channels
        )
        return config


@keras.saving.register_keras_serializable(package="tfgen")
class DiagonalBiLSTM(keras.layers.Layer):
    """Diagonal BiLSTM: two skewed column-by-column scans, right-to-left shifted down one row.

    ``call(x, image)`` takes the layer input ``[N, H, W, F]`` and the image ``[N, H, W, C]`` (the
    network input, read by the right-to-left direction at its own position; see the module
    docstring).

    Args:
        units: LSTM units per direction (a multiple of ``data_channels``).
        data_channels: channels ``C`` of the modelled image.
        **kwargs: ``keras.layers.Layer`` arguments.

    Example:
        >>> layer = DiagonalBiLSTM(4)
        >>> layer(tf.ones([2, 5, 6, 8]), tf.ones([2, 5, 6, 1])).shape
        TensorShape([2, 5, 6, 4])
    """

    def __init__(self, units: int, data_channels: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.units, self.data_channels = _check_units(units, data_channels)
        self.left_input = MaskedConv2D(4 * self.units, 1, "B", self.data_channels, name="left_in")
        self.right_input = keras.layers.Dense(4 * self.units, name="right_in")

    def build(self, x_shape, image_shape=None):
        features = int(x_shape[-1])
        self.left_input.build((None, None, None, features))
        self.right_input.build((None, None, None, features + self.data_channels))
        shape = (2 * self.units, 4 * self.units)  # rows: own state, state of the row above
        self.left_state = self.add_weight(name="left_state", shape=shape)
        self.right_state = self.add_weight(name="right_state", shape=shape)
        self.built = True

    def right_gates(self, x: tf.Tensor, image: tf.Tensor) -> tf.Tensor:
        """Right-to-left input-to-state gates from the layer input and the image (same shape)."""
        return self.right_input(tf.concat([x, tf.cast(image, x.dtype)], axis=-1))

    def step(self, gates, h_side, h_up, c_side, kernel) -> tuple[tf.Tensor, tf.Tensor]:
        """One cell: ``gates`` (input part), states beside and above -> ``(h, c)``."""
        kernel = tf.cast(kernel, h_side.dtype)
        gates = gates + tf.matmul(tf.concat([h_side, h_up], axis=-1), kernel)
        return lstm_cell(gates, c_side, self.data_channels)

    def call(self, x: tf.Tensor, image: tf.Tensor) -> tf.Tensor:
        n, height, width = tf.shape(x)[0], x.shape[1], x.shape[2]
        left, right = self.left_input(x), self.right_gates(x, image)
        right = tf.reverse(right, axis=[2])  # the right-to-left scan runs on the mirror image
        both = skew(tf.concat([left, right], axis=0))  # [2N, H, S, 4u], S = W + H - 1 diagonals
        both = tf.transpose(tf.reshape(both, [2, n, height, -1, 4 * self.units]), [3, 0, 1, 2, 4])
        valid = tf.transpose(skew(tf.ones_like(x[:1, ..., :1])), [2, 0, 1, 3])  # [S, 1, H, 1]
        kernel = tf.stack([tf.cast(k, x.dtype) for k in (self.left_state, self.right_state)])
        zeros = tf.zeros_like(both[0, ..., : self.units])  # [2, N, H, u]: both directions

        def scan_step(state, inputs):
            (h, c), (gates, mask) = state, inputs
            h_up = tf.pad(h, [[0, 0], [0, 0], [1, 0], [0, 0]])[:, :, :-1]  # the row above's
            hh = tf.reshape(tf.concat([h, h_up], axis=-1), [2, -1, 2 * self.units])
            gates = gates + tf.reshape(tf.matmul(hh, kernel), tf.shape(gates))
            h, c = lstm_cell(gates, c, self.data_channels)
            return h * mask, c * mask  # zero outside the image (the skew's padding)

        h, _ = tf.scan(scan_step, (both, valid), initializer=(zeros, zeros))  # [S, 2, N, H, u]
        h = unskew(tf.reshape(tf.transpose(h, [1, 2, 3, 0, 4]), [2 * n, height, -1, self.units]),
                   width)  # fmt: skip
        hl, hr = h[:n], tf.reverse(h[n:], axis=[2])
        return hl + tf.pad(hr, [[0, 0], [1, 0], [0, 0], [0, 0]])[:, :-1]  # right map down a row

    def call_reference(self, x: tf.Tensor, image: tf.Tensor) -> tf.Tensor:
        """:meth:`call` computed pixel by pixel in raster order: ``H * W`` sequential steps of the
        same cells (left-to-right at ``(r, c)``, right-to-left at ``(r, W - 1 - c)``), keeping
        the previous and current rows' states (padded by a zero column on each side)."""
        n, height, width = tf.shape(x)[0], x.shape[1], x.shape[2]
        left, right = self.left_input(x), self.right_gates(x, image)
        gates = tf.transpose(tf.stack([left, right]), [0, 2, 3, 1, 4])  # [2, H, W, N, 4u]
        empty = tf.zeros([4, width + 2, n, self.units], x.dtype)  # a row's hl, cl, hr, cr

        def row_body(r, prev, rows):
            def pixel_body(c, cur):
                updates, where = [], []
                for k, (col, side, kernel) in enumerate(
                    ((c, c - 1, self.left_state), (width - 1 - c, width - c, self.right_state))
                ):
                    h_side, c_side = cur[2 * k, side + 1], cur[2 * k + 1, side + 1]
                    h, cell = self.step(gates[k, r, col], h_side, prev[2 * k, col + 1], c_side,
                                        kernel)  # fmt: skip
                    updates += [h, cell]
                    where += [[2 * k, col + 1], [2 * k + 1, col + 1]]
                return c + 1, tf.tensor_scatter_nd_update(cur, where, tf.stack(updates))

            _, cur = tf.while_loop(lambda c, _: c < width, pixel_body, (0, empty))
            return r + 1, cur, rows.write(r, cur)

        rows = tf.TensorArray(x.dtype, size=height)
        _, _, rows = tf.while_loop(lambda r, *_: r < height, row_body, (0, empty, rows))
        rows = rows.stack()  # [H, 4, W + 2, N, u]
        hl, hr = (tf.transpose(rows[:, k, 1:-1], [2, 0, 1, 3]) for k in (0, 2))
        return hl + tf.pad(hr, [[0, 0], [1, 0], [0, 0], [0, 0]])[:, :-1]

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(units=self.units, data_channels=self.data_channels)
        return config


__all__ = ["DiagonalBiLSTM", "RowLSTM", "lstm_cell", "skew", "unskew"]
