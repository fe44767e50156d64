"""SavedModel export: endpoints match the model, and load without tfgen, Keras or TFP."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgen
from tfgen.export import DEFAULT_LOG_PROB_SAMPLES, LOG_PROB_SEED, export_saved_model
from tfgen.models import GenerativeModel

BLOCKED = ("keras", "tf_keras", "tensorflow_probability", "tfgen")


@pytest.fixture(scope="module")
def vae():
    model = tfgen.models.VAE(event_shape=(8, 8, 1), latent_dim=2, seed=0)
    model.compile()
    model.fit(
        tfgen.data.load("digits", "train", batch_size=64, binarize="static"),
        epochs=1,
        verbose=0,
        shuffle=False,
    )
    return model


@pytest.fixture(scope="module")
def x():
    return next(iter(tfgen.data.load("digits", "test", batch_size=6, binarize="static")))


@pytest.fixture(scope="module")
def exported(vae, tmp_path_factory):
    return export_saved_model(vae, tmp_path_factory.mktemp("export") / "vae")


def _expected(vae, x) -> dict[str, np.ndarray]:
    return {
        "x": x.numpy(),
        "serve": vae.reconstruct(x).numpy(),
        "sample": vae.sample(5, seed=3).numpy(),
        "log_prob": vae.log_prob(
            x, num_samples=DEFAULT_LOG_PROB_SAMPLES, seed=LOG_PROB_SEED
        ).numpy(),
    }


def test_endpoints_match_model(vae, x, exported):
    loaded = tf.saved_model.load(exported)
    assert {"serve", "sample", "log_prob", "serving_default"} <= set(loaded.signatures)
    expected = _expected(vae, x)

    np.testing.assert_allclose(loaded.serve(x), expected["serve"], atol=1e-5)
    np.testing.assert_allclose(
        loaded.signatures["serve"](x=x)["output_0"], expected["serve"], atol=1e-5
    )

    samples = loaded.sample(num_samples=5, seed=3)
    assert samples.shape == (5, 8, 8, 1) and samples.dtype == tf.float32
    np.testing.assert_array_equal(samples, expected["sample"])
    np.testing.assert_array_equal(loaded.sample(num_samples=5, seed=3), samples)
    assert not np.array_equal(loaded.sample(num_samples=5, seed=4), samples)
    assert loaded.sample(num_samples=tf.constant(2), seed=tf.constant(0)).shape == (2, 8, 8, 1)

    log_prob = loaded.log_prob(x)
    assert log_prob.shape == (x.shape[0],)
    np.testing.assert_allclose(log_prob, expected["log_prob"], atol=1e-4)
    np.testing.assert_array_equal(loaded.log_prob(x), log_prob)  # fixed seed: deterministic


def test_weights_are_variables_and_seed_stream_unused(vae, x, exported):
    loaded = tf.saved_model.load(exported)
    state = [v for v in loaded.variables if "seed_generator_state" in v.name]
    assert len(state) == 1
    before = state[0].numpy().copy()
    loaded.sample(num_samples=3, seed=1)
    loaded.log_prob(x)
    np.testing.assert_array_equal(state[0].numpy(), before)  # seeded paths only

    saved = [v.numpy() for v in loaded.trainable_variables]
    assert len(saved) == len(vae.trainable_weights)
    for w in vae.trainable_weights:
        assert any(s.shape == w.shape and np.array_equal(s, w.numpy()) for s in saved), w.path
    for v in loaded.trainable_variables:  # weights, not baked-in constants, drive the graphs
        v.assign(tf.zeros_like(v))
    np.testing.assert_allclose(loaded.serve(x), np.full(x.shape, 0.5), atol=1e-6)


def test_log_prob_samples_keyword(vae, x, tmp_path):
    loaded = tf.saved_model.load(export_saved_model(vae, tmp_path / "k3", log_prob_samples=3))
    expected = vae.log_prob(x, num_samples=3, seed=LOG_PROB_SEED)
    np.testing.assert_allclose(loaded.log_prob(x), expected, atol=1e-4)


_LOAD_WITHOUT_LIBRARIES = """
import sys
BLOCKED = {blocked!r}
for name in BLOCKED:
    sys.modules[name] = None  # any import of these (or their submodules) raises ImportError
