"""Input handling shared by the base classes: event shapes, stateless seeds, label checks."""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf

_SEED_SALT = 0x5EED


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
            raise ValueError(f"{owner} is unconditional: labels must be None (got {labels!r})")
        return None
    if labels is None:
        raise ValueError(f"labels are required: {owner} is conditional")
    labels = tf.convert_to_tensor(labels)
    if not (labels.dtype.is_integer):
        raise ValueError(f"labels must be integer class ids; got dtype {labels.dtype.name}")
    if labels.shape.rank != 1:
        raise ValueError(f"labels must have shape [N]; got shape {labels.shape}")
    if isinstance(num, int) and labels.shape[0] is not None and labels.shape[0] != num:
        raise ValueError(f"labels must have {num} entries (one per example); got {labels.shape[0]}")
    labels = tf.cast(labels, tf.int32)
    if tf.executing_eagerly():
        values = labels.numpy()
        bad = values[(values < 0) | (values >= num_classes)]
        if bad.size:
            raise ValueError(
                f"labels must lie in [0, {num_classes}); got {sorted(set(bad.tolist()))}"
            )
        return labels
    checks = [
        tf.debugging.assert_non_negative(labels, message="labels must be >= 0"),
        tf.debugging.assert_less(
            labels, num_classes, message=f"labels must be < num_classes={num_classes}"
        ),
    ]
    if tf.is_tensor(num):
        checks.append(
            tf.debugging.assert_equal(
                tf.size(labels),
                tf.cast(num, tf.int32),
                message="labels must have num_samples entries",
            )
        )
    with tf.control_dependencies(checks):
        return tf.identity(labels)
