"""PixelCNN and gated PixelCNN: the shared battery, exact normalisation, channel-order causality,
the blind spot, cached == naive sampling, image completion and the sampling module's pieces."""

import itertools

import numpy as np
import pytest
import tensorflow as tf

import tfgen
from tfgen.export import endpoint_names
from tfgen.models import GatedPixelCNN, PixelCNN
from tfgen.models import pixelcnn_sampling as sampling
from tfgen.models.pixelcnn import PixelCNNBase
from tfgen.testing import GenerativeModelBattery

METRICS = ("loss", "bits_per_dim")


def digits(batch_size=32, binarize="static", labels=False, split="train"):
    return tfgen.data.load("digits", split, batch_size=batch_size, binarize=binarize, labels=labels)


class TestPixelCNN(GenerativeModelBattery):
    expected_metrics = METRICS
    bad_constructor_args = (
        ({"num_layers": 0}, "num_layers"),
        ({"filters": 0}, "filters"),
        ({"kernel_size": 4}, "kernel_size"),
        ({"first_kernel_size": 1}, "first_kernel_size"),
        ({"output_filters": 0}, "output_filters"),
        ({"likelihood": "gaussian"}, "likelihood"),
        ({"event_shape": (8, 8)}, "event_shape"),
        ({"event_shape": (4, 4, 3), "filters": 8}, "filters"),  # not divisible by 3 channels
    )

    def make_model(self):
        return PixelCNN(event_shape=(8, 8, 1), num_layers=2, filters=8, seed=0)

    def make_data(self):
        return digits()


class TestGatedPixelCNN(TestPixelCNN):
    def make_model(self):
        return GatedPixelCNN(event_shape=(8, 8, 1), num_layers=3, filters=8, seed=0)


class TestConditionalGatedPixelCNN(TestPixelCNN):
    def make_model(self):
        return GatedPixelCNN(event_shape=(8, 8, 1), num_layers=2, filters=8, num_classes=10, seed=0)

    def make_data(self):
        return digits(labels=True)


class TestCategoricalPixelCNN(TestPixelCNN):
    sample_support = "levels"

    def make_model(self):
        return PixelCNN(
            event_shape=(8, 8, 1), num_layers=1, filters=8, likelihood="categorical", seed=0
        )

    def make_data(self):
        return digits(binarize=None)


def all_binary_images(shape):
    n = int(np.prod(shape))
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)), np.float32).reshape(-1, *shape)


MODELS = {
    "pixelcnn": lambda **kw: PixelCNN(**{"num_layers": 2, "filters": 8, "seed": 0, **kw}),
    "gated": lambda **kw: GatedPixelCNN(**{"num_layers": 2, "filters": 8, "seed": 0, **kw}),
}


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("shape", [(2, 2, 1), (2, 1, 2)], ids=["2x2", "2x1x2channels"])
def test_probabilities_of_all_binary_images_sum_to_one(name, shape):
    model = MODELS[name](event_shape=shape)
    x = all_binary_images(shape)
    assert len(x) == 16
    np.testing.assert_allclose(np.exp(model.log_prob(x)).sum(), 1.0, rtol=1e-5)


@pytest.mark.parametrize("name", MODELS)
def test_probabilities_sum_to_one_for_every_label(name):
    model = MODELS[name](event_shape=(2, 2, 1), num_classes=3)
    x = all_binary_images((2, 2, 1))
    totals = [np.exp(model.log_prob(x, np.full(16, k))).sum() for k in range(3)]
    np.testing.assert_allclose(totals, 1.0, rtol=1e-5)
    # and the labels matter
    assert not np.allclose(
        model.log_prob(x, np.zeros(16, int)), model.log_prob(x, np.ones(16, int))
    )


def test_categorical_probabilities_sum_to_one():
    model = PixelCNN(event_shape=(1, 2, 1), num_layers=1, filters=4, likelihood="categorical")
    levels = np.arange(256, dtype=np.float32) / 255.0
    x = np.stack(np.meshgrid(levels, levels, indexing="ij"), -1).reshape(-1, 1, 2, 1)
    np.testing.assert_allclose(np.exp(model.log_prob(x)).sum(), 1.0, rtol=1e-4)


