"""PixelCNN and gated PixelCNN: the shared battery, exact normalisation, causality, the blind
spot, cached == naive sampling and image completion."""

import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgen
from tfgen.models import GatedPixelCNN, PixelCNN
from tfgen.testing import GenerativeModelBattery

METRICS = ("loss", "bits_per_dim")


def digits(batch_size=32, binarize="static", labels=False, split="train"):
    return tfgen.data.load("digits", split, batch_size=batch_size, binarize=binarize, labels=labels)


class TestPixelCNN(GenerativeModelBattery):
    expected_metrics = METRICS

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
        logits = tf.reshape(model.logits(x), [-1])
    jac = tape.jacobian(logits, x)
    return np.abs(np.reshape(jac.numpy(), [logits.shape[0], -1])) > 0


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("shape", [(5, 5, 1), (3, 3, 3)], ids=["gray", "rgb"])
def test_every_logit_has_zero_gradient_wrt_its_pixel_and_all_later_ones(name, shape):
    model = MODELS[name](event_shape=shape, filters=6 if shape[-1] == 3 else 8)
    depends = jacobian_mask(model, shape)
    assert not np.triu(depends).any(), "a logit depends on its own or a later value"
    # not vacuous: later values do depend on the first (a few may not, through dead ReLUs of
    # the tiny output layer)
    assert depends[1:, 0].mean() > 0.75, depends[1:, 0]


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


@pytest.mark.parametrize("name", CASES)
def test_cached_and_naive_sampling_give_the_same_images(name):
    model = CASES[name]()
    labels = [0, 1, 2, 0, 1, 2] if model.conditional else None
    cached = model.sample(6, seed=5, labels=labels)  # "cached" is the default
    naive = model.sample(6, seed=5, labels=labels, method="naive")
    np.testing.assert_array_equal(cached, naive)
    assert not np.array_equal(cached, model.sample(6, seed=6, labels=labels))


@pytest.mark.parametrize("method", ["cached", "naive"])
def test_completion_keeps_observed_pixels_and_matches_across_methods(method):
    model = GatedPixelCNN((6, 6, 1), num_layers=2, filters=8, seed=0)
    observed = np.asarray(next(iter(digits(batch_size=4)))[:, 1:7, 1:7])
    mask = np.zeros([6, 6, 1], bool)
    mask[:3] = True  # top half given
    out = model.sample(4, seed=2, observed=observed, mask=mask, method=method).numpy()
    np.testing.assert_array_equal(out[:, :3], observed[:, :3])
    free = model.sample(4, seed=2, method=method).numpy()
    assert not np.array_equal(out, free)
    other = "naive" if method == "cached" else "cached"
    np.testing.assert_array_equal(
        out, model.sample(4, seed=2, observed=observed, mask=mask, method=other)
    )


def test_completion_of_a_fully_observed_image_returns_it():
    model = PixelCNN((5, 5, 1), num_layers=1, filters=8, seed=0)
    x = (np.random.default_rng(0).random([3, 5, 5, 1]) < 0.5).astype(np.float32)
    np.testing.assert_array_equal(model.sample(3, seed=0, observed=x, mask=np.ones_like(x)), x)


def test_bernoulli_pixel_frequencies_match_the_model_probability():
    """The first pixel's samples follow sigmoid(its logit) (it has no parents)."""
    model = PixelCNN((2, 2, 1), num_layers=1, filters=4, seed=0)
    p = float(tf.sigmoid(model.logits(tf.zeros([1, 2, 2, 1]))[0, 0, 0, 0]))
    freq = float(tf.reduce_mean(model.sample(4000, seed=1)[:, 0, 0, 0]))
    assert abs(freq - p) < 4 * np.sqrt(p * (1 - p) / 4000), (freq, p)


def test_predict_returns_per_pixel_logits():
    model = GatedPixelCNN((8, 8, 1), num_layers=2, filters=8, likelihood="categorical")
    x = next(iter(digits(batch_size=4, binarize=None)))
    out = model.predict(x, verbose=0)
    assert out.shape == (4, 8, 8, 256)
    np.testing.assert_allclose(out, model.logits(model.network_input(x)), atol=1e-5)


@pytest.mark.parametrize(
    "kwargs, arg",
    [({"num_layers": 0}, "num_layers"), ({"filters": 0}, "filters"),
     ({"kernel_size": 4}, "kernel_size"), ({"first_kernel_size": 1}, "first_kernel_size"),
     ({"likelihood": "gaussian"}, "likelihood"), ({"event_shape": (8, 8)}, "event_shape"),
     ({"event_shape": (4, 4, 3), "filters": 8}, "filters")],
)  # fmt: skip
@pytest.mark.parametrize("cls", [PixelCNN, GatedPixelCNN])
def test_bad_constructor_arguments_name_the_argument(cls, kwargs, arg):
    with pytest.raises(ValueError, match=arg):
        cls(**{"event_shape": (8, 8, 1), "num_layers": 1, "filters": 6, **kwargs})


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


@pytest.mark.slow
def test_training_lowers_test_nll_and_conditioning_helps():
    test = digits(batch_size=360, split="test", labels=True)
    results = {}
    for conditional in (False, True):
        keras.utils.set_random_seed(0)
        model = GatedPixelCNN(
            (8, 8, 1), num_layers=3, filters=16, num_classes=10 if conditional else None, seed=0
        )
        model.compile(optimizer=keras.optimizers.Adam(5e-3))
        before = model.evaluate(test, verbose=0, return_dict=True)["loss"]
        model.fit(digits(batch_size=64, labels=True), epochs=12, verbose=0)
        results[conditional] = model.evaluate(test, verbose=0, return_dict=True)["loss"]
        assert results[conditional] < before - 10, (before, results[conditional])
    assert results[True] < results[False], results  # labels carry information about the digit


def test_completion_mask_must_broadcast_and_hold_only_zeros_and_ones():
    model = PixelCNN((4, 4, 1), num_layers=1, filters=4)
    x = np.zeros([2, 4, 4, 1], np.float32)
    with pytest.raises(ValueError, match="mask"):
        model.sample(2, observed=x, mask=np.ones([4, 4]))  # [4, 4] does not fit [.., 4, 1]
    with pytest.raises(ValueError, match="mask"):
        model.sample(2, observed=x, mask=np.full([4, 4, 1], 0.5))


def test_sample_arguments_after_num_samples_are_keyword_only():
    with pytest.raises(TypeError, match="positional"):
        PixelCNN((4, 4, 1), num_layers=1, filters=4).sample(2, 0)
