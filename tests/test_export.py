"""SavedModel export: one named endpoint per method, outputs equal the model's, loadable with
TensorFlow alone (no tfgen, Keras or TFP). The battery checks every family's endpoints by value;
this file checks the export itself on a trained VAE and a tiny conditional model."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgen
from tfgen.export import (
    DEFAULT_IMPORTANCE_SAMPLES,
    LOG_PROB_SEED,
    endpoint_names,
    export_saved_model,
)
from tfgen.models import GenerativeModel
from tfgen.testing.persistence import OUTPUT_NAMES

BLOCKED = ("keras", "tf_keras", "tensorflow_probability", "tfgen")
SMALL = {"event_shape": (8, 8, 1)}
LATENT = ("sample", "predict", "log_prob", "reconstruct", "encode")
AUTOREGRESSIVE = ("sample", "predict", "log_prob")
GANS = ("sample", "discriminate")


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda: tfgen.models.VAE(**SMALL, latent_dim=2), LATENT),
        (lambda: tfgen.models.CVAE(**SMALL, num_classes=3, latent_dim=2), LATENT),
        (lambda: tfgen.models.AAE(**SMALL), ("sample", "predict", "reconstruct", "encode")),
        (lambda: tfgen.models.NADE(**SMALL, hidden_units=4), AUTOREGRESSIVE),
        (lambda: tfgen.models.RNADE(**SMALL, hidden_units=4), AUTOREGRESSIVE),
        (lambda: tfgen.models.IndependentBernoulli(**SMALL), AUTOREGRESSIVE),
        (lambda: tfgen.models.PixelCNN(**SMALL, num_layers=1, filters=4), AUTOREGRESSIVE),
        (lambda: tfgen.models.GatedPixelCNN(**SMALL, num_layers=1, filters=4), AUTOREGRESSIVE),
        (lambda: tfgen.models.GAN(event_shape=(2,), latent_dim=2), GANS),
        (lambda: tfgen.models.DCGAN(**SMALL, latent_dim=4, generator_filters=(8, 4)), GANS),
    ],
)
def test_every_endpoint_exists_exactly_for_the_models_it_should(make, expected):
    assert endpoint_names(make()) == expected
    assert set(expected) <= set(OUTPUT_NAMES)


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
    """Endpoint name -> the Python model's output (``x``: the inputs)."""
    return {
        "x": x.numpy(),
        "sample": vae.sample(5, seed=3).numpy(),
        "predict": vae(x).numpy(),
        "log_prob": vae.log_prob(
            x, importance_samples=DEFAULT_IMPORTANCE_SAMPLES, seed=LOG_PROB_SEED
        ).numpy(),
        "reconstruct": vae.reconstruct(x).numpy(),
        "encode": vae.encode(x).mean().numpy(),
    }


@pytest.mark.slow
def test_endpoints_are_named_and_match_the_model(vae, x, exported):
    loaded = tf.saved_model.load(exported)
    assert set(loaded.signatures) - {"serving_default"} == set(endpoint_names(vae))
    expected = _expected(vae, x)
    samples = loaded.sample(num_samples=5, seed=3)
    assert set(samples) == {"images"}
    samples = samples["images"]
    assert samples.shape == (5, 8, 8, 1) and samples.dtype == tf.float32
    np.testing.assert_array_equal(samples, expected["sample"])
    assert not np.array_equal(loaded.sample(num_samples=5, seed=4)["images"], samples)
    two = loaded.sample(num_samples=tf.constant(2), seed=tf.constant(0))["images"]
    assert two.shape == (2, 8, 8, 1)
    for name in ("predict", "log_prob", "reconstruct", "encode"):
        key = OUTPUT_NAMES[name]
        for endpoint in (getattr(loaded, name), loaded.signatures[name]):
            out = endpoint(x=x)
            assert set(out) == {key}, (name, set(out))
            np.testing.assert_allclose(out[key], expected[name], atol=1e-4, err_msg=name)
    assert loaded.encode(x=x)["codes"].shape == (6, 2)
    np.testing.assert_array_equal(  # fixed seed: deterministic
        loaded.log_prob(x=x)["log_prob"], loaded.log_prob(x=x)["log_prob"]
    )


@pytest.mark.slow
def test_weights_are_variables_and_seed_stream_unused(vae, x, exported):
    loaded = tf.saved_model.load(exported)
    state = [v for v in loaded.variables if "seed_generator_state" in v.name]
    assert len(state) == 1
    before = state[0].numpy().copy()
    loaded.sample(num_samples=3, seed=1)
    loaded.log_prob(x=x)
    np.testing.assert_array_equal(state[0].numpy(), before)  # seeded paths only

    saved = [v.numpy() for v in loaded.trainable_variables]
    assert len(saved) == len(vae.trainable_weights)
    for w in vae.trainable_weights:
        assert any(s.shape == w.shape and np.array_equal(s, w.numpy()) for s in saved), w.path
    for v in loaded.trainable_variables:  # weights, not baked-in constants, drive the graphs
        v.assign(tf.zeros_like(v))
    np.testing.assert_array_equal(loaded.predict(x=x)["params"], np.zeros(x.shape))
    np.testing.assert_allclose(loaded.reconstruct(x=x)["images"], np.full(x.shape, 0.5))


