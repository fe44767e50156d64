"""Inputs are checked at the door: the same one-line error for the same mistake in every family.

Each test here fails on the code before the checks moved into the bases
(``tfgen.models.inputs``, ``tfgen.models.checked``): data of the wrong range, shape, dtype or
with NaN; integers cast before they were checked; labels wrapped to int32; ``sample`` of a large
count in one piece (tests/test_run_guards.py: non-finite training, damaged ``.keras`` files).
"""

import functools

import numpy as np
import pytest
import tensorflow as tf

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

SMALL_LATENT = dict(latent_dim=2, encoder_filters=(4,), decoder_filters=(4,), seed=0)
FACTORIES = {
    "VAE": lambda: VAE(event_shape=(4, 4, 1), **SMALL_LATENT),
    "ConditionalVAE": lambda: ConditionalVAE(event_shape=(4, 4, 1), num_classes=3, **SMALL_LATENT),
    "AAE": lambda: AdversarialAutoencoder(
        event_shape=(4, 4, 1), discriminator_units=(4,), **SMALL_LATENT
    ),
    "NADE": lambda: NADE(event_shape=(4, 4, 1), hidden_units=4, seed=0),
    "RNADE": lambda: RNADE(event_shape=(2, 2, 1), hidden_units=4, num_components=2, seed=0),
    "PixelCNN": lambda: PixelCNN(event_shape=(4, 4, 1), num_layers=1, filters=4, seed=0),
    "GatedPixelCNN": lambda: GatedPixelCNN(
        event_shape=(4, 4, 1), num_layers=1, filters=4, num_classes=3, seed=0
    ),
    "PixelRNN": lambda: PixelRNN((4, 4, 1), "row_lstm", 1, 4, seed=0),
    "DCGAN": lambda: DCGAN(
        event_shape=(4, 4, 1),
        latent_dim=2,
        generator_filters=(4, 4),
        discriminator_filters=(4, 4),
        seed=0,
    ),  # fmt: skip
    "GAN": lambda: GAN(event_shape=(2,), latent_dim=2, hidden_units=(4,), seed=0),
    "IndependentBernoulli": lambda: IndependentBernoulli(event_shape=(4, 4, 1), seed=0),
    "Autoencoder": lambda: Autoencoder(event_shape=(4, 4, 1), hidden_units=(4,), latent_dim=2),
    "ConvAutoencoder": lambda: ConvAutoencoder(event_shape=(4, 4, 1), filters=(4,), latent_dim=2),
    "RecurrentAutoencoder": lambda: RecurrentAutoencoder(
        event_shape=(4, 4, 1), hidden_units=(4,), latent_dim=2
    ),
}
SAMPLERS = [n for n in FACTORIES if "Autoencoder" not in n or n == "AAE"]


@functools.cache
def model(name):
    return FACTORIES[name]()


def data_for(m, n=3, seed=0):
    """A valid batch for ``m``: binary images, 8-bit levels, or [-1, 1] values."""
    u = np.random.default_rng(seed).random([n, *m.event_shape]).astype("float32")
    rule = m.value_range
    if rule.levels:
        return np.round(u * 255) / 255
    if rule.low == -1:
        return 2 * u - 1
    return (u > 0.5).astype("float32")


def labels_for(m, n=3):
    return np.arange(n) % m.num_classes if m.conditional else None


def one_line_error(pattern, fn, *args, **kwargs):
    """Calls ``fn``; it must raise a one-line ValueError matching ``pattern``."""
    with pytest.raises(ValueError, match=pattern) as info:
        fn(*args, **kwargs)
    assert "\n" not in str(info.value)
    return str(info.value)


# ----------------------------------------------------------------------------- integers
BAD_COUNTS = [2**40, 2**31, 3.0, 1.5, True, "3", 0, -2, np.float32(3), None]
BAD_SEEDS = [2**32, 2**40, -(2**31) - 1, 1.5, 7.0, "7", True, np.float64(1)]


@pytest.mark.parametrize("name", SAMPLERS)
def test_counts_and_seeds_are_checked_before_any_cast_with_one_message_everywhere(name):
    m = model(name)
    for bad in BAD_COUNTS:
        message = one_line_error("^num_samples must be", m.sample, bad)
        assert message.startswith("num_samples must be an int in [1, 2147483647]; got ")
    for bad in BAD_SEEDS:
        message = one_line_error("^seed must be", m.sample, 2, seed=bad)
        assert message.startswith("seed must be None or an int in [-2147483648, 2147483647]")


