"""Causality checks of autoregressive models, by gradients (part of the test battery).

An autoregressive model's ``call(x)`` returns per-dimension parameters ``[B, H, W, C * params]``
whose entries for flat dimension ``ordering_indices[i]`` may depend on the inputs before position
``i`` of the ordering only. :func:`dependence` measures that dependence from the full Jacobian;
:class:`CausalityChecks` is the battery's mixin that asserts it.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tfgen.models.autoregressive import AutoregressiveMixin


def dependence(model, x, labels=None) -> np.ndarray:
    """``dep[i, j]``: max over examples and parameters of ``|d out_i / d x_j|``, in the model's
    ordering (``i``, ``j`` are positions, not flat indices), from the full Jacobian.

    Args:
        model: an autoregressive model (``call`` returns ``[B, H, W, C * params]``).
        x: ``[B, H, W, C]`` float32 images.
        labels: ``[B]`` int class ids (conditional models), or None.

    Returns:
        ``[D, D]`` float array; a causal model's is strictly lower triangular.

    Example:
        >>> import tfgen
        >>> nade = tfgen.models.NADE(event_shape=(2, 2, 1), hidden_units=4, seed=0)
        >>> dep = dependence(nade, tf.ones([2, 2, 2, 1]))
        >>> below = dep[np.tril_indices(4, -1)]  # input before output: some dependence
        >>> dep.shape, bool(np.all(np.triu(dep) == 0)), bool(np.all(below > 0))
        ((4, 4), True, True)
    """
    n, d = int(x.shape[0]), model.num_dims
    flat = tf.reshape(tf.cast(x, tf.float32), [n, d])
    with tf.GradientTape() as tape:
        tape.watch(flat)
        images = tf.reshape(flat, [n, *model.event_shape])
        out = model((images, labels) if model.conditional else images)
        out = tf.reshape(tf.cast(out, tf.float32), [n, -1])
    jacobian = tape.batch_jacobian(out, flat).numpy()  # [n, D * params, D]
    dep = np.abs(jacobian.reshape(n, d, -1, d)).max(axis=(0, 2))  # [D out, D in], flat indices
    order = np.asarray(model.ordering_indices)
    return dep[np.ix_(order, order)]


def assert_causal(dep: np.ndarray, rows=None) -> None:
    """Asserts ``dep`` (from :func:`dependence`, or rows of it) is causal and not vacuously so.

    Row ``i`` (position ``i``) must be zero at columns ``>= i`` and, for ``i > 0``, nonzero at
    some column ``< i``: a model that ignores its inputs (or blocks their gradient, e.g. by
    rounding them without a straight-through estimator) has all-zero rows and fails.

    Args:
        dep: ``[len(rows), D]`` dependences of the outputs at positions ``rows`` on every input.
        rows: the positions of ``dep``'s rows (default: all, ``0 .. D - 1``).

    Example:
        >>> assert_causal(np.array([[0.0, 0.0], [0.5, 0.0]]))
        >>> assert_causal(np.array([[0.0, 0.0], [0.5, 0.1]]))
        Traceback (most recent call last):
        ...
        AssertionError: output at position 1 depends on inputs at positions [1] (at or after it)
    """
    rows = np.arange(dep.shape[0]) if rows is None else np.asarray(rows)
    for row, i in zip(dep, rows, strict=True):
        later = np.flatnonzero(row[i:]) + i
        if later.size:
            raise AssertionError(
                f"output at position {i} depends on inputs at positions {later.tolist()} "
                "(at or after it)"
            )
        if i > 0 and not np.any(row[:i] > 0):
            raise AssertionError(
                f"output at position {i} has zero gradient with respect to every input before "
                "it: the model ignores its inputs (or blocks their gradient), so causality is "
                "untested"
            )


class CausalityChecks:
    """Battery checks for :class:`~tfgen.models.autoregressive.AutoregressiveMixin` models."""

    #: the full-Jacobian check runs when ``num_dims * params`` (outputs per image) is at most this.
    full_jacobian_max_outputs: int = 256
    #: images the causality checks differentiate (several, so one dead ReLU cannot zero a row).
    causality_examples: int = 4

    def _autoregressive_model_and_batch(self):
        model = self.make_model()
        if not isinstance(model, AutoregressiveMixin):
            pytest.skip(f"{type(model).__name__} is not autoregressive (AutoregressiveMixin)")
        return model, *self.causality_batch()

    def causality_batch(self):
        """``(x, labels)``: ``causality_examples`` random images in ``sample_support`` with the
        data's labels. Not the data's images: their blank borders leave the ReLUs there dead for
        every image, so some outputs would have zero gradient everywhere, as if they ignored
        their inputs."""
        x, labels = self.batch(self.causality_examples)
        u = tf.random.stateless_uniform(tf.shape(x), seed=[12, 34])
        support = getattr(self, "sample_support", "binary")
        if support == "binary":
            return tf.cast(u < 0.5, tf.float32), labels
        return (tf.round(u * 255.0) / 255.0 if support == "levels" else u), labels

    def test_autoregressive_causality(self):
        """Six positions spread over the ordering: zero gradient with respect to the inputs at or
        after each, nonzero with respect to some earlier one (cheap at any image size)."""
        model, x, labels = self._autoregressive_model_and_batch()
        n = int(x.shape[0])
        order = np.asarray(model.ordering_indices)
        checked = np.linspace(0, model.num_dims - 1, 6).astype(int)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            out = model((x, labels) if model.conditional else x)
            flat = tf.reshape(out, [n, model.num_dims, -1])
            # the reductions must be recorded by the tape, so they happen inside it
            sums = [tf.reduce_sum(flat[:, order[i]]) for i in checked]
        rows = []
        for total in sums:
            grad = tape.gradient(total, x, unconnected_gradients="zero")
            grad = np.abs(np.reshape(grad.numpy(), [n, -1])).max(axis=0)  # [D], flat indices
            rows.append(grad[order])  # by position
        assert_causal(np.stack(rows), checked)

    @pytest.mark.slow
    def test_autoregressive_causality_full_jacobian(self):
        """Every output against every input (the whole Jacobian) for small event shapes."""
        model, x, labels = self._autoregressive_model_and_batch()
        outputs = int(np.prod(model(x[:1] if labels is None else (x[:1], labels[:1])).shape))
        if outputs > self.full_jacobian_max_outputs:
            pytest.skip(
                f"{outputs} outputs per image > full_jacobian_max_outputs="
                f"{self.full_jacobian_max_outputs} (the six-position check covers it)"
            )
        assert_causal(dependence(model, x, labels))


__all__ = ["CausalityChecks", "assert_causal", "dependence"]
