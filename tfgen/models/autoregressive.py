"""What the pixel-by-pixel families (NADE, RNADE, PixelCNN, gated PixelCNN) share.

* :class:`AutoregressiveMixin`: the marker of a model whose ``call(x)`` output for dimension
  ``ordering_indices[i]`` depends on the inputs before it in that ordering only; the test battery
  checks that causality by gradients for every model that is an instance.

Sampling helpers, also used by the independent-pixel baseline:

* :func:`check_completion`: validation of ``sample(..., observed=, mask=)`` (image completion).
* :func:`bernoulli_draw`, :func:`gumbel_noise`, :func:`gumbel_max`: draws from logits given
  uniform noise drawn up front with ``tf.random.stateless_*``, so a sample is a deterministic
  function of its seed (identical in eager, graph and an exported SavedModel).
* :func:`cached_function`: one traced ``tf.function`` per model and key (e.g. the sampling
  method), holding the model only weakly.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence

import numpy as np
import tensorflow as tf

from tfgen.distributions import REAL, ValueRange
from tfgen.models import inputs

_FUNCTIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> {key: function}


class AutoregressiveMixin:
    """``p(x) = prod_i p(x_{o(i)} | x_{o(<i)})``: mixed into a density model that factorises
    along an ordering ``o`` of its ``num_dims`` flat dimensions.

    The host's ``call(x)`` returns per-dimension parameters ``[B, H, W, C * params]`` whose entry
    for flat dimension ``o(i)`` depends only on ``x_{o(<i)}`` (and the labels). Raster order
    (row by row, channels in order within a pixel) is the default; a model with another ordering
    overrides :attr:`ordering_indices`.
    """

    @property
    def ordering_indices(self) -> np.ndarray:
        """``ordering_indices[i]``: the flat index of the i-th dimension of the ordering."""
        return np.arange(self.num_dims)


def _broadcasts_to(shape: tf.TensorShape, target: Sequence[int | None]) -> bool:
    """Whether ``shape`` broadcasts to ``target`` (None: unknown, anything goes statically)."""
    if shape.rank is None:
        return True
    if shape.rank > len(target):
        return False
    pairs = zip(reversed(shape.as_list()), reversed(list(target)), strict=False)
    return all(d is None or t is None or d in (1, t) for d, t in pairs)


def check_completion(
    event_shape: Sequence[int], num_samples, observed, mask, value_range: ValueRange = REAL
) -> tuple[tf.Tensor, tf.Tensor] | tuple[None, None]:
    """Validates the ``observed``/``mask`` arguments of an image-completion ``sample`` call.

    Args:
        event_shape: ``(H, W, C)`` of one image.
        num_samples: the number of samples N (a python int, or a tensor in a traced function).
        observed: images whose pixels where ``mask`` is true are kept, broadcastable to
            ``[N, H, W, C]`` (one image ``[H, W, C]`` serves every sample), or None.
        mask: bool or 0/1 values broadcastable to ``[N, H, W, C]``: true where ``observed`` is
            kept, or None.
        value_range: the values ``observed`` may hold (the model's data range; finite always).

    Returns:
        ``(None, None)`` when neither is given, else ``observed`` as float32 and ``mask`` as bool,
        both broadcast to ``[N, H, W, C]``.

    Raises:
        ValueError: naming ``observed`` or ``mask`` when only one is given, when either is not
            numeric or does not broadcast to ``[N, H, W, C]``, when ``observed`` holds values
            outside ``value_range`` or not finite, or (eagerly) when a non-bool ``mask`` holds
            values other than 0 and 1.

    Example:
        >>> observed, mask = check_completion((2, 2, 1), 3, np.ones([2, 2, 1]), [[[1], [0]]] * 2)
        >>> observed.shape, mask.dtype, mask[2, :, :, 0].numpy().tolist()
        (TensorShape([3, 2, 2, 1]), tf.bool, [[True, False], [True, False]])
        >>> check_completion((2, 2, 1), 3, None, None)
        (None, None)
    """
    if observed is None and mask is None:
        return None, None
    if observed is None or mask is None:
        raise ValueError(
            "observed and mask must be given together (or neither); mask is true where observed"
        )
    observed = inputs.as_numeric_tensor("observed", observed)
    mask = inputs.as_numeric_tensor("mask", mask)
    shape = [num_samples, *event_shape]
    static = [num_samples if isinstance(num_samples, int) else None, *event_shape]
    for name, t in (("observed", observed), ("mask", mask)):
        if not _broadcasts_to(t.shape, static):
            raise ValueError(
                f"{name} must broadcast to [num_samples, H, W, C] = {static}; "
                f"got shape {t.shape.as_list()}"
            )
    observed = inputs.check_values("observed", observed, value_range)
    if mask.dtype != tf.bool:
        if tf.executing_eagerly() and not np.all(np.isin(mask.numpy(), (0, 1))):
            raise ValueError("mask must hold only 0/1 (or booleans): 1 marks observed pixels")
        mask = tf.cast(mask, tf.bool)
    return tf.broadcast_to(observed, shape), tf.broadcast_to(mask, shape)


def bernoulli_draw(logits: tf.Tensor, u: tf.Tensor) -> tf.Tensor:
    """A Bernoulli draw from ``logits`` and uniform noise ``u``: 1.0 where ``u < sigmoid(logits)``.

    Example:
        >>> bernoulli_draw(tf.constant([0.0, 0.0]), tf.constant([0.4, 0.6])).numpy().tolist()
        [1.0, 0.0]
    """
    return tf.cast(u < tf.sigmoid(logits), tf.float32)


def gumbel_noise(u: tf.Tensor) -> tf.Tensor:
    """Standard Gumbel noise ``-log(-log(u))`` from uniform ``u`` in (0, 1) (clip ``u`` first if
    it can be 0 or round to 1).

    Example:
        >>> round(float(gumbel_noise(tf.constant(0.5))), 4)  # -log(log 2)
        0.3665
    """
    return -tf.math.log(-tf.math.log(u))


def gumbel_max(logits: tf.Tensor, gumbel: tf.Tensor) -> tf.Tensor:
    """A categorical draw ``argmax(logits + gumbel)`` over the last axis (int64 indices).

    With ``gumbel`` i.i.d. standard Gumbel noise (:func:`gumbel_noise`) the index is distributed as
    ``Categorical(logits)`` (the Gumbel-max trick).

    Example:
        >>> gumbel_max(tf.constant([[0.0, 1.0, 0.0]]), tf.constant([[2.0, 0.0, 0.0]])).numpy()
        array([0])
    """
    return tf.argmax(logits + gumbel, axis=-1)


def cached_function(model, key, fn: Callable) -> Callable:
    """``tf.function(lambda *args: fn(model, *args), reduce_retracing=True)``, made once per
    ``(model, key)`` and reused by later calls.

    The function holds ``model`` through a weak reference and the cache is keyed weakly, so
    caching never keeps a model alive; ``fn`` must therefore not refer to ``model`` itself (pass
    an unbound method or a module-level function, which receives the model as first argument).

    Example:
        >>> class Model:
        ...     scale = tf.constant(2.0)
        >>> model = Model()
        >>> double = cached_function(model, "double", lambda m, x: m.scale * x)
        >>> float(double(tf.constant(3.0))), cached_function(model, "double", None) is double
        (6.0, True)
    """
    functions = _FUNCTIONS.setdefault(model, {})
    if key not in functions:
        ref = weakref.ref(model)
        functions[key] = tf.function(lambda *args: fn(ref(), *args), reduce_retracing=True)
    return functions[key]