@pytest.mark.parametrize("name", ["ConditionalVAE", "NADE", "DCGAN"])
def test_integer_scalars_of_any_kind_are_the_same_count_and_seed(name):
    m = model(name)
    kw = {"labels": labels_for(m, 2)} if m.conditional else {}
    expected = m.sample(2, seed=5, **kw)
    for n, seed in ((np.int64(2), np.int32(5)), (tf.constant(2), tf.constant(5, tf.int64))):
        np.testing.assert_array_equal(m.sample(n, seed=seed, **kw), expected)


@pytest.mark.parametrize("name", ["ConditionalVAE", "GatedPixelCNN"])
def test_int64_labels_are_range_checked_before_the_int32_cast(name):
    m = model(name)
    wrapped = np.array([2**32, 1], np.int64)  # was class 0 after the cast
    one_line_error(r"^labels must lie in \[0, 3\)", m.sample, 2, labels=wrapped)
    x = data_for(m, 2)
    one_line_error(r"^labels must lie in \[0, 3\)", m.log_prob, x, wrapped)


# ----------------------------------------------------------------------------- data
def _with_labels(method, labels, x):
    return method(x, labels(x))


def entry_points(m):
    """``(name, call(x))`` of every public method of ``m`` that reads images."""
    labels = lambda x: labels_for(m, len(x)) if m.conditional else None  # noqa: E731
    found = []
    if hasattr(m, "log_prob") and callable(getattr(m, "log_prob", None)):
        if not isinstance(m, tfgen.models.AdversarialModel):
            found.append(("log_prob", lambda x: m.log_prob(x, labels(x))))
    for method in ("elbo", "encode", "reconstruct", "discriminate"):
        if hasattr(m, method):
            found.append((method, functools.partial(_with_labels, getattr(m, method), labels)))
    if not isinstance(m, tfgen.models.AdversarialModel):
        predict = lambda x: m.predict((x, labels(x)) if m.conditional else x, verbose=0)  # noqa: E731
        found.append(("predict", predict))
    return found


BAD_DATA = {
    "8-bit values": (lambda x: x * 255 + 2, r"^x must be (finite values|levels)"),
    "NaN pixel": (
        lambda x: np.where(np.arange(x.size).reshape(x.shape) == 3, np.nan, x),
        r"^x must be (finite|levels).*got 1 NaN",
    ),  # fmt: skip
    "inf pixel": (
        lambda x: np.where(np.arange(x.size).reshape(x.shape) == 0, np.inf, x),
        r"^x must be (finite|levels).*got 1 inf",
    ),  # fmt: skip
    "other event shape": (lambda x: np.zeros([2, 6, 6, 1]), r"^x must have shape \[batch, "),
    "one image": (lambda x: x[0], r"^x must have shape \[batch, "),
    "channels": (lambda x: np.concatenate([x, x], axis=-1), r"^x must have shape \[batch, "),
    "empty batch": (lambda x: x[:0], r"^x must hold at least one example"),
    "strings": (lambda x: np.full(x.shape, "a"), r"^x must be a numeric array"),
    "ragged": (lambda x: [[0.0], [0.0, 1.0]], r"^x must be a numeric array"),
}


@pytest.mark.parametrize("name", list(FACTORIES))
def test_every_entry_point_checks_its_data_with_one_line_naming_x(name):
    m = model(name)
    x = data_for(m)
    for entry, call in entry_points(m):
        call(x)  # valid data works
        for case, (make, pattern) in BAD_DATA.items():
            if case == "8-bit values" and m.value_range.low is None:
                continue  # real-valued models take any finite value
            if case == "channels" and len(m.event_shape) == 1:
                continue
            try:
                one_line_error(pattern, call, make(x))
            except BaseException as e:
                raise AssertionError(f"{name}.{entry} given {case}: {e!r}"[:500]) from None


def test_bernoulli_grey_levels_are_scored_as_given():
    m = IndependentBernoulli(event_shape=(2, 2, 1))
    m.logits.assign(np.log([[[3.0], [1.0]], [[0.25], [1.0]]]))  # p = 3/4, 1/2, 1/5, 1/2
    p = np.array([0.75, 0.5, 0.2, 0.5])
    x = np.array([0.2, 0.5, 0.9, 1.0])
    expected = np.sum(x * np.log(p) + (1 - x) * np.log1p(-p))
    np.testing.assert_allclose(m.log_prob(x.reshape(1, 2, 2, 1)), [expected], rtol=1e-5)


def test_categorical_models_take_8_bit_levels_only():
    m = PixelCNN(event_shape=(4, 4, 1), num_layers=1, filters=4, likelihood="categorical")
    u = np.random.default_rng(1).random([2, 4, 4, 1])
    assert m.log_prob(np.round(u * 255) / 255).shape == (2,)
    one_line_error(r"^x must be levels k / 255 in \[0, 1\]", m.log_prob, u)


