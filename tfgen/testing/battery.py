"""The shared test battery every tfgen model passes (and that users can run on their own models).

Subclass :class:`GenerativeModelBattery` in a pytest file, name the subclass ``Test...`` and
implement :meth:`~GenerativeModelBattery.make_model` and :meth:`~GenerativeModelBattery.make_data`:

Example:
    >>> class TestMyVAE(GenerativeModelBattery):  # in tests/test_my_vae.py
    ...     def make_model(self):
    ...         return tfgen.models.VAE(event_shape=(8, 8, 1), latent_dim=2, seed=0)
    ...     def make_data(self):
    ...         return tfgen.data.load("digits", "train", batch_size=32, binarize="static")

Every check asserts behaviour that could fail: config round trip; weights exist before any call;
one ``fit`` changes the weights and reports finite named metrics; ``evaluate``/``predict``;
``sample`` shape, support, seed determinism and label honouring; ``log_prob`` shape, finiteness
and eager == ``tf.function``; autoregressive causality by gradients (zero for later inputs,
nonzero for some earlier ones); ``.keras`` round trip that resumes training; SavedModel export
and reload with identical outputs.
"""

from __future__ import annotations

import inspect

import keras
import numpy as np
import tensorflow as tf

from tfgen.models.base import DensityModel


