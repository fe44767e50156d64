"""The stacked (deep, symmetric) dense autoencoder, with tied weights, denoising and sparsity,
and greedy layer-wise pretraining (Hinton & Salakhutdinov 2006; Bengio et al. 2007).

The objective, noise, sparsity and the ``encode``/``decode``/``reconstruct`` API are
:class:`~tfgen.models.autoencoder_base.AutoencoderBase`'s; the convolutional and recurrent
autoencoders are in :mod:`tfgen.models.conv_autoencoder` and
:mod:`tfgen.models.recurrent_autoencoder`.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from tfgen import checks
from tfgen.layers.tied import DenseTranspose
from tfgen.models.autoencoder_base import (
    AutoencoderBase,
    activation_name,
    code_activation_arg,
    output_dtype,
    resolved_code_activation,
)


@keras.saving.register_keras_serializable(package="tfgen")
class Autoencoder(AutoencoderBase):
    """A stacked dense autoencoder ``D -> hidden_units... -> latent_dim -> ...hidden_units -> D``.

    The decoder mirrors the encoder. With ``tied_weights=True`` each decoder layer uses the
    transposed kernel of its mirror encoder layer (:class:`tfgen.layers.tied.DenseTranspose`,
    biases its own): the kernels are counted once, so the model has about half the parameters.
    With ``activation="linear"``, no hidden layers and ``output="mse"`` it is the linear
    autoencoder whose optimum spans the PCA subspace (Baldi & Hornik 1989).

    ``fit``/``evaluate`` report ``loss``, ``reconstruction`` (mean per-pixel BCE or squared
    error) and, with a penalty, ``sparsity``; ``predict``/``call`` return the decoder's per-pixel
    output (logits or reconstruction). There is no ``log_prob`` and no ``sample``.

    Args:
        event_shape: ``(H, W, C)`` of one image.
        hidden_units: widths of the encoder's hidden layers (the decoder's, reversed); may be
            empty.
        latent_dim: width of the code layer.
        activation: activation of the hidden layers (``"linear"`` for a linear autoencoder).
        code_activation: activation of the code layer; None means ``"sigmoid"`` with
            ``sparsity="kl"`` (the penalty needs codes in (0, 1)) and ``"linear"`` otherwise.
        output: ``"bernoulli"`` (logits, binary cross-entropy) or ``"mse"``.
        tied_weights: decoder kernels are the encoder's, transposed.
        noise: None, ``"gaussian"`` or ``"dropout"`` (denoising autoencoder).
        noise_rate: Gaussian standard deviation or masking probability, in [0, 1).
        sparsity: None, ``"kl"`` or ``"l1"`` (penalty on the codes).
        sparsity_target: target mean activation of each code unit (``"kl"``), in (0, 1).
        sparsity_weight: weight of the penalty, >= 0.
        seed: seed of the model's random stream (training noise).
        **kwargs: ``keras.Model`` arguments (``name``, ``dtype``).

    Raises:
        ValueError: naming the argument: ``event_shape``, ``hidden_units``, ``latent_dim``,
            ``activation``, ``code_activation`` (not sigmoid with ``sparsity="kl"``),
            ``output``, ``noise``, ``noise_rate``, ``sparsity``, ``sparsity_target``,
            ``sparsity_weight``.

    Example:
        >>> ae = Autoencoder(event_shape=(8, 8, 1), hidden_units=(32,), latent_dim=4, seed=0)
        >>> tied = Autoencoder(event_shape=(8, 8, 1), hidden_units=(32,), latent_dim=4,
        ...                    tied_weights=True)
        >>> ae.count_params() - tied.count_params() == 32 * 64 + 4 * 32  # decoder kernels
        True
        >>> ae.encode(np.zeros([2, 8, 8, 1], "float32")).shape
        TensorShape([2, 4])

    References:
        Hinton & Salakhutdinov, "Reducing the Dimensionality of Data with Neural Networks",
        Science 2006. Geron, "Hands-On Machine Learning", 2nd ed., ch. 17.
    """

    def __init__(
        self,
        event_shape: Sequence[int] = (28, 28, 1),
        hidden_units: Sequence[int] = (256,),
        latent_dim: int = 32,
        activation: str = "relu",
        code_activation: str | None = None,
        output: str = "bernoulli",
        tied_weights: bool = False,
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
        self.hidden_units = checks.positive_ints("hidden_units", hidden_units, allow_empty=True)
        self.activation = activation_name("activation", activation)
        self.code_activation = code_activation_arg(code_activation, sparsity)
        if not isinstance(tied_weights, bool):
            raise checks.fail("tied_weights", "a bool", tied_weights)
        self.tied_weights = tied_weights
        self._build_networks()
        self.built = True

    def _build_networks(self) -> None:
        sizes = [*self.hidden_units, self.latent_dim]
        acts = [self.activation] * len(self.hidden_units) + [
            resolved_code_activation(self.code_activation, self.sparsity)
        ]
        self.encoder_layers = [
            keras.layers.Dense(
                n,
                activation=a,
                name=f"encoder_dense_{i}",
                dtype=output_dtype() if i == len(sizes) - 1 else None,
            )
            for i, (n, a) in enumerate(zip(sizes, acts, strict=True))
        ]
        self.encoder = keras.Sequential(
            [keras.Input(shape=self.event_shape), keras.layers.Flatten(), *self.encoder_layers],
            name="encoder",
        )
        # decoder layer j mirrors encoder layer L - 1 - j; the last one outputs D values.
        mirrored = list(reversed(self.encoder_layers))
        widths = [*reversed(self.hidden_units), self.num_dims]
        self.decoder_layers = []
        for j, (layer, width) in enumerate(zip(mirrored, widths, strict=True)):
            last = j == len(widths) - 1
            act = "linear" if last else self.activation
            kwargs = dict(
                activation=act, name=f"decoder_dense_{j}", dtype=output_dtype() if last else None
            )
            if self.tied_weights:
                self.decoder_layers.append(DenseTranspose(layer, **kwargs))
            else:
                self.decoder_layers.append(keras.layers.Dense(width, **kwargs))
        self.decoder = keras.Sequential(
            [
                keras.Input(shape=(self.latent_dim,)),
                *self.decoder_layers,
                keras.layers.Reshape(self.event_shape),
            ],
            name="decoder",
        )

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            hidden_units=list(self.hidden_units),
            activation=self.activation,
            code_activation=self.code_activation,
            tied_weights=self.tied_weights,
        )
        return config


def greedy_layerwise(
    autoencoder: Autoencoder,
    x,
    *,
    epochs_per_layer: int = 1,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    verbose: int = 0,
) -> list[float]:
    """Greedy layer-wise pretraining of a stacked ``autoencoder``, in place.

    Level i is the shallow autoencoder made of encoder layer i and its mirror decoder layer,
    trained to reconstruct the codes of level i - 1 (the images for level 0, with the model's
    own reconstruction error; squared error above, whose targets are hidden activations). The
    levels are trained one after the other on the codes of the already trained ones (frozen),
    so afterwards ``autoencoder`` is the stack of the shallow autoencoders, ready to be
    fine-tuned end to end with ``compile``/``fit``. Noise and sparsity are not used here.

    Args:
        autoencoder: a dense :class:`Autoencoder` (tied or not).
        x: training images ``[N, H, W, C]`` (array or tensor).
        epochs_per_layer: epochs of each level.
        batch_size: batch size.
        learning_rate: Adam's learning rate for each level.
        verbose: Keras ``fit`` verbosity.

    Returns:
        The final training loss of each level, encoder side first.

    Raises:
        ValueError: naming ``autoencoder``, ``x``, ``epochs_per_layer``, ``batch_size`` or
            ``learning_rate``.

    Example:
        >>> ae = Autoencoder(event_shape=(8, 8, 1), hidden_units=(16,), latent_dim=4, seed=0)
        >>> x = np.random.default_rng(0).random([64, 8, 8, 1]).astype("float32")
        >>> len(greedy_layerwise(ae, x, epochs_per_layer=1, batch_size=32))
        2
    """
    if not isinstance(autoencoder, Autoencoder):
        raise checks.fail("autoencoder", "a tfgen Autoencoder", type(autoencoder).__name__)
    epochs = checks.positive_int("epochs_per_layer", epochs_per_layer)
    batch_size = checks.positive_int("batch_size", batch_size)
    learning_rate = checks.positive_number("learning_rate", learning_rate)
    inputs = np.asarray(autoencoder._images(x)).reshape(len(x), -1)
    levels = len(autoencoder.encoder_layers)
    losses = []
    for i, encoder_layer in enumerate(autoencoder.encoder_layers):
        decoder_layer = autoencoder.decoder_layers[levels - 1 - i]
        shallow = keras.Sequential(
            [keras.Input(shape=(inputs.shape[1],)), encoder_layer, decoder_layer]
        )
        if i == 0 and autoencoder.output == "bernoulli":
            loss = keras.losses.BinaryCrossentropy(from_logits=True)
        else:
            loss = keras.losses.MeanSquaredError()
        shallow.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss)
        history = shallow.fit(inputs, inputs, epochs=epochs, batch_size=batch_size, verbose=verbose)
        losses.append(float(history.history["loss"][-1]))
        inputs = np.asarray(encoder_layer(inputs))
    return losses


__all__ = ["Autoencoder", "greedy_layerwise"]