def test_gans_take_minus_one_to_one_and_refuse_unit_interval_training_data():
    m = model("DCGAN")
    m.compile()
    one_line_error(r"\[-1, 1\]", m.discriminate, np.full([2, 4, 4, 1], 1.5))
    images = (np.random.default_rng(0).random([8, 4, 4, 1]) > 0.5).astype("float32")
    one_line_error("got no negative value", m.fit, images, epochs=1, verbose=0)


def test_nade_log_prob_never_reshapes_another_shape_into_images():
    m = model("NADE")  # (4, 4, 1): a [2, 4, 4, 3] batch once scored as 6 images
    one_line_error(r"^x must have shape \[batch, 4", m.log_prob, np.zeros([2, 4, 4, 3]))
    one_line_error(r"^x must have shape", m.conditional_logits, np.zeros([3, 16]))


def test_completion_arguments_are_checked():
    m = model("NADE")
    ones = np.ones([4, 4, 1])
    one_line_error(r"^observed must be", m.sample, 2, observed=ones * 255, mask=ones)
    one_line_error(r"^observed must be", m.sample, 2, observed=ones * np.nan, mask=ones)
    one_line_error(r"^mask must hold", m.sample, 2, observed=ones, mask=ones * np.nan)


@pytest.mark.slow
def test_fit_and_evaluate_batches_are_checked_in_the_compiled_step():
    m = VAE(event_shape=(4, 4, 1), **SMALL_LATENT)
    m.compile()
    x = data_for(m, 6)
    before = [w.numpy() for w in m.weights]
    poisoned = x.copy()
    poisoned[1] = np.nan  # one all-NaN image in the first batch: once every weight turned NaN
    batches = lambda bad: tf.data.Dataset.from_tensor_slices(bad).batch(3)  # noqa: E731
    message = one_line_error("^x must be", m.fit, batches(poisoned), epochs=1, verbose=0)
    assert message == "x must be finite values in [0, 1]; got NaN or inf (in a batch of the data)"
    message = one_line_error("^x must be", m.evaluate, batches(x * 255), verbose=0)
    assert "got values outside [0, 1]" in message
    for w, b in zip(m.weights, before, strict=True):
        assert np.all(np.isfinite(w.numpy()))
        if "seed" not in w.path:
            np.testing.assert_array_equal(w.numpy(), b)
    cvae = ConditionalVAE(event_shape=(4, 4, 1), num_classes=3, **SMALL_LATENT)
    cvae.compile()
    bad_labels = tf.data.Dataset.from_tensor_slices((x, np.full([6], 7))).batch(3)
    one_line_error("^labels must be", cvae.evaluate, bad_labels, verbose=0)


# ----------------------------------------------------------------------------- sampling
# one family per sample implementation: LatentSpaceMixin, raster models, NADEBase, GANBase, baseline
@pytest.mark.parametrize(
    "name",
    [
        "AAE",
        pytest.param("PixelCNN", marks=pytest.mark.slow),
        "NADE",
        "GAN",
        "IndependentBernoulli",
    ],
)
def test_large_counts_are_drawn_in_chunks_and_the_first_chunk_is_unchanged(name):
    m = FACTORIES[name]()
    m.sample_chunk_size = 3
    calls = []
    draw = tfgen.models.checked.in_chunks

    def spy(fn, n, seed, *rest, chunk_size):
        def counted(k, *args):
            calls.append(k)
            return fn(k, *args)

        return draw(counted, n, seed, *rest, chunk_size=chunk_size)

    tfgen.models.checked.in_chunks = spy
    try:
        images = m.sample(7, seed=4)
    finally:
        tfgen.models.checked.in_chunks = draw
    assert calls == [3, 3, 1] and images.shape == (7, *m.event_shape)
    np.testing.assert_array_equal(images[:3], m.sample(3, seed=4))
    assert np.all(np.isfinite(images))


def test_default_chunk_keeps_small_counts_identical():
    m = model("VAE")
    assert m.sample_chunk_size == tfgen.models.inputs.SAMPLE_CHUNK_SIZE == 1024
    np.testing.assert_array_equal(m.sample(1030, seed=2)[:1024], m.sample(1024, seed=2))


@pytest.mark.parametrize("name", ["VAE", "ConditionalVAE", "AAE", "DCGAN", "Autoencoder"])
def test_codes_are_checked_too(name):
    m = model(name)
    decode = m.generate if hasattr(m, "generate") else m.decode
    labels = labels_for(m, 2)
    out = decode(np.zeros([2, m.latent_dim]), labels)
    assert np.all(
        np.isfinite(out.mean() if hasattr(out, "mean") and not tf.is_tensor(out) else out)
    )
    one_line_error(r"^z must have shape \[batch, 2\]", decode, np.zeros([2, 3]), labels)
    one_line_error(r"^z must be finite", decode, np.full([2, 2], np.nan), labels)
