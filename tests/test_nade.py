"""NADE, RNADE and IndependentBernoulli: the battery plus closed-form checks (normalisation,
predict's logits, the per-dimension loop, the Bernoulli MLE, sampling frequencies)."""

import itertools
import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

import tfgen
from tfgen.models import NADE, RNADE, IndependentBernoulli
from tfgen.models.nade_base import exclusive_prefix_sum
from tfgen.testing import GenerativeModelBattery

DENSITY_METRICS = ("loss", "bits_per_dim")
ALL_BINARY_6 = np.array(list(itertools.product([0.0, 1.0], repeat=6)), np.float32).reshape(
    -1, 2, 3, 1
)


def digits(batch_size=64, binarize="static", split="train"):
    return tfgen.data.load("digits", split, batch_size=batch_size, binarize=binarize)


class TestNADE(GenerativeModelBattery):
    expected_metrics = DENSITY_METRICS
    bad_constructor_args = (
        ({"hidden_units": 0}, "hidden_units"),
        ({"ordering": "zigzag"}, "ordering"),
        ({"event_shape": (8, 8)}, "event_shape"),
    )

    def make_model(self):
        return NADE(event_shape=(8, 8, 1), hidden_units=16, seed=0)

    def make_data(self):
        return digits()


class TestNADERandomOrdering(TestNADE):
    def make_model(self):
        return NADE(event_shape=(8, 8, 1), hidden_units=16, ordering="random", seed=3)


class TestRNADE(GenerativeModelBattery):
    expected_metrics = DENSITY_METRICS
    sample_support = "levels"
    bad_constructor_args = (
        ({"hidden_units": 0}, "hidden_units"),
        ({"num_components": 0}, "num_components"),
        ({"ordering": "zigzag"}, "ordering"),
        ({"preprocessing": "logit"}, "preprocessing"),
        ({"logit_alpha": 0.5}, "logit_alpha"),
    )

    def make_model(self):
        return RNADE(event_shape=(8, 8, 1), hidden_units=16, num_components=3, seed=0)

    def make_data(self):
        return digits(binarize=None)


class TestRNADETiny(TestRNADE):
    """3x3 images: 81 outputs, few enough for the battery's full-Jacobian causality check."""

    def make_model(self):
        return RNADE(event_shape=(3, 3, 1), hidden_units=8, num_components=3, seed=0)

    def make_data(self):
        levels = np.random.default_rng(0).integers(0, 256, size=[64, 3, 3, 1])
        return tf.data.Dataset.from_tensor_slices((levels / 255).astype(np.float32)).batch(32)


class TestIndependentBernoulli(GenerativeModelBattery):
    expected_metrics = DENSITY_METRICS
    bad_constructor_args = (({"event_shape": (8, 8)}, "event_shape"), ({"seed": 1.5}, "seed"))

    def make_model(self):
        return IndependentBernoulli(event_shape=(8, 8, 1), seed=0)

    def make_data(self):
        return digits()


def six_bit_data(seed=0, n=256):
    """Correlated 6-bit vectors (a noisy copy of the first bit), as a batched dataset."""
    rng = np.random.default_rng(seed)
    first = rng.random([n, 1]) < 0.3
    x = np.where(rng.random([n, 6]) < 0.8, first, rng.random([n, 6]) < 0.5)
    return tf.data.Dataset.from_tensor_slices(x.astype(np.float32).reshape(n, 2, 3, 1)).batch(32)


@pytest.mark.parametrize(
    "make",
    [
        lambda: NADE((2, 3, 1), hidden_units=5, seed=0),
        lambda: NADE((2, 3, 1), hidden_units=5, ordering="random", seed=4),
        lambda: IndependentBernoulli((2, 3, 1), seed=0),
    ],
    ids=["nade", "nade-random-order", "independent"],
)
def test_probabilities_of_all_2_to_the_6_vectors_sum_to_one(make):
    model = make()
    for trained in (False, True):
        if trained:
            model.compile(optimizer=keras.optimizers.Adam(0.05))
            model.fit(six_bit_data(), epochs=2, verbose=0)
        total = float(tf.reduce_sum(tf.exp(tf.cast(model.log_prob(ALL_BINARY_6), tf.float64))))
        assert abs(total - 1.0) < 1e-5, (trained, total)
    # training moved the model away from uniform: some vector is much likelier than 1/64
    assert float(tf.reduce_max(model.log_prob(ALL_BINARY_6))) > math.log(4 / 64)