import numpy as np
import tensorflow as tf

for name in BLOCKED:
    try:
        __import__(name)
    except ImportError:
        pass
    else:
        raise AssertionError(name + " is importable")
expected = np.load(sys.argv[2])
x = tf.constant(expected["x"])
loaded = tf.saved_model.load(sys.argv[1])
sigs = loaded.signatures
outputs = {{
    "serve": [
        loaded.serve(x),
        sigs["serve"](x=x)["output_0"],
        sigs["serving_default"](x=x)["output_0"],
    ],
    "sample": [
        loaded.sample(num_samples=5, seed=3),
        sigs["sample"](num_samples=tf.constant(5), seed=tf.constant(3))["output_0"],
    ],
    "log_prob": [loaded.log_prob(x), sigs["log_prob"](x=x)["output_0"]],
}}
for key, values in outputs.items():
    for value in values:
        np.testing.assert_allclose(value.numpy(), expected[key], atol=1e-4, err_msg=key)
np.testing.assert_array_equal(outputs["sample"][0].numpy(), expected["sample"])
leaked = [m for m in sys.modules if m.split(".")[0] in BLOCKED and sys.modules[m] is not None]
assert not leaked, leaked
print("OK")
"""


def test_loads_without_tfgen_keras_or_tfp(vae, x, exported, tmp_path):
    npz = tmp_path / "expected.npz"
    np.savez(npz, **_expected(vae, x))
    code = _LOAD_WITHOUT_LIBRARIES.format(blocked=BLOCKED)
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), str(exported), str(npz)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("OK")


class _TinyConditional(GenerativeModel):
    """A minimal conditional, non-density model: exercises the ``labels`` inputs of the export."""

    def __init__(self, **kwargs):
        super().__init__(event_shape=(2, 2, 1), num_classes=3, name="tiny_conditional", **kwargs)
        self.scale = self.add_weight(shape=(3,), initializer="ones", name="scale")
        self.built = True

    def predict_step(self, data):
        x, labels = self._unpack_data(data)
        return x * tf.gather(self.scale, labels)[:, None, None, None]

    def sample(self, num_samples, *, seed=None, labels=None):
        labels = self.check_labels(labels, num_samples)
        u = tf.random.stateless_uniform([num_samples, *self.event_shape], seed=self._seed(seed))
        return u * tf.gather(self.scale, labels)[:, None, None, None]


def test_conditional_model_takes_labels(tmp_path):
    model = _TinyConditional()
    model.scale.assign([1.0, 2.0, 3.0])
    loaded = tf.saved_model.load(export_saved_model(model, tmp_path / "cond"))
    assert "log_prob" not in loaded.signatures  # not a density model
    x, labels = tf.ones([3, 2, 2, 1]), tf.constant([0, 1, 2])
    np.testing.assert_allclose(loaded.serve(x=x, labels=labels), model.predict_step((x, labels)))
    out = loaded.signatures["sample"](
        num_samples=tf.constant(3), seed=tf.constant(7), labels=labels
    )
    np.testing.assert_array_equal(out["output_0"], model.sample(3, seed=7, labels=labels))


def test_bad_arguments(vae, tmp_path):
    with pytest.raises(ValueError, match="model"):
        export_saved_model(keras.Sequential([keras.layers.Dense(1)]), tmp_path / "a")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "file").write_text("x")
    with pytest.raises(ValueError, match="path"):
        export_saved_model(vae, tmp_path / "full")
    with pytest.raises(ValueError, match="path"):
        export_saved_model(vae, tmp_path / "full" / "file")
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="log_prob_samples"):
            export_saved_model(vae, tmp_path / "b", log_prob_samples=bad)
