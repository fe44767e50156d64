"""The door of every public entry point: :class:`CheckedInputsMixin`, mixed into
:class:`~tfgen.models.base.GenerativeModel`, so every family checks its inputs the same way.

The checks themselves are the functions of :mod:`tfgen.models.inputs`; this mixin applies them
with the model's ``event_shape``, ``num_classes`` and :attr:`CheckedInputsMixin.value_range` (the
data its likelihood scores, see :class:`tfgen.distributions.ValueRange`), and draws large
``sample`` counts in chunks (:func:`in_chunks`).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from tfgen.distribute import replica_seed
from tfgen.distributions import REAL, ValueRange
from tfgen.models import autoregressive
from tfgen.models.inputs import (
    SAMPLE_CHUNK_SIZE,
    check_count,
    check_data,
    check_labels,
    check_seed,
    seed_pair,
)

_CHUNK_SALT = 0xC4A7
# The message of an input assertion op (tfgen.models.inputs) inside a TF error.
_ASSERTION = re.compile(
    r"\b((?:x|labels|num_samples|seed) must .*?)(?=\] \[|\]\n|\]$| : Tensor had|\n|$)"
)


@contextlib.contextmanager
def _one_line_input_errors():
    """Turns a failed input assertion inside a traced step into a one-line ``ValueError``."""
    try:
        yield
    except tf.errors.InvalidArgumentError as e:
        found = _ASSERTION.search(str(e))
        if found is None:
            raise
        text = found.group(1).strip()
        raise ValueError(f"{text} (in a batch of the data)") from None


def in_chunks(
    draw: Callable, num_samples, seed: tf.Tensor, *per_sample, chunk_size: int = SAMPLE_CHUNK_SIZE
) -> tf.Tensor:
    """``draw(n, seed, *per_sample)`` over chunks of at most ``chunk_size`` samples, concatenated.

    Memory then grows with the chunk, not with ``num_samples``. The first chunk uses ``seed``
    itself, so up to ``chunk_size`` samples are exactly one ``draw``; chunk ``i > 0`` uses the
    sub-seed ``fold_in(seed, salt + i)``. ``per_sample`` tensors (labels, observed, mask; None
    allowed) are sliced along axis 0 with the chunk. A traced ``num_samples`` is one ``draw``.

    Example:
        >>> draw = lambda n, seed, offset: tf.range(n) + offset
        >>> in_chunks(draw, 5, tf.constant([1, 2]), tf.constant([10] * 5), chunk_size=2).numpy()
        array([10, 11, 10, 11, 10], dtype=int32)
    """
    if not isinstance(num_samples, int) or num_samples <= chunk_size:
        return draw(num_samples, seed, *per_sample)
    out = []
    for i, start in enumerate(range(0, num_samples, chunk_size)):
        n = min(chunk_size, num_samples - start)
        sub = seed if i == 0 else tf.random.experimental.stateless_fold_in(seed, _CHUNK_SALT + i)
        pieces = [None if t is None else t[start : start + n] for t in per_sample]
        out.append(draw(n, sub, *pieces))
    return tf.concat(out, axis=0)


class CheckedInputsMixin:
    """Input checks of every entry point (data, counts, seeds, labels, completion) and chunking.

    Host requirements: ``event_shape``, ``num_classes``, ``conditional``, ``_seed_generator``.
    ``fit``/``evaluate``/``predict`` given arrays check them here, before Keras sees them; the
    train/test/predict steps check every batch with assertion ops (``_unpack_data``).
    """

    #: Images ``sample`` draws per network pass; larger counts are drawn chunk by chunk.
    sample_chunk_size: int = SAMPLE_CHUNK_SIZE

    @property
    def value_range(self) -> ValueRange:
        """The data the model accepts: its image likelihood's range, else any finite value.

        Example:
            >>> import tfgen
            >>> tfgen.models.NADE(event_shape=(2, 2, 1), hidden_units=2).value_range.describe()
            'values in [0, 1]'
        """
        likelihood = getattr(self, "image_likelihood", None)
        return REAL if likelihood is None else likelihood.value_range

    def check_inputs(self, x, name: str = "x", *, single: bool = False) -> tf.Tensor:
        """``x`` as float32 ``[N, *event_shape]`` once dtype, shape and values are valid.

        See :func:`tfgen.models.inputs.check_data` (``single``: accept one example too).

        Raises:
            ValueError: naming ``name``, what is expected and what was received.
        """
        return check_data(name, x, self.event_shape, self.value_range, single=single)

    def check_labels(self, labels, num=None) -> tf.Tensor | None:
        """Validates ``labels`` and returns them as an int32 ``[N]`` tensor (None if unconditional).

        See :func:`tfgen.models.inputs.check_labels` (eager range checks in the labels' own
        dtype; assertion ops when traced).

        Raises:
            ValueError: naming ``labels`` when given to an unconditional model, missing for a
                conditional one, of a non-integer dtype, of the wrong rank or count, or outside
                ``[0, num_classes)``.
        """
        return check_labels(labels, self.num_classes, num, type(self).__name__)

    @staticmethod
    def _batch_size(x: tf.Tensor) -> int | tf.Tensor:
        """The static batch size of ``x`` when known (a count check now), else the dynamic one."""
        return int(x.shape[0]) if x.shape[0] is not None else tf.shape(x)[0]

    def _seed(self, seed=None) -> tf.Tensor:
        """A stateless ``[2]`` seed: from ``seed`` when given, else from the model's stream (made
        distinct per replica under a strategy, so replicas draw different noise)."""
        seed = check_seed(seed)
        if seed is None:
            return replica_seed(tf.cast(self._seed_generator.next(), tf.int32))
        return seed_pair(seed)

    def _check_num_samples(self, num_samples):
        """``num_samples`` as an int in ``[1, 2**31 - 1]`` (a traced tensor by an assertion op)."""
        return check_count("num_samples", num_samples)

    def _sample_labels(self, labels, num_samples, seed: tf.Tensor) -> tf.Tensor | None:
        """Validated sampling labels; for a conditional model given None, labels drawn uniformly
        from ``[0, num_classes)`` with the sub-seed ``fold_in(seed, 1)`` of the ``[2]`` seed."""
        if labels is None and self.conditional:
            labels = tf.random.stateless_uniform(
                [num_samples],
                tf.random.experimental.stateless_fold_in(seed, 1),
                maxval=self.num_classes,
                dtype=tf.int32,
            )
        return self.check_labels(labels, num_samples)

    def check_completion(self, num_samples, observed, mask):
        """``observed``/``mask`` of image completion as ``[N, H, W, C]`` float32 / bool, or
        ``(None, None)``; ``observed`` holds finite values in :attr:`value_range`.

        Raises:
            ValueError: naming ``observed`` or ``mask``.
        """
        return autoregressive.check_completion(
            self.event_shape, num_samples, observed, mask, self.value_range
        )

    def _in_chunks(self, draw: Callable, num_samples, seed, *per_sample) -> tf.Tensor:
        """:func:`in_chunks` with the model's :attr:`sample_chunk_size`."""
        return in_chunks(draw, num_samples, seed, *per_sample, chunk_size=self.sample_chunk_size)

    # ----------------------------------------------------------------------------- keras entry
    def _check_arrays(self, x, y) -> tf.Tensor | None:
        """Checks array data given to ``fit``/``evaluate``/``predict`` (datasets and generators
        are checked batch by batch in the steps)."""
        if self.conditional and isinstance(x, (tuple, list)) and len(x) == 2 and y is None:
            x, y = x
        array_like = (np.ndarray, np.generic, tf.Tensor, list, int, float)
        if isinstance(x, array_like) and tf.executing_eagerly():
            x = self.check_inputs(x)
            if self.conditional and isinstance(y, array_like):
                self.check_labels(y, int(x.shape[0]))
            elif y is not None and np.shape(y)[:1] != (x.shape[0],):  # ignored, but Keras slices
                raise ValueError(f"labels (y) must have {x.shape[0]} entries (one per example); "
                                 f"got shape {list(np.shape(y))}")  # fmt: skip
            return x
        return None

    def fit(self, x=None, y=None, *args, **kwargs):
        """``keras.Model.fit``; array data is checked first (:meth:`check_inputs`), and data of
        a [-1, 1] model (GANs) holding no negative value is refused as [0, 1] images."""
        checked = self._check_arrays(x, y)
        low = self.value_range.low
        if (
            checked is not None
            and low is not None
            and low < 0
            and float(tf.reduce_min(checked)) >= 0
        ):
            rule = self.value_range.describe()
            raise ValueError(
                f"x must be {rule} (this model's data); got no negative value, as images in "
                f"[0, 1] ({self.value_range.hint})"
            )
        with _one_line_input_errors():
            return super().fit(x, y, *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        """``keras.Model.evaluate``; array data is checked first (:meth:`check_inputs`)."""
        self._check_arrays(x, y)
        with _one_line_input_errors():
            return super().evaluate(x, y, *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        """``keras.Model.predict``; array data is checked first (:meth:`check_inputs`)."""
        self._check_arrays(x, None)
        with _one_line_input_errors():
            return super().predict(x, *args, **kwargs)


__all__ = ["CheckedInputsMixin", "in_chunks"]
