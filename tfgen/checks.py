"""Argument checks shared by the whole library, with one message shape.

Every check raises ``ValueError("<arg> must be <what>; got <value>")`` and otherwise returns the
value, normalised (a Python ``int`` for integer arguments, a ``float`` for numbers), so a
constructor can write ``self.latent_dim = checks.positive_int("latent_dim", latent_dim)``.
Integer checks run before any cast: ``2.5`` or ``True`` is refused, not truncated.

Example:
    >>> positive_int("latent_dim", 2)
    2
    >>> positive_int("latent_dim", 0)
    Traceback (most recent call last):
    ...
    ValueError: latent_dim must be a positive int; got 0
    >>> one_of("likelihood", "gauss", ("bernoulli", "categorical"))
    Traceback (most recent call last):
    ...
    ValueError: likelihood must be one of ['bernoulli', 'categorical']; got 'gauss'
"""

from __future__ import annotations

import numbers
from collections.abc import Collection, Sequence
from typing import Any


def fail(name: str, what: str, value: Any) -> ValueError:
    """The library's error for a bad argument (raise the result).

    Example:
        >>> str(fail("steps", "an int >= 2", 1))
        'steps must be an int >= 2; got 1'
    """
    return ValueError(f"{name} must be {what}; got {value!r}")


def fail_described(name: str, what: str, got: str) -> ValueError:
    """:func:`fail` with what was received described in words instead of its ``repr``.

    Example:
        >>> str(fail_described("x", "images in [0, 1]", "floats in [0.0, 255.0]"))
        'x must be images in [0, 1]; got floats in [0.0, 255.0]'
    """
    return ValueError(f"{name} must be {what}; got {got}")


def is_int(value: Any) -> bool:
    """Whether ``value`` is an integer (Python or NumPy), booleans excluded."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def int_at_least(name: str, value: Any, minimum: int) -> int:
    """``value`` as an int if it is an integer ``>= minimum``.

    Example:
        >>> int_at_least("replay_size", 0, 0)
        0
    """
    if not is_int(value) or value < minimum:
        what = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise fail(name, what, value)
    return int(value)


def positive_int(name: str, value: Any) -> int:
    """``value`` as an int if it is an integer ``>= 1``."""
    return int_at_least(name, value, 1)


def odd_int(name: str, value: Any, minimum: int = 1) -> int:
    """``value`` as an int if it is an odd integer ``>= minimum`` (kernel sizes).

    Example:
        >>> odd_int("kernel_size", 4, 3)
        Traceback (most recent call last):
        ...
        ValueError: kernel_size must be an odd int >= 3; got 4
    """
    if not is_int(value) or value < minimum or value % 2 == 0:
        raise fail(name, f"an odd int >= {minimum}", value)
    return int(value)


def optional_positive_int(name: str, value: Any) -> int | None:
    """None, or ``value`` as an int if it is an integer ``>= 1``."""
    if value is None:
        return None
    if not is_int(value) or value < 1:
        raise fail(name, "None or a positive int", value)
    return int(value)


def number_in(
    name: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """``value`` as a float if it is a real number in the interval (bounds None: unbounded).

    Example:
        >>> number_in("replay_fraction", 0.5, 0.0, 1.0, low_open=True)
        0.5
        >>> number_in("label_smoothing", 0.5, 0.0, 0.5, high_open=True)
        Traceback (most recent call last):
        ...
        ValueError: label_smoothing must be a number in [0.0, 0.5); got 0.5
    """
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and value == value
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        if low is not None and high is None and low == 0 and low_open:
            what = "a positive number"
        else:
            left = "(" if low_open or low is None else "["
            right = ")" if high_open or high is None else "]"
            lo = "-inf" if low is None else low
            hi = "inf" if high is None else high
            what = f"a number in {left}{lo}, {hi}{right}"
        raise fail(name, what, value)
    return float(value)


def positive_number(name: str, value: Any) -> float:
    """``value`` as a float if it is a real number ``> 0``."""
    return number_in(name, value, 0.0, low_open=True)


def one_of(name: str, value: Any, allowed: Collection) -> Any:
    """``value`` if it is one of ``allowed`` (the message lists them)."""
    if value not in allowed:
        raise fail(name, f"one of {list(allowed)}", value)
    return value


def positive_ints(name: str, values: Any, *, allow_empty: bool = False) -> tuple[int, ...]:
    """``values`` as a tuple of ints if it is a sequence of positive integers.

    Example:
        >>> positive_ints("encoder_filters", [32, 64])
        (32, 64)
        >>> positive_ints("hidden_units", (16, 0))
        Traceback (most recent call last):
        ...
        ValueError: hidden_units must be a non-empty sequence of positive ints; got (16, 0)
    """
    ok = isinstance(values, Sequence) and not isinstance(values, str)
    ok = ok and (allow_empty or len(values) > 0)
    if not ok or not all(is_int(v) and v >= 1 for v in values):
        what = "a sequence of positive ints"
        what = what if allow_empty else "a non-empty " + what[2:]
        raise fail(name, what, values)
    return tuple(int(v) for v in values)


def image_sides_divisible(name: str, shape: Sequence[int], factor: int, why: str) -> None:
    """Checks that the height and width of ``shape`` (``(H, W, C)``) divide by ``factor``.

    Example:
        >>> image_sides_divisible("event_shape", (30, 30, 1), 4, "2 ** len(decoder_filters)")
        Traceback (most recent call last):
        ...
        ValueError: event_shape must be (H, W, C) with H and W divisible by 4 (2 ** len(decoder_filters)); got (30, 30, 1)
    """  # noqa: E501
    if shape[0] % factor or shape[1] % factor:
        raise fail(name, f"(H, W, C) with H and W divisible by {factor} ({why})", tuple(shape))


__all__ = [
    "fail",
    "fail_described",
    "image_sides_divisible",
    "int_at_least",
    "is_int",
    "number_in",
    "odd_int",
    "one_of",
    "optional_positive_int",
    "positive_int",
    "positive_ints",
    "positive_number",
]
