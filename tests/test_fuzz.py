"""Property-based fuzzing of every public entry point, one tiny model per family.

Random shapes, ranks, dtypes, value ranges, NaN/inf, counts, seeds and labels go to ``log_prob``,
``elbo``, ``encode``, ``reconstruct``, ``discriminate``, ``predict``, ``evaluate`` and ``sample``
(with ``observed``/``mask`` where the model completes images). Every case either works, giving
finite values of the documented shape, or raises a one-line ``ValueError``/``TypeError`` that
starts with the name of the argument at fault: never an error from Keras or TensorFlow internals,
never a silent NaN, never a hang (each example has a deadline; examples are few and derandomized,
so the whole file stays within a minute on CI; ``TFGEN_FUZZ_EXAMPLES=500`` runs a deep search).
"""

import datetime
import functools
import os

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tfgen
from tfgen.models import (
    DCGAN,
    GAN,
    NADE,
    RNADE,
    VAE,
    AdversarialAutoencoder,
    Autoencoder,
    ConditionalVAE,
    ConvAutoencoder,
    GatedPixelCNN,
    IndependentBernoulli,
    PixelCNN,
    PixelRNN,
    RecurrentAutoencoder,
)

# About 20 s in all: in the full suite (.ci/run), out of the fast tier.
pytestmark = pytest.mark.slow

LATENT = dict(latent_dim=2, encoder_filters=(4,), decoder_filters=(4,), seed=0)
FAMILIES = {
    "VAE": lambda: VAE(event_shape=(4, 4, 1), **LATENT),
    "ConditionalVAE": lambda: ConditionalVAE(event_shape=(4, 4, 1), num_classes=3, **LATENT),
    "AAE": lambda: AdversarialAutoencoder(
        event_shape=(4, 4, 1), discriminator_units=(4,), **LATENT
    ),
    "NADE": lambda: NADE(event_shape=(3, 3, 1), hidden_units=4, seed=0),
    "RNADE": lambda: RNADE(event_shape=(2, 2, 1), hidden_units=4, num_components=2, seed=0),
    "PixelCNN": lambda: PixelCNN(
        event_shape=(3, 3, 1), num_layers=1, filters=4, likelihood="categorical", seed=0
    ),
    "GatedPixelCNN": lambda: GatedPixelCNN(
        event_shape=(3, 3, 1), num_layers=1, filters=4, num_classes=3, seed=0
    ),
    "PixelRNN": lambda: PixelRNN((3, 3, 1), "row_lstm", 1, 4, seed=0),
    "DCGAN": lambda: DCGAN(
        event_shape=(4, 4, 1),
        latent_dim=2,
        generator_filters=(4, 4),
        discriminator_filters=(4, 4),
        num_classes=3,
        seed=0,
    ),  # fmt: skip
    "GAN": lambda: GAN(event_shape=(2,), latent_dim=2, hidden_units=(4,), seed=0),
    "IndependentBernoulli": lambda: IndependentBernoulli(event_shape=(3, 3, 1), seed=0),
    "Autoencoder": lambda: Autoencoder(event_shape=(3, 3, 1), hidden_units=(4,), latent_dim=2),
    "ConvAutoencoder": lambda: ConvAutoencoder(event_shape=(4, 4, 1), filters=(4,), latent_dim=2),
    "RecurrentAutoencoder": lambda: RecurrentAutoencoder(
        event_shape=(3, 3, 1), hidden_units=(4,), latent_dim=2
    ),
}
#: Examples per family (24 in CI: about 2 seconds each; set TFGEN_FUZZ_EXAMPLES for a deep run).
EXAMPLES = int(os.environ.get("TFGEN_FUZZ_EXAMPLES", "24"))
ARGUMENTS = ("x", "num_samples", "seed", "labels", "observed", "mask", "x_a", "x_b")
DTYPES = ("float32", "float64", "float16", "int32", "int64", "uint8", "bool")


@functools.cache
def family(name):
    """The model, compiled to run its steps eagerly, warmed up (first traces are not fuzzed)."""
    model = FAMILIES[name]()
    model.compile(run_eagerly=True)
    if can_sample(model):
        model.sample(2, seed=0)
    return model


def can_sample(model):
    return type(model).sample is not tfgen.models.GenerativeModel.sample


