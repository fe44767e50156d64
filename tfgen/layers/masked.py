"""Masked convolutions for autoregressive image models (PixelCNN, gated PixelCNN).

A mask zeroes the kernel taps that would let the output at pixel ``(r, c)`` see the input at or
after ``(r, c)`` in raster order. Mask types:

* ``"A"``: rows above the centre, and the centre row left of the centre. The centre tap connects
  input channel group ``i`` to output group ``j`` only when ``i < j`` (first layer: a pixel's
  channel ``j`` may see channels ``< j`` of the same pixel, never itself).
* ``"B"``: as ``"A"``, with the centre tap for ``i <= j`` (every later layer).
* ``"VA"``: rows strictly above the centre, full width (first layer of a gated PixelCNN's vertical
  stack: it never sees the current row).
* ``"VB"``: rows up to and including the centre row, full width (later vertical-stack layers,
  whose inputs already depend only on rows above).

Channel groups are contiguous: with ``data_channels = C``, channel ``i`` of ``n`` belongs to group
``i * C // n`` (so an RGB image's channels are groups 0, 1, 2, and 256 logits per channel laid out
``[C, 256]`` are grouped by channel). ``n`` must be divisible by ``C``.

Only the unmasked part of the kernel is convolved (e.g. 4x7 of a 7x7 type-A kernel, with the input
padded asymmetrically), which halves the work of a full masked convolution and gives the same
result. :meth:`MaskedConv2D.call_window` evaluates the layer at one position from the window of
inputs its mask reads, which is what cached sampling uses.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from tfgen import checks

MASK_TYPES = ("A", "B", "VA", "VB")


def kernel_pair(kernel_size) -> tuple[int, int]:
    """``kernel_size`` (odd ``k`` or ``(kh, kw)``) as a pair of odd positive ints.

    Example:
        >>> kernel_pair(3), kernel_pair([1, 5])
        ((3, 3), (1, 5))
    """
    pair = (kernel_size,) * 2 if checks.is_int(kernel_size) else kernel_size
    try:
        pair = tuple(pair)
    except TypeError:
        pair = ()
    if len(pair) != 2 or not all(checks.is_int(k) and k >= 1 and k % 2 == 1 for k in pair):
        raise checks.fail("kernel_size", "an odd positive int or a pair of them", kernel_size)
    return int(pair[0]), int(pair[1])


def causal_mask(
    kernel_size: int | Sequence[int],
    in_channels: int,
    out_channels: int,
    mask_type: str,
    data_channels: int = 1,
) -> np.ndarray:
    """The 0/1 mask ``[kh, kw, in_channels, out_channels]`` of a masked convolution.

    Args:
        kernel_size: odd ``k`` or ``(kh, kw)``.
        in_channels: input channels (divisible by ``data_channels``).
        out_channels: output channels (divisible by ``data_channels``).
        mask_type: one of ``"A"``, ``"B"``, ``"VA"``, ``"VB"`` (see the module docstring).
        data_channels: channels of the modelled image (channel groups of the centre tap).

    Returns:
        float32 numpy array.

    Raises:
        ValueError: naming ``mask_type``, ``kernel_size``, ``data_channels``, ``in_channels`` or
            ``out_channels`` when invalid.

    Example:
        >>> causal_mask(3, 1, 1, "A")[..., 0, 0]
        array([[1., 1., 1.],
               [1., 0., 0.],
               [0., 0., 0.]], dtype=float32)
        >>> causal_mask(3, 1, 1, "B")[1, :, 0, 0]
        array([1., 1., 0.], dtype=float32)
    """
    checks.one_of("mask_type", mask_type, MASK_TYPES)
    kh, kw = kernel_pair(kernel_size)
    data_channels = checks.positive_int("data_channels", data_channels)
    for name, n in (("in_channels", in_channels), ("out_channels", out_channels)):
        if not checks.is_int(n) or n < 1 or n % data_channels:
            raise checks.fail(name, f"a positive multiple of data_channels={data_channels}", n)
    ch, cw = kh // 2, kw // 2
    mask = np.zeros([kh, kw, in_channels, out_channels], np.float32)
    if mask_type in ("VA", "VB"):
        mask[: ch + (mask_type == "VB")] = 1.0
        return mask
    mask[:ch] = 1.0
    mask[ch, :cw] = 1.0
    g_in = np.arange(in_channels) * data_channels // in_channels
    g_out = np.arange(out_channels) * data_channels // out_channels
    allowed = g_in[:, None] < g_out[None] if mask_type == "A" else g_in[:, None] <= g_out[None]
    mask[ch, cw] = allowed.astype(np.float32)
    return mask


@keras.saving.register_keras_serializable(package="tfgen")
class MaskedConv2D(keras.layers.Layer):
    """2-D convolution (stride 1, "same" size) whose kernel is masked for raster-order causality.

    Args:
        filters: output channels.
        kernel_size: odd ``k`` or ``(kh, kw)``; e.g. ``(1, 3)`` for a horizontal-stack conv.
        mask_type: ``"A"``, ``"B"``, ``"VA"`` or ``"VB"`` (module docstring).
        data_channels: channels of the modelled image (centre-tap channel groups).
        use_bias: add a bias.
        kernel_initializer: Keras initializer of the kernel.
        **kwargs: ``keras.layers.Layer`` arguments.

    Raises:
        ValueError: naming the argument (``mask_type``, ``kernel_size``, ``filters``, ...) when
            invalid, or when the mask leaves no tap (e.g. a 1x1 type-A kernel on one channel).

    Example:
        >>> conv = MaskedConv2D(4, 3, mask_type="A")
        >>> y = conv(tf.ones([1, 5, 5, 1]))
        >>> y.shape, float(tf.reduce_max(tf.abs(conv(tf.zeros([1, 5, 5, 1]))[0, 0, 0])))
        (TensorShape([1, 5, 5, 4]), 0.0)
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        mask_type: str = "B",
        data_channels: int = 1,
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = checks.positive_int("filters", filters)
        self.kernel_size = kernel_pair(kernel_size)
        self.mask_type = checks.one_of("mask_type", mask_type, MASK_TYPES)
        self.data_channels = checks.positive_int("data_channels", data_channels)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        in_channels = int(input_shape[-1])
        mask = causal_mask(
            self.kernel_size, in_channels, self.filters, self.mask_type, self.data_channels
        )
        if not mask.any():
            raise ValueError(
                f"mask_type={self.mask_type!r} with kernel_size={self.kernel_size} and "
                f"data_channels={self.data_channels} masks every tap; use a larger kernel or 'B'"
            )
        rows, cols = np.nonzero(mask.any(axis=(2, 3)))
        self.support = (int(rows.min()), int(rows.max()), int(cols.min()), int(cols.max()))
        r0, r1, c0, c1 = self.support
        self.mask = mask
        self._cropped_mask = mask[r0 : r1 + 1, c0 : c1 + 1]
        self.kernel = self.add_weight(
            name="kernel",
            shape=(*self.kernel_size, in_channels, self.filters),
            initializer=self.kernel_initializer,
        )
        self.bias = (
            self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")
            if self.use_bias
            else None
        )
        self.built = True

    # ---------------------------------------------------------------------------------- geometry
    @property
    def window_offsets(self) -> tuple[int, int, int, int]:
        """``(first_row, last_row, first_col, last_col)`` of the inputs read, relative to the
        output position (e.g. ``(-3, 0, -3, 3)`` for a 7x7 type-A kernel)."""
        r0, r1, c0, c1 = self.support
        ch, cw = self.kernel_size[0] // 2, self.kernel_size[1] // 2
        return r0 - ch, r1 - ch, c0 - cw, c1 - cw

    def masked_kernel(self) -> tf.Tensor:
        """The kernel restricted to its unmasked rows/columns, masked, in the compute dtype."""
        r0, r1, c0, c1 = self.support
        kernel = tf.cast(self.kernel[r0 : r1 + 1, c0 : c1 + 1], self.compute_dtype)
        return kernel * tf.constant(self._cropped_mask, self.compute_dtype)

    # ---------------------------------------------------------------------------------- compute
    def call_valid(self, x: tf.Tensor) -> tf.Tensor:
        """VALID convolution of ``x`` with :meth:`masked_kernel` (``x`` already padded)."""
        x = tf.cast(x, self.compute_dtype)
        y = tf.nn.conv2d(x, self.masked_kernel(), strides=1, padding="VALID")
        return y + tf.cast(self.bias, self.compute_dtype) if self.use_bias else y

    def call(self, x: tf.Tensor) -> tf.Tensor:
        dr0, dr1, dc0, dc1 = self.window_offsets
        # Pad (or crop, for a negative amount) so the VALID conv keeps the spatial size.
        top, bottom, left, right = -dr0, dr1, -dc0, dc1
        h, w = tf.shape(x)[1], tf.shape(x)[2]
        x = x[:, max(0, -top) : h - max(0, -bottom), max(0, -left) : w - max(0, -right)]
        pads = [[0, 0], [max(0, top), max(0, bottom)], [max(0, left), max(0, right)], [0, 0]]
        return self.call_valid(tf.pad(x, pads))

    def call_window(self, window: tf.Tensor) -> tf.Tensor:
        """The output ``[N, filters]`` at one position from its input window.

        Args:
            window: ``[N, rows, cols, in_channels]``: the inputs at the position's
                :attr:`window_offsets` (zeros outside the image).
        """
        kernel = self.masked_kernel()
        flat = tf.reshape(tf.cast(window, self.compute_dtype), [tf.shape(window)[0], -1])
        y = tf.matmul(flat, tf.reshape(kernel, [-1, self.filters]))
        return y + tf.cast(self.bias, self.compute_dtype) if self.use_bias else y

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.filters)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            filters=self.filters,
            kernel_size=list(self.kernel_size),
            mask_type=self.mask_type,
            data_channels=self.data_channels,
            use_bias=self.use_bias,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
        )
        return config