def random_independent(event_shape=(8, 8, 1)):
    model = IndependentBernoulli(event_shape)
    model.logits.assign(tf.random.stateless_normal(event_shape, seed=[1, 2]))
    return model


@pytest.mark.parametrize(
    "make",
    [lambda: NADE((8, 8, 1), 12, ordering="random", seed=2), random_independent],
    ids=["nade", "independent"],
)
def test_predict_gives_the_per_pixel_logits_whose_bernoulli_log_prob_is_log_prob(make):
    """predict = the conditional logits in image layout (not log p(x): that is log_prob)."""
    model = make()
    x = next(iter(digits(batch_size=16)))
    logits = model.predict(x, verbose=0)
    assert logits.shape == (16, 8, 8, 1)
    per_pixel = tfgen.distributions.bernoulli_image(logits).log_prob(x)
    np.testing.assert_allclose(per_pixel, model.log_prob(x), rtol=1e-5)


@pytest.mark.slow
def test_rnade_2d_density_integrates_to_one_on_a_grid():
    model = RNADE((1, 2, 1), hidden_units=8, num_components=3, preprocessing=None, seed=0)
    rng = np.random.default_rng(0)
    z = rng.normal(size=[512, 2]).astype(np.float32)
    data = np.stack([z[:, 0], 0.8 * z[:, 0] ** 2 + 0.3 * z[:, 1] - 1.0], -1).reshape(-1, 1, 2, 1)
    edges = np.linspace(-12.0, 12.0, 1201, dtype=np.float32)
    step = float(edges[1] - edges[0])
    grid = np.stack(np.meshgrid(edges, edges, indexing="ij"), -1).reshape(-1, 1, 2, 1)
    for trained in (False, True):
        if trained:
            model.compile(optimizer=keras.optimizers.Adam(0.02))
            model.fit(data, batch_size=64, epochs=10, verbose=0)
        density = np.exp(model.log_prob(grid).numpy().astype(np.float64))
        assert abs(density.sum() * step**2 - 1.0) < 1e-3, (trained, density.sum() * step**2)
    # and it learnt something: the data is far likelier than under the untrained model
    assert float(tf.reduce_mean(model.log_prob(data))) > -3.0


def test_exclusive_prefix_sum_matches_cumsum_for_any_block():
    v = tf.random.stateless_uniform([3, 10], seed=[1, 2])
    w = tf.random.stateless_normal([10, 4], seed=[3, 4])
    expected = tf.cumsum(v[:, :, None] * w, axis=1, exclusive=True)
    for block in (None, 1, 3, 4, 10, 16):
        np.testing.assert_allclose(exclusive_prefix_sum(v, w, block), expected, atol=1e-5)


def loop_log_prob(model: NADE, x) -> np.ndarray:
    """The reference: one conditional at a time, a_{i+1} = a_i + W[i] x_i, in numpy float64."""
    v = model._flatten_ordered(x).numpy().astype(np.float64)
    w, c = model.input_weights.numpy(), model.hidden_bias.numpy()
    out_w, out_b = model.output_weights.numpy(), model.output_bias.numpy()
    a = np.tile(c, [len(v), 1]).astype(np.float64)
    total = np.zeros(len(v))
    for i in range(model.num_dims):
        logit = 1 / (1 + np.exp(-a)) @ out_w[i] + out_b[i]
        total += v[:, i] * logit - np.logaddexp(0.0, logit)
        a += v[:, i : i + 1] * w[i]
    return total


@pytest.mark.parametrize("ordering", ["raster", "random"])
def test_vectorised_log_prob_equals_the_per_dimension_loop(ordering):
    model = NADE((8, 8, 1), hidden_units=12, ordering=ordering, seed=2)
    model.output_bias.assign(tf.random.stateless_normal([64], seed=[5, 6]))
    x = next(iter(digits(batch_size=16)))
    np.testing.assert_allclose(model.log_prob(x), loop_log_prob(model, x), rtol=1e-5)