def jacobian_mask(model, shape, seed=0):
    """``[D, D]`` bool: output i (logit of value i in raster order) depends on input j."""
    x = tf.cast(tf.random.stateless_uniform([1, *shape], [seed, 1]) < 0.5, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        logits = tf.reshape(model(x), [-1])
    jac = tape.jacobian(logits, x)
    return np.abs(np.reshape(jac.numpy(), [logits.shape[0], -1])) > 0


@pytest.mark.parametrize("name", MODELS)
def test_colour_channels_are_ordered_within_a_pixel(name):
    """R sees nothing of its own pixel, G sees R, B sees R and G (the battery's models are grey,
    so the channel-group masks of the centre taps are checked here)."""
    model = MODELS[name](event_shape=(3, 3, 3), filters=6)
    x = tf.random.stateless_uniform([8, 3, 3, 3], [0, 1])  # 8 images: no dead-ReLU accident
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        logits = model(x)[:, 1, 1]  # the centre pixel's R, G, B logits
        sums = [tf.reduce_sum(logits[:, ch]) for ch in range(3)]
    for ch in range(3):
        grad = np.abs(tape.gradient(sums[ch], x).numpy()).sum(axis=0)  # [3, 3, 3]
        seen = grad[1, 1] > 0
        assert seen.tolist() == [i < ch for i in range(3)], (ch, grad[1, 1])
        assert not grad[1, 2:].any() and not grad[2:].any(), "a later pixel is seen"


def test_gated_model_has_no_blind_spot_while_pixelcnn_has_one():
    shape = (6, 6, 1)
    gated = jacobian_mask(GatedPixelCNN(shape, num_layers=3, filters=8, seed=0), shape)
    plain = jacobian_mask(PixelCNN(shape, num_layers=3, filters=8, seed=0), shape)
    earlier = np.tril(np.ones_like(gated), k=-1)
    assert gated[earlier].all(), "gated PixelCNN: every earlier pixel is in the receptive field"
    # PixelCNN: pixel (3, 0) never sees (2, 4), up and right of it beyond the 7x7 first layer's
    # reach, however deep the stack: the known blind spot. It does see (2, 3) and (0, 5).
    i, index = 3 * 6 + 0, lambda r, c: r * 6 + c
    assert not plain[i, index(2, 4)] and not plain[i, index(2, 5)]
    assert plain[i, index(2, 3)] and plain[i, index(0, 5)]
    assert not plain[earlier].all()


CASES = {
    "pixelcnn": lambda: PixelCNN((7, 6, 1), num_layers=2, filters=8, seed=0),
    "gated": lambda: GatedPixelCNN((7, 6, 1), num_layers=3, filters=8, seed=0),
    "gated_labels": lambda: GatedPixelCNN((6, 6, 1), num_layers=2, filters=8, num_classes=3),
    "pixelcnn_labels": lambda: PixelCNN((6, 6, 1), num_layers=1, filters=8, num_classes=3),
    "categorical": lambda: GatedPixelCNN((5, 5, 1), 2, 8, likelihood="categorical", seed=0),
    "rgb": lambda: PixelCNN((4, 4, 3), num_layers=2, filters=6, seed=0),
    "gated_rgb": lambda: GatedPixelCNN((4, 4, 3), num_layers=2, filters=6, seed=0),
}
FAST_CASES = ("pixelcnn_labels", "gated_labels", "categorical", "gated_rgb")  # one of each kind


@pytest.mark.parametrize(
    "name",
    [n if n in FAST_CASES else pytest.param(n, marks=pytest.mark.slow) for n in CASES],
)
def test_cached_and_naive_sampling_give_the_same_images(name):
    model = CASES[name]()
    labels = [0, 1, 2, 0, 1, 2] if model.conditional else None
    cached = model.sample(6, seed=5, labels=labels)  # "cached" is the default
    naive = model.sample(6, seed=5, labels=labels, method="naive")
    np.testing.assert_array_equal(cached, naive)
    assert not np.array_equal(cached, model.sample(6, seed=6, labels=labels))
    if model.conditional:  # labels drawn from the seed: the same for both methods
        drawn = model.sample(6, seed=5)
        np.testing.assert_array_equal(drawn, model.sample(6, seed=5, method="naive"))


def test_completion_keeps_observed_pixels_and_matches_across_methods():
    model = GatedPixelCNN((6, 6, 1), num_layers=2, filters=8, seed=0)
    observed = np.asarray(next(iter(digits(batch_size=4)))[:, 1:7, 1:7])
    mask = np.zeros([6, 6, 1], bool)
    mask[:3] = True  # top half given
    out = {
        method: model.sample(4, seed=2, observed=observed, mask=mask, method=method).numpy()
        for method in sampling.METHODS
    }
    np.testing.assert_array_equal(out["cached"][:, :3], observed[:, :3])
    np.testing.assert_array_equal(out["cached"], out["naive"])
    assert not np.array_equal(out["cached"], model.sample(4, seed=2).numpy())  # the rest is drawn


def test_completion_of_a_fully_observed_image_returns_it():
    model = PixelCNN((5, 5, 1), num_layers=1, filters=8, seed=0)
    x = (np.random.default_rng(0).random([3, 5, 5, 1]) < 0.5).astype(np.float32)
    np.testing.assert_array_equal(model.sample(3, seed=0, observed=x, mask=np.ones_like(x)), x)


def test_bernoulli_pixel_frequencies_match_the_model_probability():
    """The first pixel's samples follow sigmoid(its logit) (it has no parents)."""
    model = PixelCNN((2, 2, 1), num_layers=1, filters=4, seed=0)
    p = float(tf.sigmoid(model(tf.zeros([1, 2, 2, 1]))[0, 0, 0, 0]))
    freq = float(tf.reduce_mean(model.sample(4000, seed=1)[:, 0, 0, 0]))
    assert abs(freq - p) < 4 * np.sqrt(p * (1 - p) / 4000), (freq, p)


def test_predict_returns_per_pixel_logits_of_the_likelihood():
    model = GatedPixelCNN((8, 8, 1), 2, 8, likelihood="categorical", num_classes=10, seed=0)
    x, labels = next(iter(digits(batch_size=4, binarize=None, labels=True)))
    out = model.predict((x, labels), verbose=0)
    assert out.shape == (4, 8, 8, 256)
    np.testing.assert_allclose(out, model.logits(model.network_input(x), labels), atol=1e-5)
    # the logits are those log_prob scores: log p(x) = sum of the chosen levels' log-softmax
    log_softmax = tf.nn.log_softmax(tf.reshape(out, [4, 8, 8, 256]))
    levels = tf.one_hot(tf.cast(tf.round(x[..., 0] * 255), tf.int32), 256)
    chosen = tf.reduce_sum(levels * log_softmax, -1)
    np.testing.assert_allclose(tf.reduce_sum(chosen, [1, 2]), model.log_prob(x, labels), rtol=1e-5)
    assert endpoint_names(model) == ("sample", "predict", "log_prob")


class Checkerboard:
    """The sampling protocol with no network: pixel (r, c) is 1 when r + c is even (logits
    +-30); the cached steps count rows in their state, so a wrong loop shows up."""

    event_shape = (3, 4, 1)
    input_padding = 1
    image_likelihood = tfgen.distributions.get_likelihood("bernoulli")

    def logits(self, x, labels):
        r, c = np.meshgrid(np.arange(3), np.arange(4), indexing="ij")
        board = np.where((r + c) % 2 == 0, 30.0, -30.0)[None, :, :, None]
        return tf.tile(tf.constant(board, tf.float32), [tf.shape(x)[0], 1, 1, 1])

    def cache_init(self, n, labels):
        return tf.zeros([n]), None

    def cache_row(self, state, consts, x_pad, r):
        return state + 1.0, tf.cast(r, tf.float32)

    def cache_pixel(self, state, consts, row, x_pad, r, c):
        parity = tf.cast((r + c) % 2, tf.float32)
        rows_seen = state - 1.0 - row  # 0 when cache_row ran once per row, in order
        return (30.0 - 60.0 * parity + 1e3 * rows_seen)[:, None], state


@pytest.mark.parametrize("method", sampling.METHODS)
def test_the_generic_loop_runs_any_model_with_the_sampling_protocol(method):
    model = Checkerboard()
    observed, mask = tf.zeros([2, 3, 4, 1]), tf.zeros([2, 3, 4, 1], tf.bool)
    images = sampling.sample(model, method, 2, tf.constant([0, 1]), None, observed, mask)
    expected = model.logits(tf.zeros([2, 3, 4, 1]), None) > 0
    np.testing.assert_array_equal(images, tf.cast(expected, tf.float32))
    for cls in (PixelCNN, GatedPixelCNN):  # each network brings its own cached steps
        for step in ("logits", "cache_init", "cache_row", "cache_pixel"):
            assert getattr(cls, step) is not getattr(PixelCNNBase, step), (cls, step)


def test_sampling_helpers():
    bernoulli = tfgen.distributions.get_likelihood("bernoulli")
    seed = tf.constant([3, 4])
    logits = tf.constant([[0.0], [0.0], [0.0], [0.0]])
    u = tf.random.stateless_uniform([4, 1], tf.random.experimental.stateless_fold_in(seed, 7))
    np.testing.assert_array_equal(
        sampling.draw(bernoulli, logits, seed, 7, 0, 1), tf.cast(u[:, 0] < 0.5, tf.float32)
    )
    np.testing.assert_array_equal(
        sampling.put(tf.zeros([2, 3, 1]), 2, tf.ones([2, 1]))[:, :, 0], [[0, 0, 1], [0, 0, 1]]
    )
    np.testing.assert_allclose(
        sampling.gate(tf.constant([[2.0, -1.0]])), np.tanh(2.0) / (1 + np.exp(1.0)), rtol=1e-6
    )


def test_bad_sampling_arguments_name_the_argument():
    model = PixelCNN((4, 4, 1), num_layers=1, filters=4)
    with pytest.raises(ValueError, match="method"):
        model.sample(2, method="fast")
    with pytest.raises(ValueError, match="mask"):
        model.sample(2, observed=np.zeros([4, 4, 1]))
    with pytest.raises(ValueError, match="observed"):
        model.sample(2, observed=np.zeros([3, 3, 1]), mask=np.ones([3, 3, 1]))
    with pytest.raises(ValueError, match="observed"):
        model.sample(2, observed=np.full([4, 4, 1], 2.0), mask=np.ones([4, 4, 1]))
    x = np.zeros([2, 4, 4, 1], np.float32)
    with pytest.raises(ValueError, match="mask"):
        model.sample(2, observed=x, mask=np.ones([4, 4]))  # [4, 4] does not fit [.., 4, 1]
    with pytest.raises(ValueError, match="mask"):
        model.sample(2, observed=x, mask=np.full([4, 4, 1], 0.5))
