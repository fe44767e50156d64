"""MaskedConv2D: masks, the cropped convolution against a plain masked convolution, windows."""

import numpy as np
import pytest
import tensorflow as tf

from tfgen.layers import MaskedConv2D, causal_mask


def test_mask_types_on_a_single_channel():
    a = causal_mask(5, 1, 1, "A")[..., 0, 0]
    b = causal_mask(5, 1, 1, "B")[..., 0, 0]
    expected_a = np.zeros([5, 5])
    expected_a[:2] = 1
    expected_a[2, :2] = 1
    np.testing.assert_array_equal(a, expected_a)
    np.testing.assert_array_equal(b - a, np.eye(5)[2][:, None] * np.eye(5)[2][None])  # centre
    va = causal_mask(5, 1, 1, "VA")[..., 0, 0]
    vb = causal_mask(5, 1, 1, "VB")[..., 0, 0]
    assert va[:2].all() and not va[2:].any()
    assert vb[:3].all() and not vb[3:].any()


def test_channel_groups_of_the_centre_tap():
    # RGB input -> 6 outputs (2 per group): A connects group i to j only if i < j, B if i <= j.
    a = causal_mask(3, 3, 6, "A", data_channels=3)[1, 1]
    b = causal_mask(3, 3, 6, "B", data_channels=3)[1, 1]
    g_out = np.array([0, 0, 1, 1, 2, 2])
    for i in range(3):
        np.testing.assert_array_equal(a[i], (i < g_out).astype(np.float32))
        np.testing.assert_array_equal(b[i], (i <= g_out).astype(np.float32))
    # taps other than the centre are not channel-masked
    assert causal_mask(3, 3, 6, "A", data_channels=3)[0].all()


@pytest.mark.parametrize(
    "kernel_size, mask_type, channels",
    [(7, "A", 1), (3, "B", 1), (5, "VA", 1), (3, "VB", 1), ((1, 5), "A", 1), ((1, 3), "B", 1),
     (3, "A", 3), (3, "B", 3)],
)  # fmt: skip
def test_cropped_convolution_equals_the_full_masked_convolution(kernel_size, mask_type, channels):
    layer = MaskedConv2D(6, kernel_size, mask_type, data_channels=channels)
    x = tf.random.normal([2, 9, 7, channels], seed=1)
    y = layer(x)
    layer.bias.assign(tf.random.normal([6], seed=2))
    y = layer(x)
    full = tf.nn.conv2d(x, layer.kernel * layer.mask, 1, "SAME") + layer.bias
    np.testing.assert_allclose(y, full, atol=1e-5)
    # one position from its window, as cached sampling evaluates it
    dr0, dr1, dc0, dc1 = layer.window_offsets
    pad = tf.pad(x, [[0, 0], [4, 4], [4, 4], [0, 0]])
    r, c = 5, 3
    win = pad[:, 4 + r + dr0 : 4 + r + dr1 + 1, 4 + c + dc0 : 4 + c + dc1 + 1]
    np.testing.assert_allclose(layer.call_window(win), y[:, r, c], atol=1e-5)


def test_output_never_depends_on_the_current_or_later_pixels():
    layer = MaskedConv2D(4, 5, "A")
    x = tf.Variable(tf.random.normal([1, 6, 6, 1], seed=3))
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(layer(x)[0, 3, 2])
    g = tape.gradient(y, x).numpy()[0, :, :, 0].reshape(-1)
    assert not g[3 * 6 + 2 :].any() and g[: 3 * 6 + 2].any()


def test_config_round_trip():
    layer = MaskedConv2D(8, (1, 3), "A", data_channels=2, name="h")
    clone = MaskedConv2D.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()


@pytest.mark.parametrize(
    "kwargs, arg",
    [({"mask_type": "C"}, "mask_type"), ({"kernel_size": 4}, "kernel_size"),
     ({"kernel_size": (3, 2)}, "kernel_size"), ({"kernel_size": (3, 3, 3)}, "kernel_size"),
     ({"kernel_size": 3.0}, "kernel_size"), ({"filters": 0}, "filters"),
     ({"filters": 2.5}, "filters"), ({"data_channels": 0}, "data_channels")],
)  # fmt: skip
def test_bad_arguments_name_the_argument(kwargs, arg):
    with pytest.raises(ValueError, match=f"^{arg} must be .*; got "):
        MaskedConv2D(**{"filters": 4, "kernel_size": 3, **kwargs})
    if arg != "filters":
        with pytest.raises(ValueError, match=f"^{arg} must be"):
            causal_mask(
                **{
                    "kernel_size": 3,
                    "in_channels": 1,
                    "out_channels": 1,
                    "mask_type": "B",
                    **kwargs,
                }
            )


def test_fully_masked_kernel_and_indivisible_channels_are_rejected():
    with pytest.raises(ValueError, match="masks every tap"):
        MaskedConv2D(4, 1, "A")(tf.zeros([1, 3, 3, 1]))
    with pytest.raises(ValueError, match="out_channels"):
        MaskedConv2D(4, 3, "B", data_channels=3)(tf.zeros([1, 3, 3, 3]))