def test_rnade_dequantized_log_prob_is_the_logit_density_plus_the_jacobian():
    model = RNADE((8, 8, 1), hidden_units=8, num_components=2, seed=0)
    plain = RNADE((8, 8, 1), hidden_units=8, num_components=2, preprocessing=None, seed=0)
    for a, b in zip(plain.weights, model.weights, strict=True):
        a.assign(b)
    x = next(iter(digits(batch_size=8, binarize=None)))
    # log_prob's fixed dequantization draw: one noise image shared by every example, so an
    # image's log_prob does not depend on its batch or its position in it
    u = tf.random.stateless_uniform([64], seed=[0, 0])
    y = (np.round(x.numpy().reshape(8, 64) * 255) + u.numpy()[None]) / 256
    p = 0.05 + 0.9 * y
    v = np.log(p) - np.log1p(-p)
    log_det = np.sum(np.log(0.9) - np.log(p) - np.log1p(-p), -1) - 64 * np.log(256)
    expected = plain.log_prob(v.reshape(8, 8, 8, 1)).numpy() + log_det
    np.testing.assert_allclose(model.log_prob(x), expected, rtol=1e-5)
    np.testing.assert_allclose(model.log_prob(x[3:5]), expected[3:5], rtol=1e-5)
    bpd = -expected / (64 * np.log(2))
    np.testing.assert_allclose(model.bits_per_dim(x), bpd, rtol=1e-5)


def test_random_ordering_is_a_fixed_permutation():
    a, b = NADE((4, 4, 1), 3, ordering="random", seed=7), NADE((4, 4, 1), 3, "random", seed=7)
    np.testing.assert_array_equal(a.ordering_indices, b.ordering_indices)
    assert sorted(a.ordering_indices.tolist()) == list(range(16))
    assert not np.array_equal(a.ordering_indices, np.arange(16))
    assert not np.array_equal(a.ordering_indices, NADE((4, 4, 1), 3, "random", 8).ordering_indices)


def sharpened_nade(seed=0):
    model = NADE((2, 2, 1), hidden_units=4, seed=seed)
    for w in model.trainable_weights:
        w.assign(3.0 * tf.random.stateless_normal(w.shape, seed=[seed, len(w.shape)]))
    return model


def chi_square_p_value(samples: np.ndarray, log_prob: np.ndarray, support=None) -> float:
    """Pearson chi-square of sample counts over the 2^D states against ``exp(log_prob)``,
    restricted to the states in ``support`` (all by default)."""
    codes = samples.reshape(len(samples), -1) @ (2 ** np.arange(samples[0].size))
    observed = np.bincount(codes.astype(int), minlength=len(log_prob))
    support = np.ones(len(log_prob), bool) if support is None else support
    assert observed[~support].sum() == 0, "samples outside the support"
    expected = np.exp(log_prob[support].astype(np.float64))
    expected = expected / expected.sum() * len(samples)
    return stats.chisquare(observed[support], expected).pvalue


ALL_BINARY_4 = np.array(list(itertools.product([0.0, 1.0], repeat=4)), np.float32)[:, ::-1]


@pytest.mark.parametrize(
    "make", [sharpened_nade, lambda: IndependentBernoulli((2, 2, 1), seed=0)], ids=["nade", "ib"]
)
def test_sample_frequencies_match_exp_log_prob(make):
    model = make()
    if isinstance(model, IndependentBernoulli):
        model.logits.assign([[[-1.5], [0.5]], [[2.0], [0.0]]])
    states = ALL_BINARY_4.reshape(-1, 2, 2, 1)  # state s has bits of s, pixel 0 lowest
    samples = model.sample(20_000, seed=3).numpy()
    assert chi_square_p_value(samples, model.log_prob(states).numpy()) > 1e-3
    # the test has power: against the uniform distribution it fails
    assert chi_square_p_value(samples, np.zeros(16)) < 1e-6


def test_completion_samples_the_exact_conditional_of_later_pixels():
    model = sharpened_nade(seed=1)
    states = ALL_BINARY_4.reshape(-1, 2, 2, 1)
    observed = np.zeros([20_000, 2, 2, 1], np.float32)
    observed[:, 0, 0, 0], observed[:, 0, 1, 0] = 1.0, 0.0  # the first two pixels (raster order)
    mask = np.array([[1, 1], [0, 0]], np.float32)[..., None]
    samples = model.sample(20_000, seed=5, observed=observed, mask=mask).numpy()
    np.testing.assert_array_equal(samples[:, 0], observed[:, 0])
    keep = (states[:, 0, 0, 0] == 1) & (states[:, 0, 1, 0] == 0)
    # p(x_rest | x_observed) is proportional to p(x) on the states that agree with the observation
    assert chi_square_p_value(samples, model.log_prob(states).numpy(), support=keep) > 1e-3


