"""The convolutional autoencoder: strided convolutions down, transposed convolutions up."""

from __future__ import annotations

from collections.abc import Sequence

import keras

from tfgen import checks
from tfgen.models.autoencoder_base import (
    AutoencoderBase,
    activation_name,
    code_activation_arg,
    output_dtype,
    resolved_code_activation,
)


@keras.saving.register_keras_serializable(package="tfgen")
class ConvAutoencoder(AutoencoderBase):
    """Stride-2 convolutions to a dense code, and transposed convolutions back.

    Encoder: ``len(filters)`` 3x3 stride-2 ``"same"`` convolutions (``activation``), flatten,
    Dense(``latent_dim``, ``code_activation``). Decoder: Dense to an
    ``H / 2^n x W / 2^n x filters[-1]`` map, 3x3 stride-2 transposed convolutions with the
    filters reversed, and a 3x3 convolution to C channels (logits or values). Any event shape
    whose height and width divide by ``2 ** len(filters)`` works (28x28 with two levels).
    Noise, sparsity, outputs and the API are :class:`AutoencoderBase`'s.

    Args:
        event_shape: ``(H, W, C)``, H and W divisible by ``2 ** len(filters)``.
        filters: channels of each stride-2 convolution of the encoder.
        latent_dim: width of the code.
        activation: activation of the convolutions.
        code_activation: activation of the code; None: ``"sigmoid"`` with ``sparsity="kl"``,
            else ``"linear"``.
        output: ``"bernoulli"`` or ``"mse"``.
        noise: None, ``"gaussian"`` or ``"dropout"``.
        noise_rate: in [0, 1).
        sparsity: None, ``"kl"`` or ``"l1"``.
        sparsity_target: in (0, 1).
        sparsity_weight: >= 0.
        seed: seed of the model's random stream.
        **kwargs: ``keras.Model`` arguments.

    Raises:
        ValueError: naming the argument (``event_shape`` when its sides do not divide by
            ``2 ** len(filters)``).

    Example:
        >>> import numpy as np
        >>> ae = ConvAutoencoder(event_shape=(8, 8, 1), filters=(4, 8), latent_dim=3)
        >>> ae.encode(np.zeros([2, 8, 8, 1], "float32")).shape, ae.decoder.output_shape
        (TensorShape([2, 3]), (None, 8, 8, 1))
    """

    def __init__(
        self,
        event_shape: Sequence[int] = (28, 28, 1),
        filters: Sequence[int] = (32, 64),
        latent_dim: int = 32,
        activation: str = "relu",
        code_activation: str | None = None,
        output: str = "bernoulli",
        noise: str | None = None,
        noise_rate: float = 0.2,
        sparsity: str | None = None,
        sparsity_target: float = 0.1,
        sparsity_weight: float = 0.1,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(
            event_shape,
            latent_dim,
            output,
            noise,
            noise_rate,
            sparsity,
            sparsity_target,
            sparsity_weight,
            seed,
            **kwargs,
        )
        self.filters = checks.positive_ints("filters", filters)
        factor = 2 ** len(self.filters)
        checks.image_sides_divisible("event_shape", self.event_shape, factor, "2 ** len(filters)")
        self.activation = activation_name("activation", activation)
        self.code_activation = code_activation_arg(code_activation, sparsity)
        h, w, c = self.event_shape
        code = resolved_code_activation(code_activation, sparsity)
        self.encoder = keras.Sequential(
            [
                keras.Input(shape=self.event_shape),
                *[
                    keras.layers.Conv2D(f, 3, strides=2, padding="same", activation=activation)
                    for f in self.filters
                ],
                keras.layers.Flatten(),
                keras.layers.Dense(latent_dim, activation=code, dtype=output_dtype()),
            ],
            name="encoder",
        )
        small = (h // factor, w // factor, self.filters[-1])
        self.decoder = keras.Sequential(
            [
                keras.Input(shape=(self.latent_dim,)),
                keras.layers.Dense(small[0] * small[1] * small[2], activation=activation),
                keras.layers.Reshape(small),
                *[
                    keras.layers.Conv2DTranspose(
                        f, 3, strides=2, padding="same", activation=activation
                    )
                    for f in reversed(self.filters)
                ],
                keras.layers.Conv2D(c, 3, padding="same", dtype=output_dtype()),
            ],
            name="decoder",
        )
        self.built = True

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            filters=list(self.filters),
            activation=self.activation,
            code_activation=self.code_activation,
        )
        return config


__all__ = ["ConvAutoencoder"]
