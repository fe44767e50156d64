"""The recurrent autoencoder: an image's rows as a sequence (Hands-On ML, ch. 17)."""

from __future__ import annotations

from collections.abc import Sequence

import keras

from tfgen import checks
from tfgen.models.autoencoder_base import (
    AutoencoderBase,
    code_activation_arg,
    output_dtype,
    resolved_code_activation,
)


@keras.saving.register_keras_serializable(package="tfgen")
class RecurrentAutoencoder(AutoencoderBase):
    """Sequence-to-vector LSTM encoder, vector-to-sequence LSTM decoder, over image rows.

    An ``(H, W, C)`` image is a sequence of H rows of ``W * C`` values. The encoder runs
    ``len(hidden_units)`` stacked LSTMs (the last returns its final state only) and a Dense
    code layer; the decoder repeats the code H times, runs the LSTMs in reverse order of widths
    (all returning sequences) and maps each step to a row of ``W * C`` logits or values.
    Noise, sparsity, outputs and the API are :class:`AutoencoderBase`'s.

    Data (``model.value_range``): inputs are any finite images; with ``output="bernoulli"`` the
    targets are in [0, 1] (grey levels, scored by binary cross-entropy).

    Args:
        event_shape: ``(H, W, C)``.
        hidden_units: widths of the stacked LSTMs of the encoder (decoder: reversed).
        latent_dim: width of the code.
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
        ValueError: naming the argument.

    Example:
        >>> import numpy as np
        >>> ae = RecurrentAutoencoder(event_shape=(8, 8, 1), hidden_units=(6,), latent_dim=3)
        >>> ae.reconstruct(np.zeros([2, 8, 8, 1], "float32")).shape
        TensorShape([2, 8, 8, 1])
    """

    def __init__(
        self,
        event_shape: Sequence[int] = (28, 28, 1),
        hidden_units: Sequence[int] = (100,),
        latent_dim: int = 32,
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
        self.hidden_units = checks.positive_ints("hidden_units", hidden_units)
        self.code_activation = code_activation_arg(code_activation, sparsity)
        h, w, c = self.event_shape
        last = len(self.hidden_units) - 1
        self.encoder = keras.Sequential(
            [
                keras.Input(shape=self.event_shape),
                keras.layers.Reshape((h, w * c)),
                *[
                    keras.layers.LSTM(units, return_sequences=i < last)
                    for i, units in enumerate(self.hidden_units)
                ],
                keras.layers.Dense(
                    latent_dim,
                    activation=resolved_code_activation(code_activation, sparsity),
                    dtype=output_dtype(),
                ),
            ],
            name="encoder",
        )
        self.decoder = keras.Sequential(
            [
                keras.Input(shape=(self.latent_dim,)),
                keras.layers.RepeatVector(h),
                *[
                    keras.layers.LSTM(units, return_sequences=True)
                    for units in reversed(self.hidden_units)
                ],
                keras.layers.TimeDistributed(keras.layers.Dense(w * c, dtype=output_dtype())),
                keras.layers.Reshape(self.event_shape),
            ],
            name="decoder",
        )
        self.built = True

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(hidden_units=list(self.hidden_units), code_activation=self.code_activation)
        return config


__all__ = ["RecurrentAutoencoder"]
