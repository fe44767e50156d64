"""bfloat16 bias gradients summed in float32 (tfgen.mixed_precision), alone and in train steps."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.python.framework import ops as tf_ops

import tfgen
from tfgen.mixed_precision import dtype_policy, float32_bias_gradients
from tfgen.models import AAE, VAE


def bias_gradient(x, bias, data_format="NHWC", function=True):
    def run():
        with tf.GradientTape() as tape:
            y = tf.nn.bias_add(x, bias, data_format=data_format)
            loss = tf.reduce_sum(tf.cast(y, tf.float32) * 0.01)
        with float32_bias_gradients():
            return tape.gradient(loss, bias)

    return (tf.function(run) if function else run)()


@pytest.mark.parametrize("function", [True, False], ids=["tf.function", "eager"])
def test_bfloat16_bias_gradient_of_a_large_feature_map_is_the_float32_sum(function):
    # 64 * 28 * 28 = 50,176 gradients of 0.01 per channel: TensorFlow's CPU kernel returns ~8.
    x = tf.zeros([64, 28, 28, 16], tf.bfloat16)
    grad = bias_gradient(x, tf.Variable(tf.zeros([16], tf.bfloat16)), function=function)
    assert grad.dtype == tf.bfloat16
    np.testing.assert_allclose(grad.numpy().astype(np.float32), 501.76, rtol=2**-8)


def test_bfloat16_bias_gradient_of_random_values_is_exact_to_bfloat16_rounding():
    x = tf.zeros([128, 28, 28, 16], tf.bfloat16)
    upstream = tf.cast(tf.random.stateless_normal(x.shape, seed=[5, 6], mean=0.1), tf.bfloat16)
    bias = tf.Variable(tf.zeros([16], tf.bfloat16))
    with tf.GradientTape() as tape:
        y = tf.nn.bias_add(x, bias)
    with float32_bias_gradients():
        grad = tape.gradient(y, bias, output_gradients=upstream).numpy().astype(np.float64)
    exact = upstream.numpy().astype(np.float64).sum(axis=(0, 1, 2))
    np.testing.assert_allclose(grad, exact, rtol=2**-8)


def test_channels_first_sums_over_every_axis_but_axis_1():
    x = tf.zeros([8, 5, 30, 30], tf.bfloat16)
    grad = bias_gradient(x, tf.Variable(tf.zeros([5], tf.bfloat16)), data_format="NCHW")
    np.testing.assert_allclose(grad.numpy().astype(np.float32), 72.0, rtol=2**-8)


@pytest.mark.parametrize("dtype", [tf.float32, tf.float16, tf.float64])
def test_other_dtypes_keep_tensorflows_gradient_bit_for_bit(dtype):
    x = tf.random.stateless_normal([16, 9, 9, 4], seed=[1, 2], dtype=dtype)
    bias = tf.Variable(tf.zeros([4], dtype))
    with tf.GradientTape(persistent=True) as tape:
        loss = tf.reduce_sum(tf.nn.bias_add(x, bias) * x)
    expected = tape.gradient(loss, bias)
    with float32_bias_gradients():
        got = tape.gradient(loss, bias)
    np.testing.assert_array_equal(got.numpy(), expected.numpy())


def test_the_context_is_reentrant_and_restores_tensorflows_gradient():
    original = tf_ops._gradient_registry.lookup("BiasAdd")
    with float32_bias_gradients():
        inside = tf_ops._gradient_registry.lookup("BiasAdd")
        with float32_bias_gradients():
            assert tf_ops._gradient_registry.lookup("BiasAdd") is inside
        assert tf_ops._gradient_registry.lookup("BiasAdd") is inside
    assert inside is not original
    assert tf_ops._gradient_registry.lookup("BiasAdd") is original
    with pytest.raises(ZeroDivisionError), float32_bias_gradients():
        1 / 0  # noqa: B018
    assert tf_ops._gradient_registry.lookup("BiasAdd") is original


def sgd_gradients(make_model, x, optimizers):
    """Per-variable gradients of one ``train_on_batch`` (SGD) under float32 and mixed_bfloat16.

    ``optimizers`` maps compile keywords to SGD learning rates; a variable's gradient is its
    change over minus its optimizer's rate (the models start from the same weights and seeds).
    """
    grads = {}
    for policy in ("float32", "mixed_bfloat16"):
        with dtype_policy(policy):
            model = make_model()
        if policy == "float32":
            weights = model.get_weights()
        model.set_weights(weights)
        model.compile(**{name: keras.optimizers.SGD(rate) for name, rate in optimizers.items()})
        before = [v.numpy() for v in model.trainable_variables]
        model.train_on_batch(x)
        rate = max(optimizers.values())
        grads[policy] = [
            (b - v.numpy()) / rate for v, b in zip(model.trainable_variables, before, strict=True)
        ]
        if policy == "float32":  # layer names are unique per process: name by the first model
            paths = [v.path for v in model.trainable_variables]
    return (dict(zip(paths, grads[policy], strict=True)) for policy in grads)


def assert_conv_transpose_bias_gradients_match(exact, mixed):
    biases = [path for path in exact if "conv2d_transpose" in path and path.endswith("bias")]
    assert len(biases) == 3, list(exact)
    for path in biases:
        error = np.linalg.norm(mixed[path] - exact[path]) / np.linalg.norm(exact[path])
        assert error < 0.03, (path, error)  # without the fix: 0.2 and 0.8 (VAE, batch 32)


def digits_28x28(batch):
    """Real images (scikit-learn's digits, offline) at 28x28: realistic, correlated gradients."""
    x = next(iter(tfgen.data.load("digits", "train", batch_size=batch, binarize="static")))
    return tf.image.resize(x, [28, 28], method="nearest")


@pytest.mark.slow
def test_vae_train_step_under_mixed_bfloat16_matches_float32_bias_gradients():
    # batch 32: the decoder's transposed convolutions sum 32 * 14 * 14 = 6,272 and
    # 32 * 28 * 28 = 25,088 terms per bias; LossModel.train_step must sum them in float32.
    exact, mixed = sgd_gradients(
        lambda: VAE(event_shape=(28, 28, 1), latent_dim=2, seed=0),
        digits_28x28(32),
        {"optimizer": 1.0},
    )
    assert_conv_transpose_bias_gradients_match(exact, mixed)


@pytest.mark.slow
def test_adversarial_phase_step_under_mixed_bfloat16_matches_float32_bias_gradients():
    # The AAE's first phase (reconstruction, AdversarialModel.phase_step) is the only one that
    # moves the decoder: with the other phases' rates at 0, its change is its gradient.
    exact, mixed = sgd_gradients(
        lambda: AAE(event_shape=(28, 28, 1), latent_dim=2, seed=0),
        digits_28x28(32),
        {"ae_optimizer": 1.0, "d_optimizer": 0.0, "g_optimizer": 0.0},
    )
    assert_conv_transpose_bias_gradients_match(exact, mixed)


def test_unknown_rank_falls_back_to_a_float32_sum():
    bias = tf.Variable(tf.zeros([4], tf.bfloat16))

    @tf.function(input_signature=[tf.TensorSpec(None, tf.bfloat16)])
    def gradient(x):
        with tf.GradientTape() as tape:
            y = tf.nn.bias_add(x, bias)
        upstream = tf.fill(tf.shape(y), tf.constant(0.01, tf.bfloat16))
        with float32_bias_gradients():
            return tape.gradient(y, bias, output_gradients=upstream)

    grad = gradient(tf.zeros([64, 28, 28, 4], tf.bfloat16)).numpy().astype(np.float32)
    np.testing.assert_allclose(grad, 501.76, rtol=2**-8)


@pytest.mark.parametrize("dtype", ["mixed_bfloat16", keras.DTypePolicy("mixed_bfloat16")])
def test_from_config_builds_layers_under_the_saved_policy_string_or_object(dtype):
    config = dict(VAE(event_shape=(8, 8, 1), latent_dim=2).get_config(), dtype=dtype)
    model = VAE.from_config(config)
    assert model.decoder.layers[2].compute_dtype == "bfloat16"  # a transposed convolution
    assert keras.mixed_precision.global_policy().name == "float32"  # the caller's, restored
