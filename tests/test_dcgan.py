"""DCGAN, conditional DCGAN, MLP GAN and the mode-collapse remedies: battery plus closed forms."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgen
from tfgen.layers import ExperienceReplay, MinibatchDiscrimination
from tfgen.models.dcgan import DCGAN
from tfgen.models.gan import GAN
from tfgen.testing import GenerativeModelBattery

GAN_METRICS = ("d_loss", "g_loss", "d_real_accuracy", "d_fake_accuracy")
SMALL = dict(latent_dim=8, generator_filters=(32, 16), discriminator_filters=(16, 32))


def digits(labels=False, batch_size=32, split="train"):
    return tfgen.data.load("digits", split, batch_size=batch_size, labels=labels, scale=(-1, 1))


class TestDCGAN(GenerativeModelBattery):
    expected_metrics = GAN_METRICS
    bad_constructor_args = (
        ({"event_shape": (30, 30, 1)}, "event_shape"),  # sides not divisible by 4
        ({"event_shape": (28, 28)}, "event_shape"),
        ({"latent_dim": 0}, "latent_dim"),
        ({"generator_filters": ()}, "generator_filters"),
        ({"dropout": 1.0}, "dropout"),
        ({"minibatch_kernels": -1}, "minibatch_kernels"),
        ({"replay_size": 2.5}, "replay_size"),
        ({"replay_fraction": 0.0}, "replay_fraction"),
        ({"label_smoothing": 0.7}, "label_smoothing"),
        ({"num_classes": 1}, "num_classes"),
    )

    def make_model(self):
        return DCGAN(event_shape=(8, 8, 1), seed=0, **SMALL)

    def make_data(self):
        return digits()

    def assert_support(self, images):  # tanh outputs: [-1, 1], not [0, 1]
        images = np.asarray(images)
        assert np.all(np.isfinite(images)) and np.abs(images).max() <= 1.0
        assert images.std() > 0


class TestConditionalDCGANWithRemedies(TestDCGAN):
    def make_model(self):
        return DCGAN(
            event_shape=(8, 8, 1),
            num_classes=10,
            minibatch_kernels=8,
            minibatch_kernel_dim=3,
            replay_size=64,
            label_smoothing=0.1,
            seed=0,
            **SMALL,
        )

    def make_data(self):
        return digits(labels=True)


def ring_points(batch_size=64):
    angles = np.arange(512) % 8 * (2 * np.pi / 8)
    points = np.stack([np.cos(angles), np.sin(angles)], 1).astype(np.float32) * 2
    return tf.data.Dataset.from_tensor_slices(points).batch(batch_size)


class TestVectorGAN(TestDCGAN):
    bad_constructor_args = (
        ({"output_activation": "relu"}, "output_activation"),
        ({"event_shape": (2, 2)}, "event_shape"),  # vectors (D,) or images (H, W, C)
        ({"hidden_units": ()}, "hidden_units"),
        ({"latent_dim": 0}, "latent_dim"),
    )

    def make_model(self):
        return GAN(event_shape=(2,), latent_dim=4, hidden_units=(32, 32), replay_size=128, seed=0)

    def make_data(self):
        return ring_points()

    def assert_support(self, images):
        assert np.all(np.isfinite(images)) and np.asarray(images).std() > 0


def test_dcgan_architecture_is_radfords():
    model = DCGAN()
    gen = [type(layer).__name__ for layer in model.generator.layers[1:]]
    assert gen == [
        "Dense", "BatchNormalization", "ReLU", "Reshape",
        "Conv2DTranspose", "BatchNormalization", "ReLU", "Conv2DTranspose",
    ]  # fmt: skip
    assert model.generator.layers[-1].activation.__name__ == "tanh"
    assert [c.strides for c in model.generator.layers if "Transpose" in type(c).__name__] == [
        (2, 2),
        (2, 2),
    ]
    convs = [layer for layer in model.discriminator.layers if type(layer).__name__ == "Conv2D"]
    assert [(c.filters, c.strides) for c in convs] == [(64, (2, 2)), (128, (2, 2))]
    assert sum(type(layer).__name__ == "LeakyReLU" for layer in model.discriminator.layers) == 2
    assert model.generator.output_shape == (None, 28, 28, 1)
    assert model.discriminator.output_shape == (None,)


def test_losses_are_the_non_saturating_cross_entropies():
    model = DCGAN(event_shape=(8, 8, 1), seed=0, label_smoothing=0.1, **SMALL)
    x = next(iter(digits()))
    # The same model seed state gives the same fakes: recompute them from a copy of the stream.
    state = model._seed_generator.state.numpy().copy()
    d_loss, logs = model.discriminator_loss(x)
    model._seed_generator.state.assign(state)
    fakes = model.generate(model._latent(32, model._seed()))
    real, fake = model.discriminate(x).numpy(), model.discriminate(fakes).numpy()
    softplus = lambda t: np.log1p(np.exp(t))  # noqa: E731
    expected = np.mean(0.9 * softplus(-real) + 0.1 * softplus(real)) + np.mean(softplus(fake))
    np.testing.assert_allclose(d_loss, expected, rtol=1e-5)
    np.testing.assert_allclose(logs["d_real_accuracy"], np.mean(real > 0), atol=1e-6)
    np.testing.assert_allclose(logs["d_fake_accuracy"], np.mean(fake < 0), atol=1e-6)
    model._seed_generator.state.assign(state)
    g_loss, _ = model.generator_loss(x)
    np.testing.assert_allclose(g_loss, np.mean(softplus(-fake)), rtol=1e-5)


def test_generator_step_updates_only_the_generator_and_vice_versa():
    model = DCGAN(event_shape=(8, 8, 1), seed=0, **SMALL)
    model.compile()
    x = next(iter(digits()))
    snapshot = lambda vs: [v.numpy().copy() for v in vs]  # noqa: E731
    same = lambda a, vs: all(np.array_equal(x, v) for x, v in zip(a, vs, strict=True))  # noqa: E731
    g_before, d_before = (
        snapshot(model.generator_variables),
        snapshot(model.discriminator_variables),
    )
    model.discriminator_step(x)
    assert same(g_before, model.generator_variables)
    assert not same(d_before, model.discriminator_variables)
    d_after = snapshot(model.discriminator_variables)
    model.generator_step(x)
    assert same(d_after, model.discriminator_variables)
    assert not same(g_before, model.generator_variables)


def test_minibatch_discrimination_matches_the_formula():
    layer = MinibatchDiscrimination(num_kernels=4, kernel_dim=3)
    f = np.random.default_rng(0).normal(size=[6, 5]).astype(np.float32)
    out = layer(f).numpy()
    m = (f @ layer.kernel.numpy()).reshape(6, 4, 3)
    c = np.exp(-np.abs(m[:, None] - m[None]).sum(-1))  # [6, 6, 4]
    expected = (c.sum(1) - 1.0) / 5  # mean of c(i, j) over the B - 1 others j != i
    np.testing.assert_allclose(out[:, :5], f)
    np.testing.assert_allclose(out[:, 5:], expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="^num_kernels"):
        MinibatchDiscrimination(num_kernels=0)


def test_minibatch_features_are_in_0_1_whatever_the_batch_size():
    layer = MinibatchDiscrimination(num_kernels=4, kernel_dim=3)
    f = np.random.default_rng(0).normal(size=[1, 5]).astype(np.float32)
    for batch in (2, 6, 128):  # a collapsed batch (all identical): 1, not B - 1
        np.testing.assert_allclose(layer(np.repeat(f, batch, 0)).numpy()[:, 5:], 1.0)
    np.testing.assert_array_equal(layer(f).numpy()[:, 5:], 0.0)  # no other example: 0, no NaN


def test_minibatch_discrimination_does_not_saturate_the_discriminator_at_init():
    # The summed features (0 to B - 1 = 127) gave logits of about 20 on the ring at init.
    x = np.random.default_rng(0).normal(size=[128, 2]).astype(np.float32)
    for seed in range(3):
        plain = GAN(event_shape=(2,), hidden_units=(128, 128), seed=seed)
        mbd = GAN(
            event_shape=(2,),
            hidden_units=(128, 128),
            minibatch_kernels=8,
            minibatch_kernel_dim=4,
            seed=seed,
        )
        assert np.abs(mbd.discriminate(x)).max() < 3 * np.abs(plain.discriminate(x)).max() + 1.0


def test_experience_replay_fills_then_replaces_and_mixes_the_requested_share():
    replay = ExperienceReplay(capacity=5, event_shape=(1,))
    empty, _ = replay.mix(tf.zeros([4, 1]), tf.zeros([4], tf.int32), 0.5, [0, 0])
    np.testing.assert_array_equal(empty, np.zeros([4, 1]))  # nothing stored yet: unchanged
    replay.push(np.array([[1.0], [2.0], [3.0]]), np.array([1, 2, 3]))
    replay.push(np.array([[4.0], [5.0]]), np.array([4, 5]))
    np.testing.assert_array_equal(replay.examples.numpy()[:, 0], [1, 2, 3, 4, 5])  # filled in order
    replay.push(np.array([[7.0], [8.0], [9.0]]), np.array([7, 8, 9]))  # full: random slots
    stored = replay.examples.numpy()[:, 0]
    assert int(replay.count) == 8
    assert {7, 8, 9} <= set(stored.tolist()) and len(set(stored.tolist())) == 5  # distinct slots
    np.testing.assert_array_equal(replay.labels.numpy(), stored)  # labels travel along
    mixed, labels = replay.mix(tf.zeros([8, 1]), tf.zeros([8], tf.int32), 0.25, [1, 2])
    assert np.all(mixed.numpy()[:2] >= 1) and np.all(mixed.numpy()[2:] == 0)
    np.testing.assert_array_equal(labels.numpy(), mixed.numpy()[:, 0])


def test_experience_replay_keeps_a_long_tail_of_old_fakes():
    # Shrivastava et al.: new fakes overwrite random stored ones, so the stored ages are
    # geometric (mean capacity / batch = 10 pushes), not the last 10 pushes only (a FIFO).
    replay = ExperienceReplay(capacity=100, event_shape=(1,))
    for step in range(60):
        replay.push(np.full([10, 1], step, np.float32), np.zeros([10], np.int32))
    ages = 59 - replay.examples.numpy()[:, 0]
    assert ages.max() >= 15 and 6 < ages.mean() < 13  # a FIFO: max 9, mean 4.5
    again = ExperienceReplay(capacity=100, event_shape=(1,))  # reproducible without a seed
    for step in range(60):
        again.push(np.full([10, 1], step, np.float32), np.zeros([10], np.int32))
    np.testing.assert_array_equal(again.examples.numpy(), replay.examples.numpy())


@pytest.mark.slow
def test_replay_buffer_fills_during_fit_and_round_trips(tmp_path):
    model = DCGAN(event_shape=(8, 8, 1), num_classes=10, replay_size=100, seed=0, **SMALL)
    model.compile()
    model.fit(digits(labels=True), epochs=1, steps_per_epoch=2, verbose=0)
    assert int(model.replay.count) == 64
    path = str(tmp_path / "gan.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.replay.examples.numpy(), model.replay.examples.numpy())
    assert int(loaded.replay.count) == 64
    assert int(loaded.g_optimizer.iterations) == int(loaded.d_optimizer.iterations) == 2


def test_conditional_discriminator_depends_on_labels_and_requires_them():
    model = DCGAN(event_shape=(8, 8, 1), num_classes=10, seed=0, **SMALL)
    x = next(iter(digits()))[:4]
    zeros, ones = tf.zeros([4], tf.int32), tf.ones([4], tf.int32)
    assert not np.allclose(model.discriminate(x, zeros), model.discriminate(x, ones))
    with pytest.raises(ValueError, match="labels"):
        model.discriminate(x)


def test_a_gan_has_no_likelihood_to_predict():
    """call/predict return likelihood parameters in every other family: GANs raise, naming the
    methods to use instead."""
    model = GAN(event_shape=(2,), latent_dim=4, hidden_units=(8,), seed=0)
    x = tf.zeros([3, 2])
    for method in (model, lambda x: model.predict(x, verbose=0)):
        with pytest.raises(ValueError, match="discriminate") as info:
            method(x)
        assert info.match("sample")
    assert model.discriminate(x).shape == (3,)


@pytest.mark.slow
def test_conditional_dcgan_learns_label_dependent_digits(tmp_path):
    """A short run on 8x8 digits: the digits classifier recognises most conditional samples."""
    from tfgen.classifier import ClassifierConfig, get_classifier
    from tfgen.metrics import classifier_accuracy

    keras.utils.set_random_seed(0)
    model = DCGAN(event_shape=(8, 8, 1), num_classes=10, seed=0, **SMALL)
    model.compile(
        g_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5),
        d_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5),
    )
    labels = np.arange(500) % 10
    clf = get_classifier(
        "digits",
        ClassifierConfig(filters=(16, 32), feature_dim=32, epochs=10, batch_size=32),
        directory=tmp_path,
    )
    before = classifier_accuracy(model.sample(500, seed=0, labels=labels), labels, clf, (-1, 1))
    model.fit(digits(labels=True), epochs=20, verbose=0)
    after = classifier_accuracy(model.sample(500, seed=0, labels=labels), labels, clf, (-1, 1))
    print(f"conditional accuracy before {before:.3f}, after {after:.3f}")
    assert before < 0.3 and after > 0.6, (before, after)
