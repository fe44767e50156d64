"""The shared test battery every tfgen model passes (and that users can run on their own models).

Subclass :class:`GenerativeModelBattery` in a pytest file, name the subclass ``Test...`` and
implement :meth:`~GenerativeModelBattery.make_model` and :meth:`~GenerativeModelBattery.make_data`:

Example:
    >>> import tfgen
    >>> class TestMyVAE(GenerativeModelBattery):  # in tests/test_my_vae.py
    ...     bad_constructor_args = (({"latent_dim": 0}, "latent_dim"),)
    ...     def make_model(self):
    ...         return tfgen.models.VAE(event_shape=(8, 8, 1), latent_dim=2, seed=0)
    ...     def make_data(self):
    ...         return tfgen.data.load("digits", "train", batch_size=32, binarize="static")

Class attributes a subclass sets (all optional but the two methods):

* ``make_model()`` (a fresh, uncompiled model) and ``make_data()`` (a batched dataset of ``x``, or
  ``(x, labels)`` for a conditional model).
* ``expected_metrics``: the names ``fit``/``evaluate`` must report (default ``("loss",)``).
* ``sample_support``: ``"binary"`` ({0, 1}), ``"levels"`` (k/255) or ``"unit"`` ([0, 1]); or
  override ``assert_support(images)`` (e.g. tanh outputs in [-1, 1]).
* ``log_prob_kwargs``: keywords that make ``log_prob`` deterministic (latent models:
  ``{"importance_samples": 16, "seed": 5}``).
* ``bad_constructor_args``: ``(overrides, argument name)`` pairs; each override of the model's
  config must raise ``ValueError("<argument> must be ...; got ...")``.
* ``fit_steps`` (steps of the fit check), ``sample_mean_kwargs()`` (keywords of a less noisy
  ``sample``, e.g. ``{"mean": True}``), ``full_jacobian_max_outputs`` (see the causality checks).

The checks (each asserts behaviour that could fail; one that does not apply to the model calls
``pytest.skip`` with the reason; those marked *slow* carry ``pytest.mark.slow``):

* config: every constructor argument is an attribute holding the value passed (compared with the
  config and with a clone built from it); ``from_config(get_config())`` gives the same config and
  weights; ``bad_constructor_args`` raise ``ValueError`` starting with the argument's name.
* weights exist at construction; ``model(x)`` (GANs: ``discriminate``) is finite.
* *slow*: one ``fit`` changes most weights and reports finite ``expected_metrics``; ``evaluate``.
* ``predict(x) == model(x)``, shape ``[B, H, W, C * params]``; GANs raise ``ValueError``.
* ``sample`` (models that sample, :func:`tfgen.export.can_sample`): shape, support, seed
  determinism, fresh draws for ``seed=None``, bad arguments,
  every argument after ``num_samples`` keyword-only (``sample_prior`` too); conditional models
  draw labels for ``labels=None`` and honour given labels; unconditional ones reject labels.
* ``log_prob`` (density models): shape, finite, eager == ``tf.function``, ``bits_per_dim``.
* latent models: ``interpolate`` end points equal ``reconstruct`` of the end images.
* autoregressive models: causality by gradients at six positions; *slow*: by the full Jacobian
  (models with at most ``full_jacobian_max_outputs`` outputs per image).
* *slow*: ``.keras`` round trip (weights, every optimizer's state, resumed training equal to the
  original's) and SavedModel export (every endpoint's named output equals the model's, by value).
"""

from __future__ import annotations

import inspect

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgen.export import can_sample
from tfgen.models.base import DensityModel
from tfgen.models.gan import GANBase
from tfgen.models.latent import LatentSpaceMixin
from tfgen.testing.causality import CausalityChecks
from tfgen.testing.persistence import PersistenceChecks


def plain(value):
    """``value`` with tuples as lists and NumPy scalars as Python numbers, recursively.

    Example:
        >>> plain((1, (np.int64(2), [3.0])))
        [1, [2, [3.0]]]
    """
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


def constructor_arguments(model) -> list[str]:
    """Names of the arguments of ``type(model).__init__`` (without ``self``/``*args``/``**kw``)."""
    skip = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    params = inspect.signature(type(model).__init__).parameters.values()
    return [p.name for p in params if p.name != "self" and p.kind not in skip]