@pytest.mark.slow
def test_importance_samples_keyword(vae, x, tmp_path):
    loaded = tf.saved_model.load(export_saved_model(vae, tmp_path / "k3", importance_samples=3))
    expected = vae.log_prob(x, importance_samples=3, seed=LOG_PROB_SEED)
    np.testing.assert_allclose(loaded.log_prob(x=x)["log_prob"], expected, atol=1e-4)
    default = vae.log_prob(x, importance_samples=DEFAULT_IMPORTANCE_SAMPLES, seed=LOG_PROB_SEED)
    assert not np.allclose(expected, default, atol=1e-4)  # k matters, so the check can fail


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
count = dict(num_samples=tf.constant(5), seed=tf.constant(3))
outputs = {{
    "sample": [loaded.sample(num_samples=5, seed=3)["images"], sigs["sample"](**count)["images"]],
    "predict": [loaded.predict(x=x)["params"], sigs["predict"](x=x)["params"]],
    "log_prob": [loaded.log_prob(x=x)["log_prob"], sigs["log_prob"](x=x)["log_prob"]],
    "reconstruct": [loaded.reconstruct(x=x)["images"], sigs["reconstruct"](x=x)["images"]],
    "encode": [loaded.encode(x=x)["codes"], sigs["encode"](x=x)["codes"]],
}}
for key, values in outputs.items():
    for value in values:
        np.testing.assert_allclose(value.numpy(), expected[key], atol=1e-4, err_msg=key)
np.testing.assert_array_equal(outputs["sample"][0].numpy(), expected["sample"])
leaked = [m for m in sys.modules if m.split(".")[0] in BLOCKED and sys.modules[m] is not None]
assert not leaked, leaked
print("OK")
"""


@pytest.mark.slow
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
    """A minimal conditional model with no likelihood: exercises the ``labels`` inputs."""

    def __init__(self, **kwargs):
        super().__init__(event_shape=(2, 2, 1), num_classes=3, name="tiny_conditional", **kwargs)
        self.scale = self.add_weight(shape=(3,), initializer="ones", name="scale")
        self.built = True

    def call(self, inputs, training=False):
        x, labels = self._split_inputs(inputs)
        return x * tf.gather(self.scale, self.check_labels(labels))[:, None, None, None]

    def sample(self, num_samples, *, seed=None, labels=None):
        seed = self._seed(seed)
        labels = self._sample_labels(labels, num_samples, seed)
        u = tf.random.stateless_uniform([num_samples, *self.event_shape], seed=seed)
        return u * tf.gather(self.scale, labels)[:, None, None, None]


@pytest.mark.slow
def test_conditional_model_takes_labels(tmp_path):
    model = _TinyConditional()
    model.scale.assign([1.0, 2.0, 3.0])
    assert endpoint_names(model) == ("sample", "predict")  # not a density or latent model
    loaded = tf.saved_model.load(export_saved_model(model, tmp_path / "cond"))
    assert set(loaded.signatures) - {"serving_default"} == {"sample", "predict"}
    x, labels = tf.ones([3, 2, 2, 1]), tf.constant([0, 1, 2])
    out = loaded.predict(x=x, labels=labels)["params"]
    np.testing.assert_allclose(out, model((x, labels)))
    np.testing.assert_allclose(out[:, 0, 0, 0], [1.0, 2.0, 3.0])
    out = loaded.signatures["sample"](
        num_samples=tf.constant(3), seed=tf.constant(7), labels=labels
    )
    np.testing.assert_array_equal(out["images"], model.sample(3, seed=7, labels=labels))


def test_bad_arguments(tmp_path):
    vae = tfgen.models.VAE(event_shape=(8, 8, 1), latent_dim=2)
    with pytest.raises(ValueError, match="^model must be"):
        export_saved_model(keras.Sequential([keras.layers.Dense(1)]), tmp_path / "a")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "file").write_text("x")
    with pytest.raises(ValueError, match="^path must be"):
        export_saved_model(vae, tmp_path / "full")
    with pytest.raises(ValueError, match="^path must be"):
        export_saved_model(vae, tmp_path / "full" / "file")
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="^importance_samples must be"):
            export_saved_model(vae, tmp_path / "b", importance_samples=bad)
    assert not (tmp_path / "b").exists()