def entry_points(model):
    names = ["log_prob", "elbo", "encode", "reconstruct", "discriminate", "interpolate"]
    names = [n for n in names if callable(getattr(model, n, None))]
    if isinstance(model, tfgen.models.AdversarialModel):
        names = [n for n in names if n != "log_prob"]
    else:
        names += ["predict", "evaluate"]
    return names + (["sample"] if can_sample(model) else [])


@st.composite
def arrays(draw, model, n_max=4):
    """Images near the model's event shape: mostly the right shape, of random dtype and range."""
    event = list(model.event_shape)
    if draw(st.booleans()):
        shape = [draw(st.integers(0, n_max)), *event]
    else:
        rank = draw(st.integers(0, 5))
        shape = [draw(st.sampled_from([0, 1, 2, 3, 4, 28])) for _ in range(rank)]
    size = int(np.prod(shape)) if shape else 1
    if size > 4096:
        shape = shape[:1]
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    u = rng.random(shape)
    kind = draw(st.sampled_from(["binary", "levels", "grey", "signed", "8-bit", "huge", "nan"]))
    values = {
        "binary": (u > 0.5) * 1.0,
        "levels": np.round(u * 255) / 255,
        "grey": u,
        "signed": 2 * u - 1,
        "8-bit": np.round(u * 255),
        "huge": u * 1e30,
        "nan": np.where(u > 0.8, draw(st.sampled_from([np.nan, np.inf, -np.inf])), u),
    }[kind]
    dtype = draw(st.sampled_from(DTYPES))
    with np.errstate(invalid="ignore", over="ignore"):
        return values.astype(dtype) if kind != "nan" or dtype.startswith("float") else values


INTS = st.sampled_from([1, 2, 3, 0, -1, 2**31, 2**40, 3.0, 2.5, "3", None, True, np.int64(2)])
SEEDS = st.sampled_from([None, 0, 7, -1, 2**31 - 1, 2**32, 1.5, 7.0, "7", np.int32(3)])


@st.composite
def label_arrays(draw, n_max=4):
    if draw(st.booleans()):
        return None
    length = draw(st.integers(0, n_max))
    values = draw(st.lists(st.sampled_from([0, 1, 2, 3, -1, 2**32]), min_size=length,
                           max_size=length))  # fmt: skip
    dtype = draw(st.sampled_from(["int32", "int64", "float32"]))
    return np.array(values, "int64").astype(dtype)


def call(model, entry, data):
    """Runs ``entry`` with arguments drawn from ``data``; returns the outputs to check."""
    labels = data.draw(label_arrays()) if model.conditional or data.draw(st.booleans()) else None
    if entry == "sample":
        kwargs = {"seed": data.draw(SEEDS), "labels": labels}
        if "observed" in type(model).sample.__code__.co_varnames and data.draw(st.booleans()):
            kwargs["observed"] = data.draw(arrays(model))
            kwargs["mask"] = data.draw(arrays(model))
        return model.sample(data.draw(INTS), **kwargs)
    x = data.draw(arrays(model))
    if entry == "interpolate":
        return model.interpolate(x, data.draw(arrays(model)), 3, labels=labels)
    if entry == "predict":
        return model.predict((x, labels) if model.conditional else x, verbose=0)
    if entry == "evaluate":
        return model.evaluate(x, labels, verbose=0, return_dict=True)
    return getattr(model, entry)(x, labels)


def finite_values(out):
    if isinstance(out, dict):
        return [np.asarray(v) for v in out.values()]
    if hasattr(out, "mean") and not tf.is_tensor(out) and not isinstance(out, np.ndarray):
        return [np.asarray(out.mean())]  # a distribution (encode of latent models)
    return [np.asarray(out)]


@pytest.mark.parametrize("name", list(FAMILIES))
def test_every_entry_point_works_or_names_the_argument(name):
    model = family(name)
    entries = entry_points(model)

    @settings(
        max_examples=EXAMPLES,
        deadline=datetime.timedelta(seconds=20),
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def check(data):
        entry = data.draw(st.sampled_from(entries))
        try:
            out = call(model, entry, data)
        except (ValueError, TypeError) as e:
            message = str(e)
            assert "\n" not in message, f"{entry}: a multi-line error: {message[:300]}"
            first = message.split(" ", 1)[0]
            named = first in ARGUMENTS or message.startswith(f"{type(model).__name__} is")
            assert named or "labels" in message.split(";")[0], f"{entry}: {message[:300]}"
            return
        for values in finite_values(out):
            assert np.all(np.isfinite(values)), f"{entry} returned non-finite values"

    check()