class GenerativeModelBattery(CausalityChecks, PersistenceChecks):
    """Mixin of pytest test methods; see the module docstring."""

    #: metric names ``fit`` and ``evaluate`` must report.
    expected_metrics: tuple[str, ...] = ("loss",)
    #: values samples may take: ``"binary"`` ({0, 1}), ``"levels"`` (k/255) or ``"unit"`` ([0, 1]).
    sample_support: str = "binary"
    #: extra keyword arguments of ``log_prob`` that make it deterministic (e.g. ``seed``).
    log_prob_kwargs: dict = {}
    #: ``(config overrides, argument name)`` pairs that the constructor must reject.
    bad_constructor_args: tuple = ()
    #: training steps of the fit check.
    fit_steps: int = 3

    # ----------------------------------------------------------------- to implement
    def make_model(self) -> keras.Model:
        """A fresh, uncompiled model."""
        raise NotImplementedError

    def make_data(self) -> tf.data.Dataset:
        """A batched training dataset (``x`` or ``(x, labels)`` for conditional models)."""
        raise NotImplementedError

    def sample_mean_kwargs(self) -> dict:
        """Keyword arguments of a less noisy ``sample`` (e.g. ``{"mean": True}``)."""
        return {}

    # ----------------------------------------------------------------- helpers
    def compiled_model(self) -> keras.Model:
        model = self.make_model()
        model.compile()
        return model

    def batch(self, n: int | None = None):
        """One batch (its first ``n`` examples) as ``(x, int32 labels or None)``."""
        element = next(iter(self.make_data()))
        x, labels = element if isinstance(element, tuple) else (element, None)
        x = tf.convert_to_tensor(x, tf.float32)[:n]
        return x, None if labels is None else tf.cast(labels, tf.int32)[:n]

    @staticmethod
    def inputs(model, x, labels):
        """What ``model(...)`` takes: ``(x, labels)`` for conditional models, else ``x``."""
        return (x, labels) if model.conditional else x

    def sample_labels(self, model, n):
        return tf.range(n, dtype=tf.int32) % model.num_classes if model.conditional else None

    def assert_support(self, images) -> None:
        images = np.asarray(images)
        assert np.all(np.isfinite(images))
        assert images.min() >= 0.0 and images.max() <= 1.0, (images.min(), images.max())
        if self.sample_support == "binary":
            assert set(np.unique(images)) <= {0.0, 1.0}
        elif self.sample_support == "levels":
            np.testing.assert_allclose(images * 255, np.round(images * 255), atol=1e-3)

    # ----------------------------------------------------------------- construction
    def test_constructor_arguments_are_attributes_and_config_round_trips(self):
        model = self.make_model()
        config = model.get_config()
        names = constructor_arguments(model)
        missing = set(names) - set(config)
        assert not missing, f"constructor arguments missing from config: {missing}"
        clone = type(model).from_config(config)  # built from exactly these argument values
        for m in (model, clone):
            for name in names:
                assert hasattr(m, name), f"constructor argument {name!r} is not an attribute"
                assert plain(getattr(m, name)) == plain(config[name]), (
                    f"attribute {name!r} = {getattr(m, name)!r} is not the argument passed "
                    f"({config[name]!r})"
                )
        assert clone.get_config() == config
        assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]

    def test_bad_constructor_arguments_name_the_argument(self):
        if not self.bad_constructor_args:
            pytest.skip("bad_constructor_args is empty")
        model = self.make_model()
        for overrides, name in self.bad_constructor_args:
            with pytest.raises(ValueError) as error:
                type(model).from_config({**model.get_config(), **overrides})
            assert str(error.value).startswith(name), (overrides, str(error.value))

    def test_weights_built_at_construction_and_call(self):
        model = self.make_model()
        assert model.built and len(model.trainable_weights) > 0
        x, labels = self.batch()
        if isinstance(model, GANBase):
            out = model.discriminate(x, labels)
            assert tuple(out.shape) == (x.shape[0],)
        else:
            out = model(self.inputs(model, x, labels))
        assert np.all(np.isfinite(np.asarray(out)))

    # ----------------------------------------------------------------- training
    @pytest.mark.slow
    def test_fit_changes_weights_and_reports_finite_metrics(self):
        model = self.compiled_model()
        before = [w.numpy().copy() for w in model.trainable_weights]
        history = model.fit(self.make_data(), epochs=1, steps_per_epoch=self.fit_steps, verbose=0)
        logs = {k: v[-1] for k, v in history.history.items()}
        assert set(self.expected_metrics) <= set(logs), logs
        assert all(np.isfinite(v) for v in logs.values()), logs
        changed = [
            not np.allclose(b, w.numpy())
            for b, w in zip(before, model.trainable_weights, strict=True)
        ]
        assert sum(changed) >= 0.5 * len(changed), f"{sum(changed)}/{len(changed)} weights changed"

    @pytest.mark.slow
    def test_evaluate_reports_finite_metrics(self):
        model = self.compiled_model()
        before = [w.numpy().copy() for w in model.trainable_weights]
        logs = model.evaluate(self.make_data().take(2), verbose=0, return_dict=True)
        assert set(self.expected_metrics) <= set(logs), logs
        assert all(np.isfinite(list(logs.values()))), logs
        for b, w in zip(before, model.trainable_weights, strict=True):
            np.testing.assert_array_equal(b, w.numpy(), err_msg="evaluate changed a weight")

    def test_predict_is_call_with_likelihood_parameters(self):
        model = self.make_model()
        x, labels = self.batch(8)
        inputs = self.inputs(model, x, labels)
        if isinstance(model, GANBase):  # implicit: no likelihood parameters to predict
            with pytest.raises(ValueError, match="discriminate"):
                model.predict(inputs, verbose=0)
            with pytest.raises(ValueError, match="discriminate"):
                model(inputs)
        else:
            out = model.predict(inputs, verbose=0)
            np.testing.assert_allclose(out, model(inputs), rtol=1e-5, atol=1e-5)
            assert out.ndim == 4 and out.shape[:3] == tuple(x.shape[:3]), out.shape
            assert out.shape[3] % x.shape[3] == 0, f"{out.shape} is not [B, H, W, C * params]"
            assert np.all(np.isfinite(out))

    # ----------------------------------------------------------------- sampling
    def sampling_model(self):
        """A fresh model, or ``pytest.skip`` when it does not sample (an autoencoder)."""
        model = self.make_model()
        if not can_sample(model):
            pytest.skip(f"{type(model).__name__} does not sample (no sample method)")
        return model

    def test_sample_shape_support_and_seed_determinism(self):
        model = self.sampling_model()
        labels = self.sample_labels(model, 6)
        a = model.sample(6, seed=7, labels=labels)
        assert tuple(a.shape) == (6, *model.event_shape)
        self.assert_support(a)
        np.testing.assert_array_equal(a, model.sample(6, seed=7, labels=labels))
        assert not np.array_equal(a, model.sample(6, seed=8, labels=labels))
        unseeded = [model.sample(6, labels=labels) for _ in range(2)]
        assert not np.array_equal(*unseeded), "seed=None must draw fresh samples"

    def test_sample_rejects_bad_arguments(self):
        model = self.sampling_model()
        for bad in (0, -3, 2.5):
            with pytest.raises(ValueError, match="^num_samples"):
                model.sample(bad, labels=self.sample_labels(model, 1))
        if model.conditional:
            with pytest.raises(ValueError, match="labels"):
                model.sample(4, labels=[0, 1])  # wrong count
            with pytest.raises(ValueError, match="labels"):
                model.sample(2, labels=[0, model.num_classes])  # out of range
            with pytest.raises(ValueError, match="labels"):
                model.sample(2, labels=[0.0, 1.0])  # not integers
        else:
            with pytest.raises(ValueError, match="labels"):
                model.sample(2, labels=[0, 1])

    def test_sampling_arguments_after_num_samples_are_keyword_only(self):
        model = self.sampling_model()
        methods = [m for m in ("sample", "sample_prior") if hasattr(model, m)]
        for method in methods:
            params = list(inspect.signature(getattr(model, method)).parameters.values())
            assert params[0].name == "num_samples", (method, params[0].name)
            positional = [p.name for p in params[1:] if p.kind is not p.KEYWORD_ONLY]
            assert not positional, f"{method} takes {positional} positionally"
            with pytest.raises(TypeError):
                getattr(model, method)(2, 0)

    def test_conditional_sample_draws_labels_when_none(self):
        model = self.sampling_model()
        if not model.conditional:
            pytest.skip("unconditional model (labels are rejected: test_sample_rejects_...)")
        a = model.sample(64, seed=5)
        assert tuple(a.shape) == (64, *model.event_shape)
        np.testing.assert_array_equal(a, model.sample(64, seed=5))
        drawn = model._sample_labels(None, 64, model._seed(5)).numpy()
        assert drawn.min() >= 0 and drawn.max() < model.num_classes
        assert len(np.unique(drawn)) >= 2, f"labels drawn for 64 samples are all {drawn[0]}"
        np.testing.assert_array_equal(a, model.sample(64, seed=5, labels=drawn))

    def test_sample_honours_labels(self):
        model = self.sampling_model()
        if not model.conditional:
            pytest.skip("unconditional model: no labels to honour")
        a = model.sample(4, seed=1, labels=[0, 0, 0, 0], **self.sample_mean_kwargs())
        b = model.sample(4, seed=1, labels=[1, 1, 1, 1], **self.sample_mean_kwargs())
        assert not np.allclose(a, b), "changing labels must change conditional samples"

    def test_fit_and_evaluate_reject_missing_or_out_of_range_labels(self):
        model = self.compiled_model()
        if not model.conditional:
            pytest.skip("unconditional model: labels in the data are dropped")
        x, labels = self.batch()
        with pytest.raises(ValueError, match="labels"):
            model.fit(tf.data.Dataset.from_tensors(x), epochs=1, verbose=0)
        bad = tf.data.Dataset.from_tensors((x, tf.fill(tf.shape(labels), model.num_classes)))
        with pytest.raises(ValueError, match="^labels must be"):
            model.evaluate(bad, verbose=0)

    # ----------------------------------------------------------------- likelihood, latents
    def test_log_prob_shape_finite_and_graph_equals_eager(self):
        model = self.make_model()
        if not isinstance(model, DensityModel):
            pytest.skip(f"{type(model).__name__} is not a DensityModel: no log_prob")
        x, labels = self.batch(8)
        kwargs = self.log_prob_kwargs
        eager = model.log_prob(x, labels, **kwargs)
        assert tuple(eager.shape) == (x.shape[0],) and np.all(np.isfinite(eager))
        graph = tf.function(lambda x, labels: model.log_prob(x, labels, **kwargs))(x, labels)
        np.testing.assert_allclose(eager, graph, rtol=1e-4, atol=1e-3)
        bpd = model.bits_per_dim(x, labels, **kwargs)
        np.testing.assert_allclose(bpd, -eager / (model.num_dims * np.log(2.0)), rtol=1e-4)

    def test_interpolation_end_points_are_reconstructions(self):
        model = self.make_model()
        if not isinstance(model, LatentSpaceMixin):
            pytest.skip(f"{type(model).__name__} has no latent space (LatentSpaceMixin)")
        x, labels = self.batch(4)
        x_a, x_b = x[:2], x[2:4]
        pair = None if labels is None else labels[:2]
        path = model.interpolate(x_a, x_b, steps=5, labels=pair)
        assert tuple(path.shape) == (2, 5, *model.event_shape)
        np.testing.assert_allclose(path[:, 0], model.reconstruct(x_a, pair), atol=1e-5)
        np.testing.assert_allclose(path[:, -1], model.reconstruct(x_b, pair), atol=1e-5)
        assert not np.allclose(path[:, 0], path[:, -1]), "distinct images, identical ends"
        single = None if labels is None else labels[:1]
        one = model.interpolate(x[0], x[2], steps=3, labels=single)
        assert tuple(one.shape) == (3, *model.event_shape)
        with pytest.raises(ValueError, match="^steps"):
            model.interpolate(x_a, x_b, steps=1, labels=pair)


__all__ = ["GenerativeModelBattery", "constructor_arguments", "plain"]
