"""PixelRNN (Row LSTM, Diagonal BiLSTM): the shared battery, exact normalisation, causality, the
two receptive fields, scan == pixel-by-pixel reference, cached == naive sampling, sample
frequencies against exp(log_prob), and bad input."""

import itertools

import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

import tfgen
from tfgen.layers.pixel_lstm import DiagonalBiLSTM, RowLSTM, skew, unskew
from tfgen.models import PixelRNN
from tfgen.testing import GenerativeModelBattery
from tfgen.testing.causality import assert_causal, dependence

KINDS = ("row_lstm", "diagonal_bilstm")


def digits(batch_size=32, binarize="static", labels=False):
    return tfgen.data.load(
        "digits", "train", batch_size=batch_size, binarize=binarize, labels=labels
    )


class TestRowLSTM(GenerativeModelBattery):
    expected_metrics = ("loss", "bits_per_dim")
    bad_constructor_args = (
        ({"kind": "gru"}, "kind"),
        ({"num_layers": 0}, "num_layers"),
        ({"hidden_units": 0}, "hidden_units"),
        ({"kernel_size": 2}, "kernel_size"),
        ({"first_kernel_size": 1}, "first_kernel_size"),
        ({"likelihood": "gaussian"}, "likelihood"),
        ({"event_shape": (8, 8)}, "event_shape"),
        ({"event_shape": (4, 4, 3), "hidden_units": 4}, "hidden_units"),  # not a multiple of 3
    )

    def make_model(self):
        return PixelRNN((8, 8, 1), kind="row_lstm", num_layers=2, hidden_units=4, seed=0)

    def make_data(self):
        return digits()


class TestDiagonalBiLSTM(TestRowLSTM):
    def make_model(self):
        return PixelRNN((8, 8, 1), kind="diagonal_bilstm", num_layers=2, hidden_units=4, seed=0)


class TestConditionalDiagonalBiLSTM(TestRowLSTM):
    pytestmark = pytest.mark.slow  # the fast tier runs two batteries; CI runs all four

    def make_model(self):
        return PixelRNN((8, 8, 1), num_layers=1, hidden_units=4, num_classes=10, seed=0)

    def make_data(self):
        return digits(labels=True)


class TestCategoricalRowLSTM(TestRowLSTM):
    pytestmark = pytest.mark.slow
    sample_support = "levels"

    def make_model(self):
        return PixelRNN((8, 8, 1), "row_lstm", 1, 4, likelihood="categorical", seed=0)

    def make_data(self):
        return digits(binarize=None)


