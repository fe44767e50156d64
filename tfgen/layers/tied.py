"""A dense layer whose kernel is another ``Dense`` layer's kernel, transposed (tied weights)."""

from __future__ import annotations

import keras
from keras import ops


class DenseTranspose(keras.layers.Layer):
    """``activation(x @ tied_to.kernel^T + bias)``: the mirror image of a ``Dense`` layer.

    The layer owns only its bias (``tied_to.kernel.shape[0]`` units); the kernel is the other
    layer's variable, not a copy, so a tied autoencoder trains one matrix per level for both its
    encoder and its decoder and has about half the parameters of an untied one. The reference
    is kept outside Keras' layer tracking, so the kernel is counted (and saved) once, by the
    layer that owns it. Save the model that holds both layers (e.g. the ``Autoencoder``): a
    ``DenseTranspose`` alone has no kernel to save and no config to rebuild its tie from.

    Args:
        tied_to: a built ``keras.layers.Dense`` (its kernel has shape ``[in, out]``).
        activation: Keras activation name or function.
        **kwargs: ``keras.layers.Layer`` arguments (``name``, ``dtype``).

    Raises:
        ValueError: naming ``tied_to`` when it is not a built ``Dense`` layer.

    Example:
        >>> dense = keras.layers.Dense(3)
        >>> dense.build((None, 5))
        >>> tied = DenseTranspose(dense)
        >>> tuple(tied(ops.zeros((2, 3))).shape), [tuple(w.shape) for w in tied.weights]
        ((2, 5), [(5,)])
    """

    def __init__(self, tied_to: keras.layers.Dense, activation=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(tied_to, keras.layers.Dense) or not tied_to.built:
            raise ValueError(f"tied_to must be a built keras.layers.Dense; got {tied_to!r}")
        object.__setattr__(self, "_tied_to", tied_to)  # untracked: the kernel is not ours
        self.units = int(tied_to.kernel.shape[0])
        self.activation = keras.activations.get(activation)
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")
        self.built = True

    @property
    def tied_to(self) -> keras.layers.Dense:
        """The ``Dense`` layer whose kernel this layer uses transposed."""
        return self._tied_to

    def build(self, input_shape=None):
        self.built = True

    def call(self, inputs):
        kernel = ops.cast(self._tied_to.kernel, self.compute_dtype)
        outputs = ops.matmul(inputs, ops.transpose(kernel)) + ops.cast(self.bias, kernel.dtype)
        return self.activation(outputs)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)


__all__ = ["DenseTranspose"]
