"""ConditionalVAE: the shared battery for both conditionings, label validation, conditioning."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgen
from tfgen.models import CVAE, VAE, ConditionalVAE
from tfgen.testing import GenerativeModelBattery

ELBO_METRICS = ("loss", "elbo", "kl", "reconstruction", "bits_per_dim")


def digits(batch_size=64, split="train", labels=True):
    return tfgen.data.load("digits", split, batch_size=batch_size, binarize="static", labels=labels)


class TestConditionalVAE(GenerativeModelBattery):
    expected_metrics = ELBO_METRICS
    log_prob_kwargs = {"importance_samples": 16, "seed": 5}
    bad_constructor_args = (
        ({"conditioning": "film"}, "conditioning"),
        ({"embedding_dim": 0}, "embedding_dim"),
        ({"num_classes": 1}, "num_classes"),
        ({"num_classes": None}, "num_classes"),
        ({"latent_dim": 0}, "latent_dim"),
    )

    def make_model(self):
        return ConditionalVAE(event_shape=(8, 8, 1), num_classes=10, latent_dim=2, seed=0)

    def make_data(self):
        return digits()

    def sample_mean_kwargs(self):
        return {"mean": True}


class TestConditionalVAEEmbedding(TestConditionalVAE):
    def make_model(self):
        return ConditionalVAE(
            event_shape=(8, 8, 1),
            num_classes=10,
            latent_dim=3,
            conditioning="embedding",
            embedding_dim=4,
            prior="mixture",
            prior_components=3,
            seed=0,
        )


@pytest.fixture(scope="module")
def trained_cvae():
    keras.utils.set_random_seed(0)
    model = ConditionalVAE(event_shape=(8, 8, 1), num_classes=10, latent_dim=2, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    model.fit(digits(), epochs=15, verbose=0)
    return model


def test_alias_and_network_inputs():
    assert CVAE is ConditionalVAE
    model = CVAE(event_shape=(8, 8, 1), num_classes=5, latent_dim=3)
    assert model.encoder.input_shape == (None, 8, 8, 1 + 5)  # one-hot label channels
    assert model.decoder.input_shape == (None, 3 + 5)
    emb = CVAE(event_shape=(8, 8, 1), num_classes=5, conditioning="embedding", embedding_dim=7)
    assert emb.encoder.input_shape == (None, 8, 8, 8) and emb.decoder.input_shape == (None, 9)
    assert any("label_embedding" in w.path for w in emb.trainable_weights)


def test_predict_is_the_label_conditioned_logits_and_requires_labels():
    model = CVAE(event_shape=(8, 8, 1), num_classes=10, seed=0)
    x, y = next(iter(digits(batch_size=8)))
    logits = model.predict((x, y), verbose=0)
    np.testing.assert_allclose(tf.sigmoid(logits), model.reconstruct(x, y), atol=1e-5)
    assert not np.allclose(logits, model.predict((x, (y + 1) % 10), verbose=0))
    with pytest.raises(ValueError, match="labels"):
        model.predict(x, verbose=0)


def test_onehot_features_are_exactly_the_labels_one_hot():
    model = CVAE(event_shape=(8, 8, 1), num_classes=4)
    x = tf.random.uniform([3, 8, 8, 1])
    inputs = model.encoder_inputs(x, [0, 3, 1]).numpy()
    np.testing.assert_array_equal(inputs[..., :1], x.numpy())
    np.testing.assert_array_equal(inputs[:, 5, 2, 1:], np.eye(4)[[0, 3, 1]])
    z = tf.zeros([3, 2])
    np.testing.assert_array_equal(model.decoder_inputs(z, [2, 2, 0])[:, 2:], np.eye(4)[[2, 2, 0]])


@pytest.mark.parametrize(
    "labels, message",
    [
        (None, "labels are required"),
        ([0, 1], "3 entries"),  # count
        ([[0], [1], [2]], r"shape \[N\]"),  # shape
        ([0.0, 1.0, 2.0], "integer"),  # dtype
        ([0, 1, 10], r"\[0, 10\)"),  # range
        ([-1, 1, 2], r"\[0, 10\)"),
    ],
)
def test_bad_labels_raise_value_errors_naming_labels(labels, message):
    model = CVAE(event_shape=(8, 8, 1))
    x = tf.zeros([3, 8, 8, 1])
    for method in (model.elbo, model.log_prob, model.encode, model.reconstruct):
        with pytest.raises(ValueError, match="labels") as info:
            method(x, labels)
        assert info.match(message)
    with pytest.raises(ValueError, match="labels"):
        model.decode(tf.zeros([3, 2]), labels)
    if labels is not None:
        with pytest.raises(ValueError, match="labels"):
            model.sample(3, labels=labels)


def test_traced_label_checks_fail_at_run_time():
    model = CVAE(event_shape=(8, 8, 1))
    elbo = tf.function(lambda x, y: model.elbo(x, y, seed=0))
    x = tf.zeros([2, 8, 8, 1])
    assert elbo(x, tf.constant([1, 2])).shape == (2,)
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_classes"):
        elbo(x, tf.constant([1, 12]))


def test_labels_drawn_for_labels_none_are_uniform_over_the_classes():
    model = CVAE(event_shape=(8, 8, 1), num_classes=4)
    # the rule: stateless_uniform over [0, num_classes) at the sample seed folded with 1
    seed = tf.random.experimental.stateless_fold_in(tfgen.models.inputs.seed_pair(3), 1)
    expected = tf.random.stateless_uniform([8], seed, maxval=4, dtype=tf.int32)
    a = model.sample(8, seed=3, mean=True)
    np.testing.assert_array_equal(a, model.sample(8, seed=3, labels=expected, mean=True))
    drawn = model._sample_labels(None, 4000, model._seed(3)).numpy()
    counts = np.bincount(drawn, minlength=4)
    assert counts.min() > 900, counts  # uniform over the classes


def test_elbo_equals_a_vae_with_the_same_weights_given_the_label_features():
    """The CVAE is the VAE's computation on (x, one-hot) inputs: nothing else changes."""
    model = CVAE(event_shape=(8, 8, 1), num_classes=10, seed=0)
    x, y = next(iter(digits(batch_size=16)))
    q = model.encode(x, y)
    z = q.mean()
    logits = model.decoder(tf.concat([z, tf.one_hot(y, 10)], -1))
    expected = tfgen.distributions.bernoulli_image(logits).log_prob(x)
    np.testing.assert_allclose(model.decode(z, y).log_prob(x), expected, rtol=1e-6)
    closed = 0.5 * np.sum(q.mean() ** 2 + q.variance() - 1 - np.log(q.variance()), -1)
    np.testing.assert_allclose(model.elbo_terms(x, y)["kl"], closed, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_trained_model_uses_the_label(trained_cvae):
    """Right labels give a better IWAE bound than wrong ones, and beat an unconditional VAE."""
    x, y = next(iter(digits(batch_size=360, split="test")))
    right = trained_cvae.log_prob(x, y, importance_samples=50, seed=0).numpy().mean()
    wrong = trained_cvae.log_prob(x, (y + 5) % 10, importance_samples=50, seed=0).numpy().mean()
    assert right > wrong + 5, (right, wrong)
    keras.utils.set_random_seed(0)
    vae = VAE(event_shape=(8, 8, 1), latent_dim=2, seed=0)
    vae.compile(optimizer=keras.optimizers.Adam(3e-3))
    vae.fit(digits(labels=False), epochs=15, verbose=0)
    unconditional = vae.log_prob(x, importance_samples=50, seed=0).numpy().mean()
    assert right > unconditional, (right, unconditional)


@pytest.mark.slow
def test_conditional_samples_look_like_their_class(trained_cvae):
    """Nearest class mean (on the training set) of per-class sample means recovers the label."""
    xs, ys = tfgen.data.load_arrays("digits", "train")
    binary = (xs / 255.0 > 0.5).reshape(len(xs), -1)
    centroids = np.stack([binary[ys == c].mean(0) for c in range(10)])
    labels = np.repeat(np.arange(10), 20)
    samples = trained_cvae.sample(200, seed=0, labels=labels, mean=True).numpy().reshape(200, -1)
    dist = ((samples[:, None] - centroids[None]) ** 2).sum(-1)
    accuracy = np.mean(dist.argmin(1) == labels)
    assert accuracy > 0.6, accuracy  # chance is 0.1
