"""The alternating-update base: GANs and adversarial autoencoders share its one ``train_step``.

Import it as ``tfgen.models.adversarial.AdversarialModel`` or ``tfgen.models.AdversarialModel``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import keras
import tensorflow as tf

from tfgen.distribute import replica_share
from tfgen.mixed_precision import float32_bias_gradients
from tfgen.models.base import GenerativeModel


@dataclasses.dataclass(frozen=True)
class AdversarialPhase:
    """One optimizer update inside :meth:`AdversarialModel.train_step`.

    Attributes:
        name: the phase's name (``"discriminator"``, ``"generator"``, ``"reconstruction"`` ...).
            If the model defines a method ``<name>_step(data)``, ``train_step`` calls it for this
            phase; otherwise it runs the generic :meth:`AdversarialModel.phase_step`.
        optimizer: the ``compile`` argument (and model attribute) holding this phase's optimizer,
            e.g. ``"d_optimizer"``. Several phases may share one optimizer.
        variables: the variables this phase updates (the optimizer is built on them).
        loss: ``loss(x, labels, training) -> (scalar loss, {metric name: scalar})``. The loss is
            minimised; the dict's entries (names from ``metric_names``) are tracked.
    """

    name: str
    optimizer: str
    variables: Sequence
    loss: Callable


class AdversarialModel(GenerativeModel):
    """A model trained by alternating optimizer updates: GANs, adversarial autoencoders.

    One ``train_step`` for every adversarial family. It runs the model's :meth:`phases` in order;
    each phase is an :class:`AdversarialPhase` ``(name, optimizer, variables, loss)`` and does one
    update of ``variables`` by the optimizer named ``optimizer`` on ``loss``. The default phases are
    ``discriminator`` (``d_optimizer``) then ``generator`` (``g_optimizer``), run by the hooks
    :meth:`discriminator_step` and :meth:`generator_step`.

    Extension points (a subclass writes only these):

    * :meth:`discriminator_loss` and :meth:`generator_loss` ``(x, labels, training) -> (loss,
      logs)`` and the properties :attr:`discriminator_variables`, :attr:`generator_variables`:
      enough for a GAN.
    * :meth:`phases`: add, remove or reorder phases. A phase with a new ``optimizer`` name gets an
      Adam default in ``compile``, is accepted as a ``compile`` keyword, saved in the compile
      config and restored by ``load_model``: e.g. the adversarial autoencoder prepends
      ``AdversarialPhase("reconstruction", "ae_optimizer", ae_vars, self.reconstruction_loss)``
      and calls ``compile(ae_optimizer=..., d_optimizer=..., g_optimizer=...)``.
    * ``<phase name>_step(data) -> logs``: replace one phase's update (several discriminator
      steps, a gradient penalty ...); :meth:`phase_step` is the generic update to call from it.
    * ``metric_names``: the names tracked (``Mean`` weighted by batch size) and reported by
      ``fit``/``evaluate``; every phase's logs must use names from it.
    * :meth:`default_optimizer`: the optimizer ``compile`` builds for a name not given.

    The update follows DESIGN.md: each replica's batch-mean loss is weighted by its share of the
    global batch (replica gradients are summed, so uneven splits are exact) and scaled by
    ``optimizer.scale_loss`` (a no-op except under ``mixed_float16``, where ``compile`` wraps
    each optimizer in a ``LossScaleOptimizer``).
    ``test_step`` evaluates every phase's loss without updating. ``compile`` builds each
    optimizer on its phase's variables, so ``.keras`` save/load restores every optimizer's state
    and a reloaded model resumes training without ``compile()``. ``model.optimizer`` is the first
    phase's optimizer (Keras callbacks read its ``iterations``).

    Example:
        >>> class Toy(AdversarialModel):  # D(x) = w * x, G() = b: the two-player toy
        ...     event_ranks = (1,)
        ...     def __init__(self, **kwargs):
        ...         super().__init__(event_shape=(1,), **kwargs)
        ...         self.w = self.add_weight(shape=(), initializer="ones", name="w")
        ...         self.b = self.add_weight(shape=(), initializer="zeros", name="b")
        ...         self.built = True
        ...     discriminator_variables = property(lambda self: [self.w])
        ...     generator_variables = property(lambda self: [self.b])
        ...     def discriminator_loss(self, x, labels=None, training=False):
        ...         loss = tf.reduce_mean(self.w * self.b - self.w * x)
        ...         return loss, {"d_loss": loss}
        ...     def generator_loss(self, x, labels=None, training=False):
        ...         loss = -self.w * self.b
        ...         return loss, {"g_loss": loss}
        >>> toy = Toy()
        >>> sgd = keras.optimizers.SGD
        >>> toy.compile(d_optimizer=sgd(0.1), g_optimizer=sgd(0.1))
        >>> logs = toy.fit(tf.ones([4, 1]), batch_size=4, epochs=1, verbose=0).history
        >>> sorted(logs), round(float(toy.w.numpy()), 3), round(float(toy.b.numpy()), 3)
        (['d_loss', 'g_loss'], 1.1, 0.11)
    """

    metric_names: tuple[str, ...] = ("d_loss", "g_loss")
    default_learning_rate: float = 2e-4
    #: Adam's ``beta_1`` of the default optimizers (0.5, as DCGAN).
    default_beta_1: float = 0.5

    # ----------------------------------------------------------------------------- to implement
    @property
    def discriminator_variables(self) -> list:
        """Variables of the discriminator phase."""
        raise NotImplementedError

    @property
    def generator_variables(self) -> list:
        """Variables of the generator phase."""
        raise NotImplementedError

    def discriminator_loss(self, x, labels=None, training: bool = False):
        """``(loss, logs)`` of the discriminator on a batch of real ``x``."""
        raise NotImplementedError

    def generator_loss(self, x, labels=None, training: bool = False):
        """``(loss, logs)`` of the generator (``x`` gives the batch size and, if any, labels)."""
        raise NotImplementedError

    def phases(self) -> list[AdversarialPhase]:
        """The updates of one train step, in order (default: discriminator, then generator)."""
        return [
            AdversarialPhase(
                "discriminator",
                "d_optimizer",
                self.discriminator_variables,
                self.discriminator_loss,
            ),
            AdversarialPhase(
                "generator", "g_optimizer", self.generator_variables, self.generator_loss
            ),
        ]

    # ----------------------------------------------------------------------------- compile
    @property
    def optimizer_names(self) -> tuple[str, ...]:
        """The ``compile`` arguments naming an optimizer, in phase order, without repeats."""
        return tuple(dict.fromkeys(p.optimizer for p in self.phases()))

    def default_optimizer(self, name: str) -> keras.optimizers.Optimizer:
        """The optimizer ``compile`` uses for ``name`` when none is given: Adam(2e-4, 0.5)."""
        return keras.optimizers.Adam(self.default_learning_rate, beta_1=self.default_beta_1)

    def compile(self, g_optimizer=None, d_optimizer=None, **kwargs):
        """Sets one optimizer per phase (Adam(2e-4, beta_1=0.5) for any not given).

        Args:
            g_optimizer: optimizer of the generator phase.
            d_optimizer: optimizer of the discriminator phase.
            **kwargs: optimizers of further phases by name (e.g. ``ae_optimizer``), then
                ``keras.Model.compile`` arguments (``steps_per_execution``, ``jit_compile``,
                ``run_eagerly``).

        Raises:
            ValueError: naming ``optimizer``, ``loss`` or an optimizer keyword this model has no
                phase for.
        """
        given = dict(kwargs, g_optimizer=g_optimizer, d_optimizer=d_optimizer)
        names = self.optimizer_names
        for bad in ("optimizer", "loss"):
            if given.get(bad) is not None:
                raise ValueError(
                    f"{type(self).__name__} takes one optimizer per phase ({', '.join(names)}), "
                    f"and defines its own losses; got {bad}={given[bad]!r}"
                )
        extra = [k for k in given if k.endswith("_optimizer") and k not in names and given[k]]
        if extra:
            raise ValueError(f"{extra[0]} is not an optimizer of this model; allowed: {names}")
        keras_kwargs = {
            k: v
            for k, v in given.items()
            if not k.endswith("_optimizer") and k not in ("optimizer", "loss")
        }
        mixed16 = self.dtype_policy.name == "mixed_float16"
        optimizers = {}
        for name in names:
            opt = keras.optimizers.get(given.get(name) or self.default_optimizer(name))
            if mixed16 and not isinstance(opt, keras.optimizers.LossScaleOptimizer):
                opt = keras.optimizers.LossScaleOptimizer(opt)
            optimizers[name] = opt
        super().compile(optimizer=optimizers[names[0]], **keras_kwargs)
        for name, opt in optimizers.items():
            setattr(self, name, opt)
        self._keras_compile_kwargs = {
            "steps_per_execution": self.steps_per_execution,
            "jit_compile": self.jit_compile,
            "run_eagerly": self.run_eagerly,
        }
        self._build_optimizers()

    def _build_optimizers(self) -> None:
        """Creates each optimizer's variables for the union of its phases' variables."""
        owned: dict[str, list] = {}
        for phase in self.phases():
            variables = owned.setdefault(phase.optimizer, [])
            ids = {id(v) for v in variables}
            variables += [v for v in phase.variables if id(v) not in ids]
        for name, variables in owned.items():
            optimizer = getattr(self, name)
            if not optimizer.built:
                optimizer.build(variables)

    def get_compile_config(self) -> dict:
        if not self.compiled:
            return {}
        config = {
            n: keras.saving.serialize_keras_object(getattr(self, n)) for n in self.optimizer_names
        }
        return {**config, **self._keras_compile_kwargs}

    def compile_from_config(self, config: dict) -> None:
        """Recompiles after ``keras.models.load_model`` with every phase's optimizer, built, so
        their saved state (moments, iteration counts) is restored and training resumes."""
        self.compile(**keras.saving.deserialize_keras_object(config))

    # ----------------------------------------------------------------------------- steps
    def phase_step(self, phase: AdversarialPhase, data) -> dict[str, tf.Tensor]:
        """The generic update of ``phase`` on ``data``: returns the phase's logs."""
        x, labels = self._unpack_data(data)
        optimizer = getattr(self, phase.optimizer)
        variables = list(phase.variables)
        share = replica_share(tf.shape(x)[0])  # n_r / N: replica gradients are summed
        with tf.GradientTape() as tape:
            loss, logs = phase.loss(x, labels, training=True)
            loss = tf.where(share > 0, tf.cast(loss, tf.float32), 0.0)
            scaled = optimizer.scale_loss(loss * share)
        with float32_bias_gradients():  # bfloat16 bias gradients are wrong on CPU otherwise
            grads = tape.gradient(scaled, variables)
        optimizer.apply(grads, variables)
        return logs

    def discriminator_step(self, data) -> dict[str, tf.Tensor]:
        """One discriminator update (override for e.g. several updates or a gradient penalty)."""
        return self.phase_step(self._phase("discriminator"), data)

    def generator_step(self, data) -> dict[str, tf.Tensor]:
        """One generator update."""
        return self.phase_step(self._phase("generator"), data)

    def _phase(self, name: str) -> AdversarialPhase:
        for phase in self.phases():
            if phase.name == name:
                return phase
        raise ValueError(f"{type(self).__name__} has no phase {name!r}")

    def _update_trackers(self, logs: dict, data) -> dict[str, tf.Tensor]:
        x, _ = self._unpack_data(data)
        return self._track(logs, tf.shape(x)[0])

    def train_step(self, data):
        logs = {}
        for phase in self.phases():
            step = getattr(self, f"{phase.name}_step", None)
            logs.update(step(data) if step is not None else self.phase_step(phase, data))
        return self._update_trackers(logs, data)

    def test_step(self, data):
        x, labels = self._unpack_data(data)
        logs = {}
        for phase in self.phases():
            logs.update(phase.loss(x, labels, training=False)[1])
        return self._update_trackers(logs, data)