class GenerativeModelBattery:
    """Mixin of pytest test methods; see the module docstring."""

    #: metric names ``fit`` and ``evaluate`` must report.
    expected_metrics: tuple[str, ...] = ("loss",)
    #: values samples may take: ``"binary"`` ({0, 1}), ``"levels"`` (k/255) or ``"unit"`` ([0, 1]).
    sample_support: str = "binary"
    #: extra keyword arguments of ``log_prob`` that make it deterministic (e.g. ``seed``).
    log_prob_kwargs: dict = {}
    #: training steps of the fit check.
    fit_steps: int = 3

    # ----------------------------------------------------------------- to implement
    def make_model(self) -> keras.Model:
        """A fresh, uncompiled model."""
        raise NotImplementedError

    def make_data(self) -> tf.data.Dataset:
        """A batched training dataset (``x`` or ``(x, labels)`` for conditional models)."""
        raise NotImplementedError

    # ----------------------------------------------------------------- helpers
    def compiled_model(self) -> keras.Model:
        model = self.make_model()
        model.compile()
        return model

    def batch(self):
        """One batch as ``(x, labels or None)``."""
        element = next(iter(self.make_data()))
        return element if isinstance(element, tuple) else (element, None)

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

    # ----------------------------------------------------------------- checks
    def test_config_round_trip(self):
        model = self.make_model()
        config = model.get_config()
        params = set(inspect.signature(type(model).__init__).parameters) - {"self", "kwargs"}
        assert params <= set(config), (
            f"constructor arguments missing from config: {params - set(config)}"
        )
        for name in params:
            assert hasattr(model, name), f"constructor argument {name!r} is not an attribute"
        clone = type(model).from_config(config)
        assert clone.get_config() == config
        assert len(clone.weights) == len(model.weights)

    def test_weights_built_at_construction_and_call(self):
        model = self.make_model()
        assert model.built and len(model.trainable_weights) > 0
        x, labels = self.batch()
        out = model((x, labels) if model.conditional else x)
        assert np.all(np.isfinite(np.asarray(out)))

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

    def test_evaluate_and_predict(self):
        model = self.compiled_model()
        logs = model.evaluate(self.make_data().take(2), verbose=0, return_dict=True)
        assert set(self.expected_metrics) <= set(logs) and all(np.isfinite(list(logs.values())))
        x, labels = self.batch()
        out = model.predict((x, labels) if model.conditional else x, verbose=0)
        assert out.shape[0] == x.shape[0] and np.all(np.isfinite(out))

    def test_sample_shape_support_and_seed_determinism(self):
        model = self.make_model()
        labels = self.sample_labels(model, 6)
        a = model.sample(6, seed=7, labels=labels)
        assert tuple(a.shape) == (6, *model.event_shape)
        self.assert_support(a)
        np.testing.assert_array_equal(a, model.sample(6, seed=7, labels=labels))
        assert not np.array_equal(a, model.sample(6, seed=8, labels=labels))
        unseeded = [model.sample(6, labels=labels) for _ in range(2)]
        assert not np.array_equal(*unseeded), "seed=None must draw fresh samples"

    def test_sample_rejects_bad_arguments(self):
        model = self.make_model()
        for bad in (0, -3):
            with np.testing.assert_raises_regex(ValueError, "num_samples"):
                model.sample(bad, labels=self.sample_labels(model, 1))
        if model.conditional:
            with np.testing.assert_raises_regex(ValueError, "labels"):
                model.sample(4, labels=[0, 1])  # wrong count
            with np.testing.assert_raises_regex(ValueError, "labels"):
                model.sample(2, labels=[0, model.num_classes])  # out of range
            with np.testing.assert_raises_regex(ValueError, "labels"):
                model.sample(2, labels=[0.0, 1.0])  # not integers
        else:
            with np.testing.assert_raises_regex(ValueError, "labels"):
                model.sample(2, labels=[0, 1])

    def test_sample_honours_labels(self):
        model = self.make_model()
        if not model.conditional:
            return
        a = model.sample(4, seed=1, labels=[0, 0, 0, 0], **self.sample_mean_kwargs())
        b = model.sample(4, seed=1, labels=[1, 1, 1, 1], **self.sample_mean_kwargs())
        assert not np.allclose(a, b), "changing labels must change conditional samples"

    def test_fit_and_evaluate_reject_missing_or_out_of_range_labels(self):
        import pytest  # the battery runs under pytest; tfgen itself does not need it

        model = self.compiled_model()
        if not model.conditional:
            return
        x, labels = self.batch()
        with pytest.raises(ValueError, match="labels"):
            model.fit(tf.data.Dataset.from_tensors(x), epochs=1, verbose=0)
        bad = tf.data.Dataset.from_tensors((x, tf.fill(tf.shape(labels), model.num_classes)))
        with pytest.raises(tf.errors.InvalidArgumentError, match="labels"):
            model.evaluate(bad, verbose=0)

    def sample_mean_kwargs(self) -> dict:
        return {}

    def test_log_prob_shape_finite_and_graph_equals_eager(self):
        model = self.make_model()
        if not isinstance(model, DensityModel):
            return
        x, labels = self.batch()
        eager = model.log_prob(x, labels, **self.log_prob_kwargs)
        assert tuple(eager.shape) == (x.shape[0],) and np.all(np.isfinite(eager))
        graph = tf.function(lambda x, labels: model.log_prob(x, labels, **self.log_prob_kwargs))(
            x, labels
        )
        np.testing.assert_allclose(eager, graph, rtol=1e-4, atol=1e-3)
        bpd = model.bits_per_dim(x, labels, **self.log_prob_kwargs)
        np.testing.assert_allclose(bpd, -eager / (model.num_dims * np.log(2.0)), rtol=1e-4)

    def test_autoregressive_causality(self):
        """Output i (in the model's ordering) has zero gradient with respect to inputs >= i, and
        a nonzero gradient with respect to some input < i (for i > 0).

        The second half keeps the first from passing vacuously: a model that ignores its inputs,
        or cuts their gradient (e.g. by rounding them without a straight-through estimator), has
        all-zero gradients. A few images are used so one dead ReLU cannot zero every gradient.
        """
        model = self.make_model()
        if not getattr(model, "autoregressive", False):
            return
        x, labels = self.batch()
        n = min(4, int(x.shape[0]))
        x = tf.convert_to_tensor(x[:n])
        order = np.asarray(getattr(model, "ordering_indices", np.arange(model.num_dims)))
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            out = model((x, labels[:n]) if model.conditional else x)
            flat = tf.reshape(out, [n, model.num_dims, -1])
            checked = np.linspace(0, model.num_dims - 1, 6).astype(int)
            # the reductions must be recorded by the tape, so they happen inside it
            sums = {i: tf.reduce_sum(flat[:, order[i]]) for i in checked}
        position = np.empty_like(order)
        position[order] = np.arange(order.size)
        for i in checked:
            grad = tape.gradient(sums[i], x, unconnected_gradients="zero")
            grad = np.abs(np.reshape(grad.numpy(), [n, -1]))  # example b's outputs see only x[b]
            assert np.all(grad[:, position >= i] == 0), (
                f"output {i} depends on inputs at or after it"
            )
            assert i == 0 or np.any(grad[:, position < i] > 0), (
                f"output {i} has zero gradient with respect to every input before it: the model "
                "ignores its inputs (or blocks their gradient), so causality is untested"
            )

    def test_keras_round_trip_resumes_training(self, tmp_path):
        model = self.compiled_model()
        model.fit(self.make_data(), epochs=1, steps_per_epoch=2, verbose=0)
        path = str(tmp_path / "model.keras")
        model.save(path)
        loaded = keras.models.load_model(path)
        assert type(loaded) is type(model)
        for a, b in zip(model.weights, loaded.weights, strict=True):
            np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
        labels = self.sample_labels(model, 5)
        np.testing.assert_array_equal(
            model.sample(5, seed=3, labels=labels), loaded.sample(5, seed=3, labels=labels)
        )
        assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations) == 2
        for a, b in zip(model.optimizer.variables, loaded.optimizer.variables, strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
        loaded.fit(self.make_data(), epochs=1, steps_per_epoch=1, verbose=0)
        assert int(loaded.optimizer.iterations) == 3

    def test_saved_model_export_matches_model(self, tmp_path):
        from tfgen.export import export_saved_model

        model = self.compiled_model()
        path = export_saved_model(model, str(tmp_path / "saved"))
        loaded = tf.saved_model.load(path)
        kwargs = {"labels": self.sample_labels(model, 4)} if model.conditional else {}
        exported = loaded.sample(num_samples=tf.constant(4), seed=tf.constant(11), **kwargs)
        # equal up to float rounding of graph rewrites (e.g. division by 255 as a multiplication)
        np.testing.assert_allclose(exported, model.sample(4, seed=11, **kwargs), atol=1e-6, rtol=0)
        x, labels = self.batch()
        inputs = {"labels": labels} if model.conditional else {}
        served = loaded.serve(x=x, **inputs)
        assert served.shape[0] == x.shape[0] and np.all(np.isfinite(served))
        if isinstance(model, DensityModel):
            lp = loaded.log_prob(x=x, **inputs)
            assert tuple(lp.shape) == (x.shape[0],) and np.all(np.isfinite(lp))


__all__ = ["GenerativeModelBattery"]
