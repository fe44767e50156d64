"""Mixed precision: bfloat16 bias gradients summed in float32, and a dtype-policy scope.

TensorFlow's CPU kernel for the bias gradient (``BiasAddGrad``, the gradient of ``tf.nn.bias_add``,
which Keras' ``Conv*`` and ``Dense`` layers use for their bias) accumulates ``bfloat16`` in
``bfloat16``: summing 200,704 gradients of 0.01 (a ``[256, 28, 28, 32]`` feature map) gives 8
instead of 2,007 (tensorflow/tensorflow#86378). Under ``mixed_bfloat16`` every convolution bias of
a large feature map therefore gets a wrong gradient: 66% and 90% relative error on the two
transposed convolutions of the tutorial VAE at batch 256, while every other gradient is within 1%
of float32's (zoo/RESULTS.md). ``tf.reduce_sum`` over the same tensor is exact in bfloat16's
precision (its CPU kernel accumulates bfloat16 in float32), and float16's ``BiasAddGrad``
accumulates in float32.

:func:`float32_bias_gradients` replaces the ``BiasAdd`` gradient, while it is active, by
``tf.reduce_sum`` for ``bfloat16`` gradients; every other dtype keeps TensorFlow's own gradient.
``reduce_sum`` on the bfloat16 tensor is as exact as a float32 sum rounded to bfloat16 (worst
relative error 0.3% over 200,704 random terms) and faster than both summing a float32 copy and the
broken kernel: in one same-process A/B the VAE preset's recipe with a float32 output layer trained
at 5,767 images/s with this fix, 5,416 without it and 5,245 with a float32 copy. The
gradient function is looked up when ``tape.gradient`` runs, so the context wraps that call.
``LossModel.train_step``, ``AdversarialModel.phase_step`` and ``tfgen.classifier``'s train step use
it; wrap your own ``tape.gradient`` calls the same way when you train a Keras model under
``mixed_bfloat16`` (Keras' own ``train_step`` is not wrapped). While a block is active
the replacement is process-wide: ``tape.gradient`` calls in other threads get it too (bfloat16
is the only dtype it changes).

Example:
    >>> import tensorflow as tf
    >>> bias = tf.Variable(tf.zeros([8], tf.bfloat16))
    >>> features = tf.fill([64, 28, 28, 8], tf.constant(0.01, tf.bfloat16))
    >>> @tf.function
    ... def bias_gradient():
    ...     with tf.GradientTape() as tape:
    ...         loss = tf.reduce_sum(tf.cast(tf.nn.bias_add(features, bias), tf.float32))
    ...     with float32_bias_gradients():
    ...         return tape.gradient(loss, bias)
    >>> float(bias_gradient()[0])  # 64 * 28 * 28 = 50,176 ones, rounded to bfloat16
    50176.0
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

import keras
import tensorflow as tf
from tensorflow.python.framework import ops as tf_ops  # the gradient registry (no public API)
from tensorflow.python.ops import gen_nn_ops

__all__ = ["dtype_policy", "float32_bias_gradients"]

_lock = threading.Lock()
_depth = 0  # nesting count over all threads (MirroredStrategy traces replicas in threads)
_tensorflow_gradient: Callable | None = None


def _bias_add_gradient(op, grad: tf.Tensor):
    """``BiasAdd``'s gradient with the bias part summed by ``reduce_sum`` for bfloat16."""
    if grad.dtype != tf.bfloat16:
        return _tensorflow_gradient(op, grad)
    try:
        data_format = op.get_attr("data_format")
    except (ValueError, KeyError):  # no attribute (graph op / the eager tape's op): channels last
        data_format = b"NHWC"
    rank = grad.shape.rank
    if rank is None:  # unknown rank: TensorFlow's kernel, on a float32 copy
        summed = gen_nn_ops.bias_add_grad(tf.cast(grad, tf.float32), data_format=data_format)
        return grad, tf.cast(summed, grad.dtype)
    channels = 1 if data_format in (b"NCHW", "NCHW") and rank > 2 else rank - 1
    axes = [axis for axis in range(rank) if axis != channels]
    return grad, tf.reduce_sum(grad, axis=axes)  # accumulates in float32 (module docstring)


def _registry_entry() -> dict:
    entry = tf_ops._gradient_registry._registry.get("BiasAdd")  # noqa: SLF001
    if not isinstance(entry, dict) or "type" not in entry:
        raise RuntimeError(
            "tfgen.mixed_precision: TensorFlow's gradient registry has changed; cannot install "
            "the float32 bias gradient (tensorflow/tensorflow#86378)"
        )
    return entry


@contextlib.contextmanager
def float32_bias_gradients() -> Iterator[None]:
    """Sums bfloat16 bias gradients in float32 inside the ``with`` block (re-entrant, thread-safe).

    Wrap the ``tape.gradient(...)`` call: that is when TensorFlow looks up gradient functions.
    Results for float32, float16 and float64 are TensorFlow's own, bit for bit.

    Example:
        >>> import tensorflow as tf
        >>> x = tf.ones([4, 3], tf.bfloat16)
        >>> b = tf.Variable(tf.zeros([3], tf.bfloat16))
        >>> with tf.GradientTape() as tape:
        ...     y = tf.nn.bias_add(x, b)
        >>> with float32_bias_gradients():
        ...     grad = tape.gradient(y, b)
        >>> grad.numpy().tolist()
        [4.0, 4.0, 4.0]
    """
    global _depth, _tensorflow_gradient
    entry = _registry_entry()
    with _lock:
        if _depth == 0:
            _tensorflow_gradient, entry["type"] = entry["type"], _bias_add_gradient
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                entry["type"] = _tensorflow_gradient


@contextlib.contextmanager
def dtype_policy(policy) -> Iterator[None]:
    """Makes ``policy`` Keras' global dtype policy inside the block, then restores the caller's.

    Layers take the global policy when they are made, so models built inside the block keep it.

    Args:
        policy: a policy name (``"mixed_bfloat16"``), config dict or ``keras.DTypePolicy``.

    Example:
        >>> import keras
        >>> with dtype_policy("mixed_bfloat16"):
        ...     layer = keras.layers.Dense(2)
        >>> layer.compute_dtype, keras.mixed_precision.global_policy().name
        ('bfloat16', 'float32')
    """
    caller = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_dtype_policy(keras.dtype_policies.get(policy))
    try:
        yield
    finally:
        keras.mixed_precision.set_dtype_policy(caller)
