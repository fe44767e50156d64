"""Input checks shared by every model: data, counts, seeds, labels, event shapes, chunking.

Every public entry point of every family checks its arguments here, so the same mistake gets the
same one-line ``ValueError`` everywhere (``"<arg> must be <what>; got <value>"``):

* data (:func:`check_data`): a numeric array of rank ``1 + len(event_shape)`` whose example shape
  is ``event_shape``, with finite values in the model's :class:`tfgen.distributions.ValueRange`.
  Eager inputs are checked here; in a traced step (``fit``, ``evaluate``) assertion ops check
  the values, and their messages name the argument too.
* counts and seeds (:func:`check_count`, :func:`check_seed`): checked before any cast. Python
  and NumPy integers (and integer scalar tensors) are accepted; floats are refused even when
  integral (``3.0``), as are booleans and strings. A count is at most ``MAX_COUNT``, a seed an
  int32.
* labels (:func:`check_labels`): integer class ids in ``[0, num_classes)``, checked in their own
  dtype before the cast to int32.
* ``sample`` draws more than ``SAMPLE_CHUNK_SIZE`` images chunk by chunk
  (:func:`tfgen.models.checked.in_chunks`).

The models apply these checks through :class:`tfgen.models.checked.CheckedInputsMixin`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from tfgen import checks
from tfgen.distributions import LEVEL_TOLERANCE, REAL, ValueRange

_SEED_SALT = 0x5EED
#: Largest count (``num_samples``) accepted: int32 shapes.
MAX_COUNT = 2**31 - 1
#: Seeds are int32: ``[-2**31, 2**31 - 1]``.
SEED_RANGE = (-(2**31), 2**31 - 1)
#: Images ``sample`` draws per network pass; larger counts are drawn chunk by chunk.
SAMPLE_CHUNK_SIZE = 1024


def _eager_scalar(value):
    """A Python number from an eager scalar tensor or 0-d array (other values unchanged)."""
    if tf.is_tensor(value) and tf.executing_eagerly() and value.shape.rank == 0:
        return value.numpy().item() if value.dtype.is_integer else value.numpy()
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item() if np.issubdtype(value.dtype, np.integer) else value
    return value


def check_count(name: str, value, maximum: int = MAX_COUNT):
    """``value`` as a Python int in ``[1, maximum]`` (a traced int tensor gets an assertion op).

    Floats are refused even when integral, booleans and strings too: the check runs before any
    cast, so ``2**40`` is refused rather than wrapped to 0.

    Raises:
        ValueError: naming ``name``.

    Example:
        >>> check_count("num_samples", 3)
        3
        >>> check_count("num_samples", 3.0)
        Traceback (most recent call last):
        ...
        ValueError: num_samples must be an int in [1, 2147483647]; got 3.0
    """
    what = f"an int in [1, {maximum}]"
    value = _eager_scalar(value)
    if tf.is_tensor(value):
        if not value.dtype.is_integer or value.shape.rank != 0:
            raise ValueError(f"{name} must be {what}; got a {value.dtype.name} tensor "
                             f"of shape {value.shape}")  # fmt: skip
        ok = tf.logical_and(value >= 1, tf.cast(value, tf.int64) <= maximum)
        assertion = tf.debugging.Assert(ok, [f"{name} must be {what}; got", value])
        with tf.control_dependencies([assertion]):
            return tf.identity(tf.cast(value, tf.int32))
    if not checks.is_int(value) or not 1 <= value <= maximum:
        raise ValueError(f"{name} must be {what}; got {value!r}"[:300])
    return int(value)


def check_seed(seed):
    """None, or ``seed`` as a Python int in the int32 range (traced int tensors pass through).

    Raises:
        ValueError: naming ``seed`` (floats such as ``1.5`` or ``7.0``, strings, ``2**32``).

    Example:
        >>> check_seed(7), check_seed(None)
        (7, None)
        >>> check_seed(2**32)
        Traceback (most recent call last):
        ...
        ValueError: seed must be None or an int in [-2147483648, 2147483647]; got 4294967296
    """
    if seed is None:
        return None
    low, high = SEED_RANGE
    what = f"None or an int in [{low}, {high}]"
    seed = _eager_scalar(seed)
    if tf.is_tensor(seed):
        if not seed.dtype.is_integer or seed.shape.rank != 0:
            raise ValueError(f"seed must be {what}; got a {seed.dtype.name} tensor")
        return seed
    if not checks.is_int(seed) or not low <= seed <= high:
        raise ValueError(f"seed must be {what}; got {seed!r}"[:300])
    return int(seed)


def as_numeric_tensor(name: str, x) -> tf.Tensor:
    """``x`` as a tensor of a real dtype (bool, int or float), else a ValueError naming it."""
    try:
        t = x if tf.is_tensor(x) else tf.convert_to_tensor(np.asarray(x))
    except (TypeError, ValueError, OverflowError):
        t = None
    if t is None or not (t.dtype.is_floating or t.dtype.is_integer or t.dtype == tf.bool):
        got = f"dtype {t.dtype.name}" if t is not None else f"a {type(x).__name__} that is not one"
        raise checks.fail_described(name, "a numeric array (bool, int or float)", got)
    return t


def check_values(name: str, x: tf.Tensor, value_range: ValueRange = REAL) -> tf.Tensor:
    """``x`` (a numeric tensor) as float32 once its values are finite and in ``value_range``.

    Eager tensors are checked now; traced ones get assertion ops whose messages name ``name``.

    Example:
        >>> from tfgen.distributions import UNIT
        >>> check_values("x", tf.constant([0.0, 255.0]), UNIT)
        Traceback (most recent call last):
        ...
        ValueError: x must be finite values in [0, 1]; got values in [0, 255] (scale 8-bit images by 1/255)
    """  # noqa: E501
    rule = value_range.describe()
    rule = rule if rule == "finite values" or value_range.levels else f"finite {rule}"
    if tf.executing_eagerly():
        v = np.asarray(x)
        if v.size:
            _check_array(name, v, value_range, rule)
        return tf.cast(x, tf.float32)
    x32 = tf.cast(x, tf.float32)
    asserts = [tf.debugging.assert_all_finite(x32, f"{name} must be {rule}; got NaN or inf")]
    low, high, levels = value_range.low, value_range.high, value_range.levels
    if low is not None:
        message = f"{name} must be {rule}; got values outside [{low:g}, {high:g}]"
        asserts.append(tf.debugging.assert_greater_equal(x32, low, message=message))
        asserts.append(tf.debugging.assert_less_equal(x32, high, message=message))
    if levels:
        scaled = (x32 - low) * ((levels - 1) / (high - low))
        off = tf.reduce_max(tf.abs(scaled - tf.round(scaled)))
        message = f"{name} must be {rule}; got values between the levels"
        asserts.append(tf.debugging.assert_less_equal(off, LEVEL_TOLERANCE, message=message))
    with tf.control_dependencies(asserts):
        return tf.identity(x32)


def _check_array(name: str, v: np.ndarray, value_range: ValueRange, rule: str) -> None:
    hint = f" ({value_range.hint})" if value_range.hint else ""
    if v.dtype.kind == "f":
        bad = ~np.isfinite(v)
        if bad.any():
            kinds = "NaN" if np.isnan(v).any() else "inf"
            kinds += "/inf" if kinds == "NaN" and np.isinf(v).any() else ""
            raise ValueError(f"{name} must be {rule}; got {int(bad.sum())} {kinds} of {v.size}")
    low, high, levels = value_range.low, value_range.high, value_range.levels
    if low is None:
        return
    if v.min() < low or v.max() > high:
        got = f"values in [{v.min():g}, {v.max():g}]"
        raise checks.fail_described(name, rule, got + hint)
    if levels:
        scaled = (v.astype(np.float64) - low) * ((levels - 1) / (high - low))
        if np.abs(scaled - np.round(scaled)).max() > LEVEL_TOLERANCE:
            raise checks.fail_described(name, rule, "values between the levels" + hint)


def check_data(
    name: str,
    x,
    event_shape: Sequence[int],
    value_range: ValueRange = REAL,
    *,
    single: bool = False,
) -> tf.Tensor:
    """``x`` as float32 ``[N, *event_shape]`` after checking dtype, rank, shape and values.

    Args:
        name: the argument's name, for messages.
        x: a batch ``[N, *event_shape]`` (N >= 1), any real dtype.
        event_shape: the model's event shape.
        value_range: the values the model's likelihood scores (see :class:`ValueRange`).
        single: also accept one example ``[*event_shape]`` (returned as a batch of one).

    Raises:
        ValueError: naming ``name``, what is expected and what was received.

    Example:
        >>> check_data("x", np.zeros([2, 4, 4, 1]), (4, 4, 1)).shape
        TensorShape([2, 4, 4, 1])
        >>> check_data("x", np.zeros([2, 28, 28, 1]), (4, 4, 1))
        Traceback (most recent call last):
        ...
        ValueError: x must have shape [batch, 4, 4, 1]; got shape [2, 28, 28, 1]
    """
    t = as_numeric_tensor(name, x)
    event = list(event_shape)
    if single and t.shape.rank == len(event):
        t = t[None]
    expected = f"[batch, {', '.join(map(str, event))}]"
    shape = t.shape
    if shape.rank is not None:
        dims = shape.as_list()
        if len(dims) != len(event) + 1 or any(
            d is not None and d != e for d, e in zip(dims[1:], event, strict=True)
        ):
            raise ValueError(f"{name} must have shape {expected}; got shape {dims}")
        if dims[0] == 0:
            raise ValueError(f"{name} must hold at least one example; got shape {dims}")
    return check_values(name, t, value_range)


def validate_event_shape(
    event_shape: Sequence[int], ranks: Sequence[int] = (3,)
) -> tuple[int, ...]:
    """Returns ``event_shape`` as a tuple of positive ints (``(H, W, C)`` for images).

    Args:
        event_shape: the shape of one example.
        ranks: allowed lengths (``(3,)``: images only; GANs also take flat vectors).

    Raises:
        ValueError: naming ``event_shape`` when it is not ``ranks`` positive integers.
    """
    try:
        shape = tuple(int(d) for d in event_shape)
    except (TypeError, ValueError):
        shape = ()
    if len(shape) not in tuple(ranks) or min(shape, default=0) <= 0:
        what = (
            "three positive ints (H, W, C)"
            if tuple(ranks) == (3,)
            else (f"{' or '.join(map(str, ranks))} positive ints")
        )
        raise ValueError(f"event_shape must be {what}; got {event_shape!r}")
    return shape


def seed_pair(seed) -> tf.Tensor:
    """Turns an int (or int scalar tensor) seed into the ``[2]`` int32 stateless seed TFP takes."""
    return tf.stack([tf.cast(seed, tf.int32), tf.constant(_SEED_SALT, tf.int32)])


def check_labels(labels, num_classes: int | None, num=None, owner: str = "model"):
    """Validates ``labels`` and returns them as an int32 ``[N]`` tensor (None if unconditional).

    Eager inputs are range-checked here; in a traced function an assertion op checks them.

    Args:
        labels: int class ids ``[N]``, or None.
        num_classes: the model's number of classes (None: an unconditional model).
        num: the expected N (an int, or an int tensor in a traced function), or None.
        owner: the model's class name, for messages.

    Raises:
        ValueError: naming ``labels`` when given to an unconditional model, missing for a
            conditional one, of a non-integer dtype, of the wrong rank or count, or outside
            ``[0, num_classes)``.

    Example:
        >>> check_labels([0, 2], num_classes=3).numpy().tolist()
        [0, 2]
        >>> check_labels([0, 3], num_classes=3)
        Traceback (most recent call last):
        ...
        ValueError: labels must lie in [0, 3); got [3]
    """
    if not num_classes is not None:
        if labels is not None:
            try:
                got = f"shape {list(np.shape(labels))}" if np.ndim(labels) else repr(labels)[:80]
            except ValueError:  # ragged
                got = f"a {type(labels).__name__}"
            raise ValueError(f"labels must be None: {owner} is unconditional; got {got}")
        return None
    if labels is None:
        raise ValueError(f"labels are required: {owner} is conditional (int class ids [N])")
    labels = as_numeric_tensor("labels", labels)
    if not (labels.dtype.is_integer):
        raise ValueError(f"labels must be integer class ids; got dtype {labels.dtype.name}")
    if labels.shape.rank != 1:
        raise ValueError(f"labels must have shape [N]; got shape {labels.shape}")
    num = _eager_scalar(num)
    if checks.is_int(num) and labels.shape[0] is not None and labels.shape[0] != num:
        raise ValueError(f"labels must have {num} entries (one per example); got {labels.shape[0]}")
    if tf.executing_eagerly():
        values = labels.numpy()  # checked in their own dtype: 2**32 is not class 0
        bad = values[(values < 0) | (values >= num_classes)]
        if bad.size:
            raise ValueError(
                f"labels must lie in [0, {num_classes}); got {sorted(set(bad.tolist()))[:10]}"
            )
        return tf.cast(labels, tf.int32)
    wide = tf.cast(labels, tf.int64)
    labels = tf.cast(tf.clip_by_value(wide, -1, num_classes), tf.int32)  # no wrap-around
    asserts = [
        tf.debugging.assert_non_negative(labels, message="labels must be >= 0"),
        tf.debugging.assert_less(
            labels, num_classes, message=f"labels must be < num_classes={num_classes}"
        ),
    ]
    if tf.is_tensor(num):
        asserts.append(
            tf.debugging.assert_equal(
                tf.size(labels),
                tf.cast(num, tf.int32),
                message="labels must have num_samples entries",
            )
        )
    with tf.control_dependencies(asserts):
        return tf.identity(labels)