@pytest.mark.parametrize("make", [NADE, RNADE], ids=["nade", "rnade"])
def test_sampling_is_stateless_and_identical_in_graph_and_eager(make):
    model = make((4, 4, 1), hidden_units=6, seed=0)
    eager = model.sample(5, seed=9)
    graph = tf.function(lambda s: model.sample(5, seed=s))(tf.constant(9))
    np.testing.assert_allclose(eager, graph, atol=1e-6)


def test_rnade_completion_keeps_observed_levels():
    model = RNADE((4, 4, 1), hidden_units=6, num_components=2, seed=0)
    observed = np.round(np.random.default_rng(0).random([3, 4, 4, 1]) * 255) / 255
    mask = np.zeros([4, 4, 1])
    mask[:2] = 1
    out = model.sample(3, seed=1, observed=observed, mask=mask).numpy()
    np.testing.assert_allclose(out[:, :2], observed[:, :2], atol=1e-6)


@pytest.mark.slow
def test_independent_bernoulli_reaches_the_pixel_mean_mle():
    train = digits(batch_size=1437)
    x = next(iter(train)).numpy()
    model = IndependentBernoulli((8, 8, 1), seed=0)
    model.compile(optimizer=keras.optimizers.Adam(0.1))
    model.fit(train, epochs=400, verbose=0)
    means = x.mean(axis=0)
    np.testing.assert_allclose(tf.sigmoid(model.logits), means, atol=5e-3)
    mle = IndependentBernoulli((8, 8, 1))
    mle.logits.assign(IndependentBernoulli.mle_logits(x))
    gap = float(tf.reduce_mean(mle.log_prob(x)) - tf.reduce_mean(model.log_prob(x)))
    assert 0 <= gap < 0.05, gap  # the MLE is the maximum, and training gets within 0.05 nats


@pytest.mark.slow
def test_nade_beats_the_independent_baseline_on_held_out_digits():
    test = next(iter(digits(batch_size=360, split="test")))
    scores = {}
    for model in (NADE((8, 8, 1), hidden_units=32, seed=0), IndependentBernoulli((8, 8, 1))):
        model.compile(optimizer=keras.optimizers.Adam(1e-2))
        model.fit(digits(), epochs=15, verbose=0)
        scores[type(model).__name__] = -float(tf.reduce_mean(model.log_prob(test)))
    assert scores["NADE"] < scores["IndependentBernoulli"] - 5, scores


def test_bad_completion_arguments_name_the_argument():
    model = NADE((4, 4, 1), hidden_units=3)
    x = np.zeros([2, 4, 4, 1], np.float32)
    with pytest.raises(ValueError, match="observed and mask"):
        model.sample(2, observed=x)
    with pytest.raises(ValueError, match="^observed"):
        model.sample(3, observed=x, mask=np.ones([4, 4, 1]))
    with pytest.raises(ValueError, match="^mask"):
        model.sample(2, observed=x, mask=np.ones([4, 4]))
    with pytest.raises(ValueError, match="^mask"):
        model.sample(2, observed=x, mask=np.full([4, 4, 1], 0.5))


def test_one_observed_image_and_bool_mask_broadcast_to_all_samples():
    model = sharpened_nade(seed=2)
    image = np.array([[[1.0], [0.0]], [[0.0], [0.0]]], np.float32)
    mask = np.array([[True, True], [False, False]])[..., None]
    one = model.sample(5, seed=1, observed=image, mask=mask)
    many = model.sample(5, seed=1, observed=np.repeat(image[None], 5, 0), mask=mask * 1.0)
    np.testing.assert_array_equal(one, many)
    np.testing.assert_array_equal(one[:, 0], np.broadcast_to(image[0], [5, 2, 1]))


def test_independent_completion_keeps_observed_pixels_and_checks_arguments():
    model = IndependentBernoulli((2, 2, 1), seed=0)
    observed = np.ones([6, 2, 2, 1], np.float32)
    mask = np.array([[1, 0], [0, 1]], np.float32)[..., None]
    out = model.sample(6, seed=0, observed=observed, mask=mask).numpy()
    np.testing.assert_array_equal(out[:, 0, 0], 1.0)
    np.testing.assert_array_equal(out[:, 1, 1], 1.0)
    with pytest.raises(ValueError, match="observed and mask"):
        model.sample(6, mask=mask)
    with pytest.raises(ValueError, match="^observed"):
        model.sample(5, observed=observed, mask=mask)
    with pytest.raises(ValueError, match="^mask"):
        model.sample(6, observed=observed, mask=np.full([2, 2, 1], 2.0))
