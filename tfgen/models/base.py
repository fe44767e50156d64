"""Base classes shared by every tfgen model.

* :class:`GenerativeModel`: event shape, seeds, labels, ``compile`` defaults, config, the metric
  trackers (``metric_names``) and the input checks every family shares.
* :class:`LossModel`: models trained by minimising a per-example objective. It owns the one
  ``train_step``/``test_step`` of every such family (density models, autoencoders): subclasses
  only write :meth:`LossModel.compute_terms`, which returns per-example tensors keyed by metric
  name.
* :class:`DensityModel`: a :class:`LossModel` with ``log_prob``/``bits_per_dim``; its default
  objective is ``-log p(x)``.
* In their own modules: :class:`~tfgen.models.adversarial.AdversarialModel` (alternating
  updates: GANs, the AAE), :class:`~tfgen.models.latent.LatentVariableMixin` (ELBO, IWAE) and
  :class:`~tfgen.models.autoregressive.AutoregressiveMixin` (the marker the test battery reads).

The train step follows the rules in DESIGN.md: the loss is divided by the number of replicas
(gradients are summed across replicas), scaled by the optimizer's loss scale under mixed precision,
and the distribution terms are computed in float32.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from tfgen import checks
from tfgen.distribute import in_multi_worker_mode, replica_share
from tfgen.metrics import nats_to_bits_per_dim
from tfgen.mixed_precision import dtype_policy, float32_bias_gradients
from tfgen.models.checked import CheckedInputsMixin
from tfgen.models.inputs import seed_pair, validate_event_shape

_SEED_STATE_KEY = "seed_generator_state"


class GenerativeModel(CheckedInputsMixin, keras.Model):
    """A Keras model of ``p(x)`` (or ``p(x | labels)``) over images of shape ``event_shape``.

    Subclasses build all their weights in ``__init__`` (so a freshly constructed or freshly loaded
    model saves, exports and resumes with every weight) and implement :meth:`sample`. The names in
    ``metric_names`` become ``keras.metrics.Mean`` trackers, reported by ``fit``/``evaluate``.

    The API contract every family follows (README, "API in one paragraph"):

    * ``predict(x)`` is ``model(x)``: the per-pixel parameters of the model's likelihood of ``x``
      (logits, ``[B, H, W, C * params]``); other meanings have their own methods (``log_prob``,
      ``reconstruct``, ``discriminate``).
    * ``sample(num_samples, *, seed=None, labels=None)``: ``num_samples`` is the number of images;
      a conditional model given ``labels=None`` draws them uniformly from ``[0, num_classes)``.
    * ``seed`` is an int (reproducible) or None (the model's own random stream) in every method.
    * Every entry point checks its inputs (:class:`~tfgen.models.checked.CheckedInputsMixin`):
      data against ``event_shape`` and :attr:`value_range`, counts, seeds and labels.

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
    #: Names of the metrics ``fit``/``evaluate`` report (one ``Mean`` tracker each).
    metric_names: tuple[str, ...] = ("loss",)
    #: The ``compile`` arguments that take an optimizer (presets build one for each).
    optimizer_names: tuple[str, ...] = ("optimizer",)

    def __init__(
        self,
        event_shape: Sequence[int],
        num_classes: int | None = None,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.event_shape = validate_event_shape(event_shape, self.event_ranks)
        if num_classes is not None and (not checks.is_int(num_classes) or num_classes < 2):
            raise checks.fail("num_classes", "None or an int >= 2", num_classes)
        self.num_classes = num_classes
        if seed is not None and not checks.is_int(seed):
            raise checks.fail("seed", "None or an int", seed)
        self.seed = seed
        self._seed_generator = keras.random.SeedGenerator(seed, name="seed_generator")
        self._trackers = {n: keras.metrics.Mean(name=n) for n in self.metric_names}

    # ----------------------------------------------------------------------------- properties
    @property
    def num_dims(self) -> int:
        """Number of scalar dimensions D of one image (H * W * C)."""
        return int(np.prod(self.event_shape))

    @property
    def conditional(self) -> bool:
        """Whether the model takes ``labels``."""
        return self.num_classes is not None

    @property
    def metrics(self):
        return list(self._trackers.values())

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

    def save_own_variables(self, store) -> None:
        """Keras' variables plus the state of the model's random stream (``sample(seed=None)``,
        training noise), so a loaded model continues the stream instead of restarting it."""
        super().save_own_variables(store)
        store[_SEED_STATE_KEY] = self._seed_generator.state.numpy()

    def load_own_variables(self, store) -> None:
        """Inverse of :meth:`save_own_variables`; files without the stream's state still load."""
        keys = list(store.keys())
        if _SEED_STATE_KEY in keys:
            self._seed_generator.state.assign(np.asarray(store[_SEED_STATE_KEY]))
            store = {key: store[key] for key in keys if key != _SEED_STATE_KEY}
        super().load_own_variables(store)

    def reseed(self, seed: int) -> None:
        """Restarts the model's random stream (``sample(seed=None)``, the noise of ``fit`` and
        ``evaluate``) from ``seed``, where a model built with ``seed=seed`` starts it; the zoo's
        evaluation does so, so test figures depend on the weights and the seed only.

        Example:
            >>> from tfgen.models import VAE
            >>> vae = VAE(event_shape=(8, 8, 1), latent_dim=2, seed=0)
            >>> vae.reseed(7); a = vae.sample(2)
            >>> vae.reseed(7); bool((vae.sample(2) == a).numpy().all())
            True
        """
        if not checks.is_int(seed):
            raise checks.fail("seed", "an int", seed)
        state = self._seed_generator.state
        state.assign(keras.ops.convert_to_tensor([seed, 0], dtype=state.dtype))

    def predict_step(self, data):
        """``predict`` returns ``model(x)``: the per-pixel likelihood parameters of ``x``."""
        x, labels = self._unpack_data(data)
        return self((x, labels) if self.conditional else x)

    def _track(self, logs: dict, batch_size) -> dict[str, tf.Tensor]:
        """Updates the trackers named in ``logs`` and returns their results.

        Per-example ``[batch]`` values are averaged over examples; scalars (batch means) are
        weighted by ``batch_size``, so epoch figures are per-example means either way.
        """
        weight = tf.cast(batch_size, tf.float32)
        for name, value in logs.items():
            if name not in self._trackers:
                raise ValueError(f"metric {name!r} is not in metric_names {self.metric_names}")
            value = tf.cast(value, tf.float32)
            if value.shape.rank == 0:  # (a replica without examples has a NaN batch mean)
                self._trackers[name].update_state(tf.where(weight > 0, value, 0.0), weight)
            else:
                self._trackers[name].update_state(value)
        multi = in_multi_worker_mode()  # keras-team/keras#20585: Keras reduces on axis 0
        return {n: tf.reshape(self._trackers[n].result(), [1] if multi else []) for n in logs}

    # ----------------------------------------------------------------------------- helpers
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

        ``x`` is checked (:meth:`check_inputs`: shape at trace time, finite values in
        :attr:`value_range` by assertion ops at run time). Unconditional models drop the labels;
        conditional ones validate them (:meth:`check_labels`: missing labels fail at trace time,
        out-of-range ids at run time), so ``fit``/``evaluate``/``predict`` of every family reject
        bad data instead of training on garbage.
        """
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        if isinstance(x, (tuple, list, dict)):
            x, y = self._split_inputs(x)
        x = self.check_inputs(x)
        if not self.conditional:
            return x, None
        return x, self.check_labels(y, tf.shape(x)[0])

    # ----------------------------------------------------------------------------- public API
    def sample(self, num_samples: int, *, seed: int | None = None, labels=None) -> tf.Tensor:
        """Draws ``num_samples`` images ``[num_samples, H, W, C]``, reproducible for a seed.

        Subclasses keep every argument after ``num_samples`` keyword-only (``seed``, ``labels``,
        then their own, e.g. ``mean``).

        Args:
            num_samples: how many images.
            seed: int for reproducible samples; None draws from the model's random stream.
            labels: ``[num_samples]`` int class ids (conditional models only); None draws them
                uniformly from ``[0, num_classes)`` (from ``seed`` when given).

        Counts above :attr:`sample_chunk_size` are drawn chunk by chunk (``self._in_chunks``).

        Raises:
            ValueError: naming ``num_samples`` (an int in ``[1, 2**31 - 1]``; ``3.0`` is
                refused), ``seed`` (None or an int32) or ``labels``.
            NotImplementedError: a model that does not sample (an autoencoder has no
                distribution to draw from: use ``reconstruct``).
        """
        raise NotImplementedError(
            f"{type(self).__name__} does not sample: it defines no distribution to draw from"
        )


class LossModel(GenerativeModel):
    """A model trained by minimising the batch mean of a per-example loss.

    The one ``train_step``/``test_step`` of every family trained on a per-example objective
    (likelihood or ELBO of :class:`DensityModel`, reconstruction error of an autoencoder).
    Subclasses implement :meth:`compute_terms`; its keys are ``metric_names`` and ``"loss"`` is
    minimised. Regularization losses of the layers (``model.losses``) are added to the loss.
    """

    metric_names: tuple[str, ...] = ("loss",)

    def compute_terms(self, x, labels=None, training: bool = False) -> dict[str, tf.Tensor]:
        """``[batch]`` float32 tensors keyed by ``metric_names``; ``"loss"`` is minimised."""
        raise NotImplementedError

    def _mean_loss(self, terms) -> tf.Tensor:
        loss = tf.reduce_mean(terms["loss"])
        if self.losses:
            loss += tf.add_n([tf.cast(r, tf.float32) for r in self.losses])
        return loss

    def _logs(self, terms, loss) -> dict[str, tf.Tensor]:
        logs = {name: terms[name] for name in self.metric_names if name != "loss"}
        return self._track({"loss": loss, **logs}, tf.shape(terms["loss"])[0])

    def train_step(self, data):
        x, labels = self._unpack_data(data)
        share = replica_share(tf.shape(x)[0])  # n_r / N: replica gradients are summed
        with tf.GradientTape() as tape:
            terms = self.compute_terms(x, labels, training=True)
            loss = self._mean_loss(terms)
            scaled = self.optimizer.scale_loss(tf.where(share > 0, loss, 0.0) * share)
        with float32_bias_gradients():  # bfloat16 bias gradients are wrong on CPU otherwise
            grads = tape.gradient(scaled, self.trainable_variables)
        self.optimizer.apply(grads, self.trainable_variables)
        return self._logs(terms, loss)

    def test_step(self, data):
        x, labels = self._unpack_data(data)
        terms = self.compute_terms(x, labels, training=False)
        return self._logs(terms, self._mean_loss(terms))


class DensityModel(LossModel):
    """A :class:`LossModel` with a likelihood: ``log_prob``, ``bits_per_dim``, loss ``-log p(x)``.

    Subclasses implement :meth:`log_prob` (exact, or an estimate whose docstring says so) and, if
    training differs from evaluation (dequantization noise, a bound), :meth:`training_log_prob`
    or :meth:`~LossModel.compute_terms`.
    """

    metric_names: tuple[str, ...] = ("loss", "bits_per_dim")

    def log_prob(self, x, labels=None) -> tf.Tensor:
        """``log p(x)`` in nats, shape ``[batch]``."""
        raise NotImplementedError

    def bits_per_dim(self, x, labels=None, **kwargs) -> tf.Tensor:
        """``-log p(x) / (D ln 2)`` per example: negative log-likelihood in bits per dimension.

        ``kwargs`` go to :meth:`log_prob` (e.g. ``importance_samples`` of latent models).
        """
        return nats_to_bits_per_dim(-self.log_prob(x, labels, **kwargs), self.num_dims)

    def training_log_prob(self, x, labels=None, training: bool = False) -> tf.Tensor:
        """The ``log p(x)`` the default objective maximises (``labels`` already validated)."""
        return self.log_prob(x, labels)

    def compute_terms(self, x, labels=None, training: bool = False) -> dict[str, tf.Tensor]:
        log_p = self.training_log_prob(x, labels, training=training)
        return {"loss": -log_p, "bits_per_dim": nats_to_bits_per_dim(-log_p, self.num_dims)}


__all__ = [
    "DensityModel",
    "GenerativeModel",
    "LossModel",
    "seed_pair",
    "validate_event_shape",
]
