"""Convolutional encoder and decoder stacks (the TF2 convolutional-VAE tutorial's by default)."""

from __future__ import annotations

from collections.abc import Sequence

import keras


def _output_dtype() -> str | None:
    """float32 for output layers under a mixed policy: logits and scales stay full precision."""
    return "float32" if keras.mixed_precision.global_policy().name.startswith("mixed") else None


def conv_encoder(
    input_shape: Sequence[int],
    output_dim: int,
    filters: Sequence[int] = (32, 64),
    name: str = "encoder",
) -> keras.Sequential:
    """Stride-2 3x3 ReLU convolutions ('valid' padding), flatten, dense to ``output_dim``.

    With the defaults this is the tutorial's inference network: Conv2D(32) -> Conv2D(64) ->
    Dense(2 * latent_dim). The returned model is built (its weights exist).

    Args:
        input_shape: ``(H, W, C)`` of the input (extra channels, e.g. one-hot labels, included).
        output_dim: width of the final linear layer.
        filters: channels of each stride-2 convolution.
        name: Keras name of the stack.

    Example:
        >>> conv_encoder((28, 28, 1), 4).output_shape
        (None, 4)
    """
    layers = [keras.Input(shape=tuple(input_shape))]
    layers += [keras.layers.Conv2D(f, 3, strides=2, activation="relu") for f in filters]
    layers += [keras.layers.Flatten(), keras.layers.Dense(output_dim, dtype=_output_dtype())]
    return keras.Sequential(layers, name=name)


def conv_decoder(
    input_dim: int,
    output_shape: Sequence[int],
    filters: Sequence[int] = (64, 32),
    dense_channels: int = 32,
    name: str = "decoder",
    float32_output_layer: bool = True,
) -> keras.Sequential:
    """Dense to a ``H/2^n x W/2^n`` map, stride-2 transposed convolutions, 3x3 output layer.

    With the defaults this is the tutorial's generative network: Dense(7*7*32) ->
    Conv2DTranspose(64) -> Conv2DTranspose(32) -> Conv2DTranspose(C_out) (no activation: the
    outputs are logits).

    Args:
        input_dim: width of the input vector (latent code, plus label features if any).
        output_shape: ``(H, W, C_out)``; H and W must be divisible by ``2 ** len(filters)``.
        filters: channels of each stride-2 transposed convolution.
        dense_channels: channels of the first spatial map.
        name: Keras name of the stack.
        float32_output_layer: under a mixed policy, compute the output layer in float32 (True)
            or in the compute dtype with its logits cast to float32 (False: skips casting the
            last feature map, the largest tensor, to float32 and back: the tutorial network in
            bfloat16 trains 11-14% faster, test ELBO within noise, zoo/RESULTS.md). Either way the
            stack returns float32 logits; without a mixed policy the flag changes nothing.

    Raises:
        ValueError: naming ``output_shape`` when its sides do not divide by ``2 ** len(filters)``.

    Example:
        >>> conv_decoder(2, (28, 28, 1)).output_shape
        (None, 28, 28, 1)
    """
    height, width, channels = (int(d) for d in output_shape)
    factor = 2 ** len(filters)
    if height % factor or width % factor:
        raise ValueError(
            f"output_shape sides must be divisible by {factor} (2 ** len(filters)); "
            f"got {tuple(output_shape)}"
        )
    h0, w0 = height // factor, width // factor
    layers = [
        keras.Input(shape=(input_dim,)),
        # float32 under a mixed policy too: the latent code is not rounded to bfloat16/float16
        # (the layer is tiny; the next layer casts its output to the compute dtype).
        keras.layers.Dense(h0 * w0 * dense_channels, activation="relu", dtype=_output_dtype()),
        keras.layers.Reshape((h0, w0, dense_channels)),
    ]
    layers += [
        keras.layers.Conv2DTranspose(f, 3, strides=2, padding="same", activation="relu")
        for f in filters
    ]
    if float32_output_layer or _output_dtype() is None:
        layers.append(
            keras.layers.Conv2DTranspose(channels, 3, padding="same", dtype=_output_dtype())
        )
    else:
        layers += [
            keras.layers.Conv2DTranspose(channels, 3, padding="same"),
            keras.layers.Activation("linear", dtype="float32", name="float32_logits"),
        ]
    return keras.Sequential(layers, name=name)
