"""Training guards: stop at the first non-finite batch and keep the last good state.

One NaN or inf in a batch (an all-NaN image that slipped past the checks of a custom pipeline,
an exploding learning rate) turns every weight NaN in one optimizer step, and Keras trains on
to the end of the epoch. :class:`StopOnNonFiniteLoss` checks the logs after every batch, stops
``fit`` at the first non-finite value, and puts back the weights and optimizer state of the last
epoch that ended finite (or of the start of training; optimizer variables created after that
point are not restored), so the model in memory is the last good one. The epoch's logs stay
non-finite (the metric trackers saw the bad batch), which is how
:class:`tfgen.callbacks.EpochCheckpoint` and :class:`tfgen.callbacks.SampleGrid` know not to
save a checkpoint or a sample grid for it.
"""

from __future__ import annotations

import keras
import numpy as np


def non_finite(logs: dict | None) -> dict[str, float]:
    """The entries of Keras ``logs`` that are not finite numbers, as floats.

    Example:
        >>> non_finite({"loss": float("nan"), "kl": 1.0})
        {'loss': nan}
    """
    bad = {}
    for name, value in (logs or {}).items():
        try:
            number = float(np.asarray(value))
        except (TypeError, ValueError):
            continue
        if not np.isfinite(number):
            bad[name] = number
    return bad


def _state_variables(model) -> list:
    """The model's variables and those of each of its optimizers (one per phase for GANs)."""
    variables = list(model.weights)
    names = getattr(model, "optimizer_names", ("optimizer",))
    seen = set()
    for name in names:
        optimizer = getattr(model, name, None)
        if optimizer is not None and id(optimizer) not in seen and optimizer.built:
            seen.add(id(optimizer))
            variables += list(optimizer.variables)
    return variables


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Stops ``fit`` after the first batch whose logs hold NaN or inf, restoring the last good
    weights and optimizer state.

    Every logged value is checked (``loss``, or ``d_loss``/``g_loss`` of adversarial models ...).
    The state is kept in memory at the start of training and after every epoch whose logs are
    finite; on a non-finite batch it is put back and training stops. Unlike Keras'
    ``TerminateOnNaN`` the model is left with its last good values, every log is checked, and
    where it happened is recorded.

    Attributes:
        stopped_at: None, or ``{"epoch", "batch", "logs"}`` of the batch that stopped training
            (``logs``: the non-finite entries).

    Args:
        restore: put back the last good weights and optimizer state (default True).

    Example:
        >>> import tensorflow as tf
        >>> model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
        >>> model.compile("sgd", "mse")
        >>> guard = StopOnNonFiniteLoss()
        >>> x = tf.constant([[1.0], [float("nan")]])
        >>> _ = model.fit(x, x, batch_size=1, epochs=3, shuffle=False, verbose=0, callbacks=[guard])
        >>> guard.stopped_at["epoch"], guard.stopped_at["batch"]
        (0, 1)
        >>> bool(np.isfinite(model.layers[0].kernel.numpy()).all())
        True
    """

    def __init__(self, restore: bool = True):
        super().__init__()
        self.restore = bool(restore)
        self.stopped_at: dict | None = None
        self._good: list | None = None
        self._epoch = 0

    def _snapshot(self) -> None:
        if self.restore:
            self._good = [(v, np.array(v.numpy())) for v in _state_variables(self.model)]

    def on_train_begin(self, logs=None) -> None:
        self.stopped_at = None
        self._snapshot()

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self._epoch = epoch

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if self.stopped_at is None and not non_finite(logs):
            self._snapshot()

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        bad = non_finite(logs)
        if not bad or self.stopped_at is not None:
            return
        self.stopped_at = {"epoch": self._epoch, "batch": batch, "logs": bad}
        self.model.stop_training = True
        for variable, value in self._good or ():
            variable.assign(value)


__all__ = ["StopOnNonFiniteLoss", "non_finite"]
