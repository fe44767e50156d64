"""Base classes shared by every tfgen model.

* :class:`GenerativeModel`: event shape, seeds, label checks, ``compile`` defaults, config.
* :class:`DensityModel`: models trained by maximising a per-example objective (likelihood or
  ELBO). It owns the one ``train_step``/``test_step`` of every such family: subclasses only write
  :meth:`DensityModel.compute_terms`, which returns per-example tensors keyed by metric name.
* :class:`~tfgen.models.latent.LatentVariableMixin` (in ``latent.py``): ``encode``/``decode``/
  ``prior`` give the ELBO, the importance-weighted ``log_prob``, ``sample`` and ``interpolate``.
* :class:`AdversarialModel` and :class:`AdversarialPhase` (defined in ``adversarial.py``,
  re-exported here): models trained by alternating optimizer updates (GANs, the AAE).

The train step follows the rules in DESIGN.md: the loss is divided by the number of replicas
(gradients are summed across replicas), scaled by the optimizer's loss scale under mixed precision,
and the distribution terms are computed in float32.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from tfgen.mixed_precision import dtype_policy, float32_bias_gradients

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


class GenerativeModel(keras.Model):
    """A Keras model of ``p(x)`` (or ``p(x | labels)``) over images of shape ``event_shape``.

    Subclasses build all their weights in ``__init__`` (so a freshly constructed or freshly loaded
    model saves, exports and resumes with every weight) and implement :meth:`sample`.

    Args:
        event_shape: ``(H, W, C)`` of one image.
        num_classes: number of label classes for conditional models, or None.
        seed: seed of the model's internal random stream (training noise, ``sample(seed=None)``).
        **kwargs: passed to ``keras.Model`` (``name``, ``dtype``).
    """

    #: Learning rate of the Adam optimizer that ``compile()`` uses when none is given.
    default_learning_rate: float = 1e-3
    #: Allowed ranks of ``event_shape`` (3: ``(H, W, C)`` images).
    event_ranks: tuple[int, ...] = (3,)

    def __init__(
        self,
        event_shape: Sequence[int],
        num_classes: int | None = None,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.event_shape = validate_event_shape(event_shape, self.event_ranks)
        if num_classes is not None and (not isinstance(num_classes, int) or num_classes < 2):
            raise ValueError(f"num_classes must be None or an int >= 2; got {num_classes!r}")
        self.num_classes = num_classes
        self.seed = seed
        self._seed_generator = keras.random.SeedGenerator(seed, name="seed_generator")

    # ----------------------------------------------------------------------------- properties
    @property
    def num_dims(self) -> int:
        """Number of scalar dimensions D of one image (H * W * C)."""
        return int(np.prod(self.event_shape))

    @property
    def conditional(self) -> bool:
        """Whether the model takes ``labels``."""
        return self.num_classes is not None

    # ----------------------------------------------------------------------------- keras plumbing
    def build(self, input_shape=None):
        """No-op: every weight is created in ``__init__`` (kept for Keras' build/load protocol)."""
        self.built = True

    def compile(self, optimizer=None, **kwargs):
        """``keras.Model.compile`` with a working default: Adam at ``default_learning_rate``.

        Losses are defined by the model, so ``loss`` is not needed.
        """
        if optimizer is None:
            optimizer = keras.optimizers.Adam(self.default_learning_rate)
        super().compile(optimizer=optimizer, **kwargs)

    def compile_from_config(self, config: dict) -> None:
        """Recompiles after ``keras.models.load_model`` and builds the optimizer's variables so the
        saved optimizer state (moments, iteration count) is restored and training resumes."""
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(event_shape=list(self.event_shape), seed=self.seed)
        if self.conditional:
            config["num_classes"] = self.num_classes
        return config

    @classmethod
    def from_config(cls, config: dict):
        """Rebuilds the model with its layers under the saved dtype policy.

        The layers are made in ``__init__`` under the global policy, so a ``mixed_bfloat16``
        model loaded in a float32 process would otherwise compute in float32 (and a float32
        model loaded under a mixed policy in mixed precision); the saved policy is made global
        while the model is constructed, then the caller's is restored. A subclass overriding
        ``from_config`` should call this one.
        """
        saved = config.get("dtype")
        if saved is None:
            return cls(**config)
        with dtype_policy(saved):
            return cls(**config)

    # ----------------------------------------------------------------------------- helpers
    def _seed(self, seed=None) -> tf.Tensor:
        """A stateless ``[2]`` seed: from ``seed`` when given, else from the model's stream."""
        if seed is None:
            return tf.cast(self._seed_generator.next(), tf.int32)
        return seed_pair(seed)

    def _split_inputs(self, inputs):
        """``x`` or ``(x, labels)`` -> ``(x, labels or None)``."""
        if isinstance(inputs, (tuple, list)):
            if len(inputs) != 2:
                raise ValueError(f"inputs must be x or (x, labels); got {len(inputs)} items")
            return inputs[0], inputs[1]
        if isinstance(inputs, dict):
            return inputs["x"], inputs.get("labels")
        return inputs, None

    def _unpack_data(self, data):
        """Keras data (``x``, ``(x,)``, ``(x, y)``) -> ``(x, labels)``.

        Unconditional models drop the labels; conditional ones validate them (:meth:`check_labels`:
        missing labels fail at trace time, out-of-range ids at run time), so ``fit``/``evaluate``/
        ``predict`` of every family reject bad labels instead of training on garbage.
        """
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        if isinstance(x, (tuple, list, dict)):
            x, y = self._split_inputs(x)
        if not self.conditional:
            return x, None
        return x, self.check_labels(y, tf.shape(x)[0])

    def check_labels(self, labels, num: int | tf.Tensor | None = None) -> tf.Tensor | None:
        """Validates ``labels`` and returns them as an int32 ``[N]`` tensor (None if unconditional).

        Eager inputs are range-checked here; in a traced function an assertion op checks them.

        Raises:
            ValueError: naming ``labels`` when given to an unconditional model, missing for a
                conditional one, of a non-integer dtype, of the wrong rank or count, or outside
                ``[0, num_classes)``.
        """
        if not self.conditional:
            if labels is not None:
                raise ValueError(
                    f"{type(self).__name__} is unconditional: labels must be None (got {labels!r})"
                )
            return None
        if labels is None:
            raise ValueError(f"labels are required: {type(self).__name__} is conditional")
        labels = tf.convert_to_tensor(labels)
        if not (labels.dtype.is_integer):
            raise ValueError(f"labels must be integer class ids; got dtype {labels.dtype.name}")
        if labels.shape.rank != 1:
            raise ValueError(f"labels must have shape [N]; got shape {labels.shape}")
        if isinstance(num, int) and labels.shape[0] is not None and labels.shape[0] != num:
            raise ValueError(
                f"labels must have {num} entries (one per example); got {labels.shape[0]}"
            )
        labels = tf.cast(labels, tf.int32)
        if tf.executing_eagerly():
            values = labels.numpy()
            bad = values[(values < 0) | (values >= self.num_classes)]
            if bad.size:
                raise ValueError(
                    f"labels must lie in [0, {self.num_classes}); got {sorted(set(bad.tolist()))}"
                )
            return labels
        checks = [
            tf.debugging.assert_non_negative(labels, message="labels must be >= 0"),
            tf.debugging.assert_less(
                labels, self.num_classes, message=f"labels must be < num_classes={self.num_classes}"
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

    # ----------------------------------------------------------------------------- public API
    def sample(self, num_samples: int, *, seed: int | None = None, labels=None) -> tf.Tensor:
        """Draws ``num_samples`` images ``[num_samples, H, W, C]``, reproducible for a seed.

        Subclasses keep every argument after ``num_samples`` keyword-only (``seed``, ``labels``,
        then their own, e.g. ``mean``).

        Args:
            num_samples: how many images.
            seed: int for reproducible samples; None draws from the model's random stream.
            labels: ``[num_samples]`` int class ids (conditional models only).
        """
        raise NotImplementedError

    def _check_num_samples(self, num_samples):
        """Validates ``num_samples`` (python int now, tensor by an assertion op); returns it."""
        if tf.is_tensor(num_samples) and not tf.executing_eagerly():
            with tf.control_dependencies(
                [tf.debugging.assert_positive(num_samples, message="num_samples must be positive")]
            ):
                return tf.identity(num_samples)
        if int(num_samples) < 1 or int(num_samples) != num_samples:
            raise ValueError(f"num_samples must be a positive int; got {num_samples!r}")
        return num_samples


class DensityModel(GenerativeModel):
    """A model trained by minimising a per-example loss derived from ``log p(x)`` (or a bound).

    Subclasses implement :meth:`compute_terms` and :meth:`log_prob`; the train/test steps,
    metrics and ``bits_per_dim`` are shared. ``metric_names`` lists the keys of
    :meth:`compute_terms`; they become the named metrics of ``fit``/``evaluate``.
    """

    metric_names: tuple[str, ...] = ("loss", "bits_per_dim")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._trackers = {n: keras.metrics.Mean(name=n) for n in self.metric_names}

    @property
    def metrics(self):
        return list(self._trackers.values())

    def compute_terms(self, x, labels=None, training: bool = False) -> dict[str, tf.Tensor]:
        """``[batch]`` float32 tensors keyed by ``metric_names``; ``"loss"`` is minimised."""
        raise NotImplementedError

    def log_prob(self, x, labels=None) -> tf.Tensor:
        """``log p(x)`` in nats, shape ``[batch]``."""
        raise NotImplementedError

    def bits_per_dim(self, x, labels=None, **kwargs) -> tf.Tensor:
        """``-log p(x) / (D ln 2)`` per example: negative log-likelihood in bits per dimension."""
        return -self.log_prob(x, labels, **kwargs) / (self.num_dims * math.log(2.0))

    def _mean_loss(self, terms) -> tf.Tensor:
        loss = tf.reduce_mean(terms["loss"])
        if self.losses:
            loss += tf.add_n([tf.cast(r, tf.float32) for r in self.losses])
        return loss

    def _update_trackers(self, terms, loss) -> dict[str, tf.Tensor]:
        for name, tracker in self._trackers.items():
            if name == "loss":  # weighted by batch size, like the per-example terms
                tracker.update_state(
                    loss, sample_weight=tf.cast(tf.shape(terms["loss"])[0], loss.dtype)
                )
            else:
                tracker.update_state(terms[name])
        return {name: tracker.result() for name, tracker in self._trackers.items()}

    def train_step(self, data):
        x, labels = self._unpack_data(data)
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        with tf.GradientTape() as tape:
            terms = self.compute_terms(x, labels, training=True)
            loss = self._mean_loss(terms)
            scaled = self.optimizer.scale_loss(loss / replicas)
        with float32_bias_gradients():  # bfloat16 bias gradients are wrong on CPU otherwise
            grads = tape.gradient(scaled, self.trainable_variables)
        self.optimizer.apply(grads, self.trainable_variables)
        return self._update_trackers(terms, loss)

    def test_step(self, data):
        x, labels = self._unpack_data(data)
        terms = self.compute_terms(x, labels, training=False)
        return self._update_trackers(terms, self._mean_loss(terms))


# Re-exported so that ``tfgen.models.base.AdversarialModel`` is the documented home; defined in its
# own module (it needs GenerativeModel above, hence the import at the end).
from tfgen.models.adversarial import AdversarialModel, AdversarialPhase  # noqa: E402

__all__ = [
    "AdversarialModel",
    "AdversarialPhase",
    "DensityModel",
    "GenerativeModel",
    "seed_pair",
    "validate_event_shape",
]
