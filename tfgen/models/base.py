"""Base classes shared by every tfgen model.

* :class:`GenerativeModel`: event shape, seeds, label checks, ``compile`` defaults, config.
* :class:`DensityModel`: models trained by maximising a per-example objective (likelihood or
  ELBO). It owns the one ``train_step``/``test_step`` of every such family: subclasses only write
  :meth:`DensityModel.compute_terms`, which returns per-example tensors keyed by metric name.
* :class:`LatentVariableMixin`: ``encode``/``decode``/``prior`` give the ELBO, the
  importance-weighted ``log_prob``, ``sample``, ``reconstruct`` and ``interpolate``.

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

from tfgen import distributions as dists

_SEED_SALT = 0x5EED
_DECODE_BUDGET = 4096  # images per decoder call in the importance-weighted log_prob


def validate_event_shape(event_shape: Sequence[int]) -> tuple[int, int, int]:
    """Returns ``event_shape`` as a tuple ``(H, W, C)`` of positive ints.

    Raises:
        ValueError: naming ``event_shape`` when it is not three positive integers.
    """
    try:
        shape = tuple(int(d) for d in event_shape)
    except (TypeError, ValueError):
        shape = ()
    if len(shape) != 3 or min(shape) <= 0:
        raise ValueError(f"event_shape must be three positive ints (H, W, C); got {event_shape!r}")
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

    def __init__(
        self,
        event_shape: Sequence[int],
        num_classes: int | None = None,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.event_shape = validate_event_shape(event_shape)
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
        """Keras data (``x``, ``(x,)``, ``(x, y)``) -> ``(x, labels)``; labels dropped if unused."""
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        if isinstance(x, (tuple, list, dict)):
            x, y = self._split_inputs(x)
        return x, (y if self.conditional else None)

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
    def sample(self, num_samples: int, seed: int | None = None, labels=None) -> tf.Tensor:
        """Draws ``num_samples`` images ``[num_samples, H, W, C]``, reproducible for a seed."""
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
        grads = tape.gradient(scaled, self.trainable_variables)
        self.optimizer.apply(grads, self.trainable_variables)
        return self._update_trackers(terms, loss)

    def test_step(self, data):
        x, labels = self._unpack_data(data)
        terms = self.compute_terms(x, labels, training=False)
        return self._update_trackers(terms, self._mean_loss(terms))


def _tile(t, n: int):
    """Repeats ``t`` ``n`` times along axis 0 (None stays None)."""
    return None if t is None else tf.tile(t, [n] + [1] * (t.shape.rank - 1))


class LatentVariableMixin:
    """ELBO, importance-weighted likelihood and sampling for ``p(x, z) = p(z) p(x | z)``.

    The host class provides ``encode(x, labels, training) -> q(z | x)``,
    ``decoder_outputs(z, labels, training) -> tensor`` (network outputs of p(x | z)),
    ``prior`` (a ``tfd.Distribution`` over ``[latent_dim]``) and ``likelihood``
    (a :class:`tfgen.distributions.ImageLikelihood`).
    """

    metric_names = ("loss", "elbo", "kl", "reconstruction", "bits_per_dim")

    def decode(self, z, labels=None, training: bool = False):
        """``p(x | z)`` as a TFP distribution over the likelihood's support (float32)."""
        return self.likelihood.distribution(self.decoder_outputs(z, labels, training=training))

    def elbo_terms(self, x, labels=None, training: bool = False, seed=None) -> dict[str, tf.Tensor]:
        """Single-sample ELBO and its parts per example, in nats.

        ``elbo = -reconstruction - kl`` with ``reconstruction = -log p(x | z)``, ``z ~ q(z | x)``
        (reparameterized) and ``kl = KL(q(z | x) || p(z))`` (analytic when TFP has it, else the
        Monte-Carlo estimate on the same ``z``).
        """
        q = self.encode(x, labels, training=training)
        z = q.sample(seed=self._seed(seed))
        p_x = self.decode(z, labels, training=training)
        reconstruction = -p_x.log_prob(self.likelihood.to_support(x))
        kl = dists.kl_divergence(q, self.prior, samples=z)
        elbo = -(reconstruction + kl)
        return {
            "loss": -elbo,
            "elbo": elbo,
            "kl": kl,
            "reconstruction": reconstruction,
            "bits_per_dim": -elbo / (self.num_dims * math.log(2.0)),
        }

    def compute_terms(self, x, labels=None, training: bool = False):
        return self.elbo_terms(x, labels, training=training)

    def elbo(self, x, labels=None, seed=None) -> tf.Tensor:
        """Single-sample ELBO ``E_q[log p(x|z)] - KL(q(z|x) || p(z))`` per example, ``[batch]``.

        Args:
            x: ``[batch, H, W, C]`` images.
            labels: class ids for conditional models.
            seed: optional int: the same seed gives the same ``z`` draw, hence the same value.
        """
        return self.elbo_terms(x, self.check_labels(labels), training=False, seed=seed)["elbo"]

    def log_prob(
        self, x, labels=None, num_samples: int = 100, seed=None, chunk_size: int | None = None
    ):
        """Importance-weighted estimate of ``log p(x)`` in nats (IWAE, Burda et al. 2016).

        ``log (1/k) sum_i p(x, z_i) / q(z_i | x)`` with ``z_i ~ q(z | x)``: a lower bound of
        ``log p(x)`` in expectation that tightens as ``num_samples`` grows; ``num_samples=1`` is
        the ELBO. Evaluated ``chunk_size`` samples at a time to bound memory.

        Args:
            x: ``[batch, H, W, C]`` images in [0, 1].
            labels: class ids for conditional models.
            num_samples: k, the number of importance samples (>= 1).
            seed: optional int for a reproducible estimate.
            chunk_size: importance samples decoded at once; default: as many as keep one decoder
                call at about 4096 images (``4096 // batch``, at least 1).

        Returns:
            ``[batch]`` float32 tensor of log-likelihood estimates.
        """
        if int(num_samples) < 1:
            raise ValueError(f"num_samples must be >= 1; got {num_samples!r}")
        labels = self.check_labels(labels)
        x = tf.convert_to_tensor(x, tf.float32)
        q = self.encode(x, labels)
        target = self.likelihood.to_support(x)
        seed = self._seed(seed)
        if chunk_size is None:
            batch = x.shape[0]
            chunk_size = max(1, _DECODE_BUDGET // batch) if batch else 16
        log_w = []
        for start in range(0, int(num_samples), int(chunk_size)):
            n = min(int(chunk_size), int(num_samples) - start)
            z = q.sample(n, seed=seed + start)  # [n, B, D]
            flat_z = tf.reshape(z, [-1, z.shape[-1]])
            log_px = self.decode(flat_z, _tile(labels, n)).log_prob(_tile(target, n))
            log_px = tf.reshape(log_px, [n, -1])
            log_w.append(log_px + self.prior.log_prob(z) - q.log_prob(z))
        log_w = tf.concat(log_w, axis=0)
        return tf.reduce_logsumexp(log_w, axis=0) - math.log(float(num_samples))

    def sample(self, num_samples: int, seed: int | None = None, labels=None, mean: bool = False):
        """Decodes ``z ~ p(z)``: images ``[num_samples, H, W, C]`` in [0, 1].

        Args:
            num_samples: how many images.
            seed: int for reproducible samples; None draws from the model's random stream.
            labels: ``[num_samples]`` class ids (conditional models only).
            mean: return the decoder's mean ``E[x | z]`` instead of a draw from ``p(x | z)``.
        """
        num_samples = self._check_num_samples(num_samples)
        labels = self.check_labels(labels, num_samples)
        seed = self._seed(seed)
        z = self.prior.sample(num_samples, seed=seed)
        outputs = self.decoder_outputs(z, labels)
        if mean:
            return self.likelihood.mean(outputs)
        draws = self.likelihood.distribution(outputs).sample(seed=seed + 1)
        return self.likelihood.from_support(draws)

    def reconstruct(self, x, labels=None) -> tf.Tensor:
        """Mean of ``p(x | z)`` at the posterior mean ``z = E[z | x]``: images in [0, 1]."""
        z = self.encode(x, labels).mean()
        return self.likelihood.mean(self.decoder_outputs(z, labels))

    def interpolate(self, x_a, x_b, steps: int = 8, labels=None) -> tf.Tensor:
        """Decoded means along the straight line between the posterior means of ``x_a`` and ``x_b``.

        Args:
            x_a: one image ``[H, W, C]`` or a batch ``[B, H, W, C]``.
            x_b: same shape as ``x_a``.
            steps: points on the line, endpoints included (>= 2).
            labels: class ids ``[B]`` for conditional models (used for both ends).

        Returns:
            ``[steps, H, W, C]`` for single images, ``[B, steps, H, W, C]`` for batches.
        """
        if int(steps) < 2:
            raise ValueError(f"steps must be >= 2; got {steps!r}")
        x_a, x_b = tf.convert_to_tensor(x_a, tf.float32), tf.convert_to_tensor(x_b, tf.float32)
        if x_a.shape != x_b.shape:
            raise ValueError(f"x_a and x_b must have the same shape; got {x_a.shape}, {x_b.shape}")
        single = x_a.shape.rank == 3
        if single:
            x_a, x_b = x_a[None], x_b[None]
        labels = self.check_labels(labels, int(x_a.shape[0]))
        z_a, z_b = self.encode(x_a, labels).mean(), self.encode(x_b, labels).mean()
        t = tf.linspace(0.0, 1.0, int(steps))[:, None, None]  # [steps, 1, 1]
        z = (1.0 - t) * z_a[None] + t * z_b[None]  # [steps, B, D]
        flat = tf.reshape(z, [-1, z.shape[-1]])
        lab = None if labels is None else tf.tile(labels, [int(steps)])
        images = self.likelihood.mean(self.decoder_outputs(flat, lab))
        images = tf.reshape(images, [int(steps), -1, *self.event_shape])
        images = tf.transpose(images, [1, 0, 2, 3, 4])
        return images[0] if single else images

    def predict_step(self, data):
        """``predict`` returns reconstruction means (images in [0, 1])."""
        x, labels = self._unpack_data(data)
        return self.reconstruct(x, labels)
