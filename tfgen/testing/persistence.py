"""Persistence checks of the test battery: ``.keras`` round trip and SavedModel export.

:class:`PersistenceChecks` is mixed into :class:`tfgen.testing.GenerativeModelBattery` (it uses the
battery's ``make_model``, ``make_data``, ``batch`` and ``sample_labels``). Both checks are slow
(training, saving, tracing) and carry ``pytest.mark.slow``.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgen import export
from tfgen.models.latent import LatentVariableMixin

#: The output name of every endpoint (:func:`tfgen.export.endpoint_names`).
OUTPUT_NAMES = {
    "sample": "images",
    "predict": "params",
    "log_prob": "log_prob",
    "reconstruct": "images",
    "encode": "codes",
    "discriminate": "logits",
}


def expected_endpoint_outputs(model, x, labels, num_samples: int, seed: int) -> dict:
    """What each of ``model``'s exported endpoints must return, computed by the Python model.

    Returns:
        ``{endpoint: (output name, array)}`` for every name in
        :func:`tfgen.export.endpoint_names`; ``sample`` uses ``num_samples`` and ``seed`` (and
        ``labels[:num_samples]`` for conditional models), the others ``x`` and ``labels``.
    """
    inputs = (x, labels) if model.conditional else x
    sample_labels = None if labels is None else labels[:num_samples]

    def log_prob():
        if isinstance(model, LatentVariableMixin):
            return model.log_prob(
                x,
                labels,
                importance_samples=export.DEFAULT_IMPORTANCE_SAMPLES,
                seed=export.LOG_PROB_SEED,
            )
        return model.log_prob(x, labels)

    compute = {
        "sample": lambda: model.sample(num_samples, seed=seed, labels=sample_labels),
        "predict": lambda: model(inputs),
        "log_prob": log_prob,
        "reconstruct": lambda: model.reconstruct(x, labels),
        "encode": lambda: codes(model.encode(x, labels)),
        "discriminate": lambda: model.discriminate(x, labels),
    }
    return {
        name: (OUTPUT_NAMES[name], np.asarray(compute[name]()))
        for name in export.endpoint_names(model)
    }


def codes(encoded):
    """An ``encode`` result as codes: a tensor as it is, a posterior distribution's mean."""
    return encoded if tf.is_tensor(encoded) else encoded.mean()


def seed_states(model) -> list:
    """The state variables of ``model``'s random streams (``keras.random.SeedGenerator``)."""
    return [v for v in model.variables if v.path.endswith("seed_generator_state")]


class PersistenceChecks:
    """``.keras`` and SavedModel checks of the battery (see :mod:`tfgen.testing.battery`)."""

    @pytest.mark.slow
    def test_keras_round_trip_resumes_training(self, tmp_path):
        model = self.compiled_model()
        model.fit(self.make_data(), epochs=1, steps_per_epoch=2, verbose=0)
        path = str(tmp_path / "model.keras")
        model.save(path)
        loaded = keras.models.load_model(path)  # no compile(): the compile state is restored
        assert type(loaded) is type(model)
        assert loaded.optimizer_names == model.optimizer_names
        for a, b in zip(model.weights, loaded.weights, strict=True):
            np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
        if export.can_sample(model):
            labels = self.sample_labels(model, 5)
            np.testing.assert_array_equal(
                model.sample(5, seed=3, labels=labels), loaded.sample(5, seed=3, labels=labels)
            )
        else:
            x, labels = self.batch(5)
            inputs = (x, labels) if model.conditional else x
            np.testing.assert_array_equal(model(inputs), loaded(inputs))
        for name in model.optimizer_names:
            a, b = getattr(model, name), getattr(loaded, name)
            assert type(a) is type(b), name
            assert int(a.iterations) == int(b.iterations) == 2, name
            np.testing.assert_allclose(float(a.learning_rate), float(b.learning_rate), rtol=1e-6)
            for va, vb in zip(a.variables, b.variables, strict=True):
                np.testing.assert_array_equal(np.asarray(va), np.asarray(vb), err_msg=name)
        # The model's own random stream is saved with it (GenerativeModel.save_own_variables):
        # sample(seed=None) and training noise continue instead of restarting.
        np.testing.assert_array_equal(
            model._seed_generator.state.numpy(), loaded._seed_generator.state.numpy()
        )
        # Resuming continues as the original does: same step on the same batch, same weights.
        # Keras does not save the streams of sub-layers (e.g. Dropout's): copy those, so the
        # comparison tests the restored weights and optimizer state.
        for a, b in zip(seed_states(model), seed_states(loaded), strict=True):
            b.assign(a)
        x, labels = self.batch()
        one = tf.data.Dataset.from_tensors((x, labels) if model.conditional else x)
        model.fit(one, epochs=1, verbose=0)
        loaded.fit(one, epochs=1, verbose=0)
        for name in model.optimizer_names:
            assert int(getattr(loaded, name).iterations) == 3, name
        for a, b in zip(model.weights, loaded.weights, strict=True):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6, err_msg=a.path)

    @pytest.mark.slow
    def test_saved_model_endpoints_match_model(self, tmp_path):
        model = self.make_model()
        names = export.endpoint_names(model)
        loaded = tf.saved_model.load(export.export_saved_model(model, tmp_path / "saved"))
        assert set(names) <= set(loaded.signatures), (names, list(loaded.signatures))
        assert set(loaded.signatures) - set(names) <= {"serving_default"}, list(loaded.signatures)
        x, labels = self.batch(4)
        expected = expected_endpoint_outputs(model, x, labels, num_samples=4, seed=11)
        for name, (key, value) in expected.items():
            if name == "sample":
                args = {"num_samples": tf.constant(4), "seed": tf.constant(11)}
            else:
                args = {"x": x}
            if model.conditional:
                args["labels"] = labels
            for endpoint in (getattr(loaded, name), loaded.signatures[name]):
                out = endpoint(**args)
                assert set(out) == {key}, f"{name} returns {set(out)}, not {{{key!r}}}"
                # equal up to float rounding of graph rewrites (e.g. x / 255 as a multiplication)
                tol = 1e-4 if name == "log_prob" else 1e-5
                np.testing.assert_allclose(out[key], value, rtol=tol, atol=tol, err_msg=name)


__all__ = [
    "OUTPUT_NAMES",
    "PersistenceChecks",
    "codes",
    "expected_endpoint_outputs",
    "seed_states",
]