def all_binary_images(shape):
    n = int(np.prod(shape))
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)), np.float32).reshape(-1, *shape)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", [(2, 2, 1), (2, 1, 2)], ids=["2x2", "2x1x2channels"])
def test_probabilities_of_all_binary_images_sum_to_one(kind, shape):
    model = PixelRNN(shape, kind=kind, num_layers=2, hidden_units=4, seed=0)
    x = all_binary_images(shape)
    assert len(x) == 16
    np.testing.assert_allclose(np.exp(model.log_prob(x)).sum(), 1.0, rtol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_probabilities_sum_to_one_for_every_label(kind):
    model = PixelRNN((2, 2, 1), kind=kind, num_layers=1, hidden_units=4, num_classes=3, seed=0)
    x = all_binary_images((2, 2, 1))
    totals = [np.exp(model.log_prob(x, np.full(16, k))).sum() for k in range(3)]
    np.testing.assert_allclose(totals, 1.0, rtol=1e-5)
    assert not np.allclose(
        model.log_prob(x, np.zeros(16, int)), model.log_prob(x, np.ones(16, int))
    )


@pytest.mark.parametrize("kind", KINDS)
def test_categorical_probabilities_sum_to_one(kind):
    model = PixelRNN((1, 2, 1), kind, 1, 4, likelihood="categorical", seed=0)
    levels = np.arange(256, dtype=np.float32) / 255.0
    x = np.stack(np.meshgrid(levels, levels, indexing="ij"), -1).reshape(-1, 1, 2, 1)
    np.testing.assert_allclose(np.exp(model.log_prob(x)).sum(), 1.0, rtol=1e-4)


def field(kind, shape=(7, 9, 1), num_layers=1, seed=0):
    """``[D, D]`` bool: output position i depends on input position j (full Jacobian)."""
    model = PixelRNN(shape, kind=kind, num_layers=num_layers, hidden_units=4, seed=seed)
    x = tf.cast(tf.random.stateless_uniform([3, *shape], [seed, 1]) < 0.5, tf.float32)
    return dependence(model, x) > 0


@pytest.mark.parametrize("kind", KINDS)
def test_causal_by_the_full_jacobian_with_colour_channels(kind):
    model = PixelRNN((2, 3, 3), kind=kind, num_layers=2, hidden_units=6, seed=0)
    dep = dependence(model, tf.random.stateless_uniform([4, 2, 3, 3], [0, 1]))
    assert_causal(dep)  # raster order over (row, column, channel): R before G before B


@pytest.mark.parametrize(
    "num_layers", [1, pytest.param(2, marks=pytest.mark.slow)], ids=["1layer", "2layers"]
)
def test_diagonal_bilstm_sees_the_whole_context(num_layers):
    seen = field("diagonal_bilstm", (3, 6, 1), num_layers=num_layers)
    earlier = np.tril(np.ones_like(seen), k=-1)
    assert seen[earlier].all(), "an earlier pixel is not seen"
    assert not seen[~earlier].any()
    # e.g. pixel (2, 0) sees (1, 5), the last of the row above, through the right-to-left scan
    assert seen[2 * 6 + 0, 1 * 6 + 5]


def test_row_lstm_sees_its_triangle_only():
    """One Row LSTM layer (k = 3) after the 7x7 mask-A convolution: pixel (r, c) sees row
    r - d (d >= 1) at columns c - d - 4 .. c + d + 2 and its own row at c - 4 .. c - 1, nothing
    else (the triangle of the paper's figure, widened by the input convolution's reach)."""
    h, w = 7, 9
    seen = field("row_lstm", (h, w, 1)).reshape(h, w, h, w)
    for r, c in [(6, 4), (5, 1), (3, 7), (6, 0)]:
        expected = np.zeros([h, w], bool)
        expected[r, max(c - 4, 0) : c] = True
        for d in range(1, r + 1):
            expected[r - d, max(c - d - 4, 0) : c + d + 3] = True
        np.testing.assert_array_equal(seen[r, c], expected, err_msg=f"pixel {(r, c)}")
    # the Row LSTM misses earlier pixels the Diagonal BiLSTM sees, e.g. (5, 8) for pixel (6, 0)
    assert not seen[6, 0, 5, 8] and not seen[6, 5, 6, 0]


def test_skew_and_unskew():
    x = tf.reshape(tf.range(1, 13), [1, 3, 4, 1])
    skewed = skew(x)[0, :, :, 0].numpy()
    assert skewed.shape == (3, 6)  # W + H - 1 columns: the 2N - 1 steps of an N x N image
    np.testing.assert_array_equal(skewed[1], [0, 5, 6, 7, 8, 0])
    np.testing.assert_array_equal(skewed[:, 2], [3, 6, 9])  # a column is an anti-diagonal
    np.testing.assert_array_equal(unskew(skew(x), 4), x)


def test_diagonal_scan_equals_the_pixel_by_pixel_reference():
    layer = DiagonalBiLSTM(6, data_channels=3)
    x, image = tf.random.normal([2, 5, 7, 12], seed=1), tf.random.normal([2, 5, 7, 3], seed=2)
    fast, reference = layer(x, image), layer.call_reference(x, image)
    assert float(tf.reduce_max(tf.abs(fast))) > 0.05
    np.testing.assert_allclose(fast, reference, atol=1e-5)


def test_lstm_layers_check_their_arguments():
    with pytest.raises(ValueError, match="^units"):
        RowLSTM(5, data_channels=3)
    with pytest.raises(ValueError, match="^kernel_size"):
        RowLSTM(4, kernel_size=1)
    with pytest.raises(ValueError, match="^units"):
        DiagonalBiLSTM(0)


CASES = {
    "row": lambda: PixelRNN((5, 6, 1), "row_lstm", num_layers=2, hidden_units=4, seed=0),
    "diagonal": lambda: PixelRNN((6, 5, 1), num_layers=2, hidden_units=4, seed=0),
    "row_labels": lambda: PixelRNN((5, 5, 1), "row_lstm", 1, 4, num_classes=3, seed=0),
    "diagonal_labels": lambda: PixelRNN((5, 5, 1), num_layers=1, hidden_units=4, num_classes=3),
    "categorical": lambda: PixelRNN((4, 4, 1), "row_lstm", 2, 4, likelihood="categorical"),
    "diagonal_rgb": lambda: PixelRNN((2, 3, 3), num_layers=2, hidden_units=6, seed=0),
    "row_rgb": lambda: PixelRNN((2, 3, 3), "row_lstm", num_layers=2, hidden_units=6, seed=0),
}
FAST = ("row_labels", "diagonal_labels")


@pytest.mark.parametrize(
    "name", [n if n in FAST else pytest.param(n, marks=pytest.mark.slow) for n in CASES]
)
def test_cached_and_naive_sampling_give_the_same_images(name):
    model = CASES[name]()
    labels = [0, 1, 2, 0, 1, 2] if model.conditional else None
    cached = model.sample(6, seed=5, labels=labels)
    np.testing.assert_array_equal(cached, model.sample(6, seed=5, labels=labels, method="naive"))
    assert not np.array_equal(cached, model.sample(6, seed=6, labels=labels))


@pytest.mark.parametrize("kind", KINDS)
def test_completion_keeps_observed_pixels_and_matches_across_methods(kind):
    model = PixelRNN((6, 6, 1), kind=kind, num_layers=1, hidden_units=4, seed=0)
    observed = np.asarray(next(iter(digits(batch_size=4)))[:, 1:7, 1:7])
    mask = np.zeros([6, 6, 1], bool)
    mask[:3] = True
    out = [
        model.sample(4, seed=2, observed=observed, mask=mask, method=m) for m in ("cached", "naive")
    ]
    np.testing.assert_array_equal(out[0][:, :3], observed[:, :3])
    np.testing.assert_array_equal(out[0], out[1])


def chi_square_p_value(samples: np.ndarray, log_prob: np.ndarray) -> float:
    """Pearson chi-square of the counts of the 16 2x2 images against ``exp(log_prob)``."""
    codes = samples.reshape(len(samples), -1) @ (2 ** np.arange(samples[0].size))[::-1]
    observed = np.bincount(codes.astype(int), minlength=len(log_prob))
    expected = np.exp(log_prob.astype(np.float64))
    return stats.chisquare(observed, expected / expected.sum() * len(samples)).pvalue


@pytest.mark.parametrize("kind", KINDS)
def test_sample_frequencies_match_exp_log_prob(kind):
    model = PixelRNN((2, 2, 1), kind=kind, num_layers=1, hidden_units=4, seed=0)
    for w in model.trainable_weights:  # perturb: a far-from-uniform target, no empty state
        w.assign(w + 0.3 * tf.random.stateless_normal(w.shape, seed=[1, len(w.shape)]))
    states = all_binary_images((2, 2, 1))  # state s: bits of s, pixel 0 highest
    log_prob = model.log_prob(states).numpy()
    samples = model.sample(20_000, seed=3).numpy()
    assert chi_square_p_value(samples, log_prob) > 1e-3
    # the test has power: against the uniform distribution it fails
    assert chi_square_p_value(samples, np.zeros(16)) < 1e-6


def test_bad_input_names_the_argument():
    model = PixelRNN((4, 4, 1), "row_lstm", num_layers=1, hidden_units=4)
    with pytest.raises(ValueError, match="^x must"):
        model.log_prob(np.zeros([2, 5, 4, 1], np.float32))
    with pytest.raises(ValueError, match="^x must"):
        model.log_prob(np.full([2, 4, 4, 1], np.nan, np.float32))  # not finite
    categorical_levels = np.full([2, 4, 4, 1], 0.5, np.float32)  # between levels 127 and 128
    with pytest.raises(ValueError, match="labels must be None"):
        model.log_prob(np.zeros([2, 4, 4, 1], np.float32), labels=[0, 1])
    categorical = PixelRNN((4, 4, 1), num_layers=1, hidden_units=4, likelihood="categorical")
    with pytest.raises(ValueError, match="^x must"):
        categorical.log_prob(np.full([2, 4, 4, 1], 1.5, np.float32))
    with pytest.raises(ValueError, match="^x must be levels"):
        categorical.log_prob(categorical_levels)
    with pytest.raises(ValueError, match="^method"):
        model.sample(2, method="fast")
    assert model.sequential_steps == 4 and categorical.sequential_steps == 7  # N and 2N - 1
