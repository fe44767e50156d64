"""AdversarialAutoencoder: the battery per posterior/prior, phases, priors, MMD, training."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgen
from tfgen.models import AAE, AdversarialAutoencoder
from tfgen.models.aae import mmd
from tfgen.testing import GenerativeModelBattery

AAE_METRICS = ("reconstruction", "d_loss", "g_loss", "prior_mmd")


def digits(batch_size=64, split="train", labels=False):
    return tfgen.data.load("digits", split, batch_size=batch_size, binarize="static", labels=labels)


class TestAAEMixturePrior(GenerativeModelBattery):
    expected_metrics = AAE_METRICS
    bad_constructor_args = (
        ({"posterior": "vmf"}, "posterior"),
        ({"prior": "laplace"}, "prior"),
        ({"prior": "supervised"}, "num_classes"),  # supervised needs num_classes
        ({"num_classes": 10}, "num_classes"),  # num_classes needs supervised
        ({"latent_dim": 0}, "latent_dim"),
        ({"prior_components": 0}, "prior_components"),
        ({"prior_radius": -1.0}, "prior_radius"),
        ({"prior_scale": 0}, "prior_scale"),
        ({"likelihood": "gaussian"}, "likelihood"),
        ({"discriminator_units": ()}, "discriminator_units"),
    )

    def make_model(self):
        return AAE(event_shape=(8, 8, 1), prior="mixture", prior_components=5, seed=0)

    def make_data(self):
        return digits()


class TestAAEGaussianEncoderNormalPrior(TestAAEMixturePrior):
    def make_model(self):
        return AAE(
            event_shape=(8, 8, 1), latent_dim=3, posterior="gaussian", discriminator_units=(16,)
        )


class TestAAESupervisedPrior(TestAAEMixturePrior):
    bad_constructor_args = (
        ({"prior": "mixture"}, "num_classes"),
        ({"num_classes": None}, "num_classes"),
        ({"num_classes": 1}, "num_classes"),
    )

    def make_model(self):
        return AAE(event_shape=(8, 8, 1), prior="supervised", num_classes=10, seed=0)

    def make_data(self):
        return digits(labels=True)

    def sample_mean_kwargs(self):
        return {"mean": True}


def test_alias_networks_and_fixed_prior():
    assert AAE is AdversarialAutoencoder
    model = AAE(event_shape=(8, 8, 1), prior="mixture", prior_components=10, prior_radius=3.0)
    assert model.discriminator.input_shape == (None, 2)
    assert (model.prior, model.posterior, model.likelihood) == (
        "mixture",
        "deterministic",
        "bernoulli",
    )
    prior = model.prior_distribution
    loc = prior.components_distribution.mean().numpy()
    np.testing.assert_allclose(np.linalg.norm(loc, axis=1), 3.0, rtol=1e-6)  # on the circle
    np.testing.assert_allclose(prior.components_distribution.stddev(), 0.5, rtol=1e-5)
    np.testing.assert_allclose(prior.mixture_distribution.probs_parameter(), 0.1, rtol=1e-6)
    prior_weights = {id(w) for w in model.prior_layer.weights}
    assert prior_weights and not prior_weights & {id(w) for w in model.trainable_weights}
    sup = AAE(event_shape=(8, 8, 1), prior="supervised", num_classes=4, latent_dim=3)
    assert sup.discriminator.input_shape == (None, 3 + 4)
    assert sup.prior_distribution.mixture_distribution.logits.shape == (4,)


def test_predict_is_the_decoder_logits_at_the_code_and_reconstruct_their_mean():
    model = AAE(event_shape=(8, 8, 1), posterior="gaussian", seed=0)
    x = next(iter(digits(batch_size=8)))
    logits = model.decoder_outputs(model.encode(x).mean())
    np.testing.assert_allclose(model.predict(x, verbose=0), logits, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(model.reconstruct(x), tf.sigmoid(logits), atol=1e-5)
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))


def test_mmd_matches_a_direct_computation_and_detects_a_shift():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(7, 2)), rng.normal(size=(5, 2)) + 0.5

    def k(a, b):
        d2 = ((a[:, None] - b[None]) ** 2).sum(-1)
        return sum(np.exp(-d2 / (2 * s**2)) for s in (0.5, 1.0))

    kxx, kyy = k(x, x), k(y, y)
    expected = (
        (kxx.sum() - np.trace(kxx)) / 42 + (kyy.sum() - np.trace(kyy)) / 20 - 2 * k(x, y).mean()
    )
    np.testing.assert_allclose(mmd(x, y, bandwidths=(0.5, 1.0)), expected, rtol=1e-5)
    same = [float(mmd(rng.normal(size=(200, 2)), rng.normal(size=(200, 2)))) for _ in range(10)]
    assert abs(np.mean(same)) < 0.01  # unbiased: zero in expectation
    assert float(mmd(rng.normal(size=(200, 2)), rng.normal(size=(200, 2)) + 1.0)) > 0.2


def test_each_phase_updates_only_its_networks():
    model = AAE(event_shape=(8, 8, 1), prior="mixture", seed=0)
    model.compile()
    assert [p.name for p in model.phases()] == ["reconstruction", "discriminator", "generator"]
    assert model.optimizer_names == ("ae_optimizer", "d_optimizer", "g_optimizer")
    x = next(iter(digits()))
    nets = {"encoder": model.encoder, "decoder": model.decoder, "disc": model.discriminator}
    expected = {
        "reconstruction": {"encoder", "decoder"},
        "discriminator": {"disc"},
        "generator": {"encoder"},
    }
    for phase in model.phases():
        before = {k: [w.numpy().copy() for w in n.weights] for k, n in nets.items()}
        model.phase_step(phase, x)
        changed = {
            k
            for k, n in nets.items()
            if any(
                not np.array_equal(b, w.numpy()) for b, w in zip(before[k], n.weights, strict=True)
            )
        }
        assert changed == expected[phase.name], (phase.name, changed)


def test_compile_takes_three_optimizers_and_rejects_a_single_one():
    model = AAE(event_shape=(8, 8, 1))
    sgd = keras.optimizers.SGD
    model.compile(ae_optimizer=sgd(0.1), d_optimizer=sgd(0.2), g_optimizer=sgd(0.3))
    rates = [float(getattr(model, n).learning_rate) for n in model.optimizer_names]
    np.testing.assert_allclose(rates, [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="optimizer"):
        model.compile(optimizer="adam")


def test_supervised_prior_draws_each_label_from_its_component():
    model = AAE(event_shape=(8, 8, 1), prior="supervised", num_classes=4, prior_scale=0.1)
    labels = tf.constant([0, 1, 2, 3] * 50)
    z = model.sample_prior(200, seed=3, labels=labels).numpy()
    loc = model.prior_layer.loc.numpy()
    nearest = np.argmin(((z[:, None] - loc[None]) ** 2).sum(-1), axis=1)
    np.testing.assert_array_equal(nearest, labels.numpy())
    model.compile()
    with pytest.raises(ValueError, match="labels"):
        model.fit(digits(), epochs=1, steps_per_epoch=1, verbose=0)  # no labels in the data


def test_deterministic_encoder_codes_are_the_mean_and_gaussian_ones_are_draws():
    x = next(iter(digits(batch_size=8)))
    det = AAE(event_shape=(8, 8, 1), seed=0)
    np.testing.assert_array_equal(det.codes(x), det.encoder(x))
    np.testing.assert_array_equal(det.encode(x).mean(), det.encoder(x))
    gauss = AAE(event_shape=(8, 8, 1), posterior="gaussian", seed=0)
    a, b = gauss.codes(x, seed=1), gauss.codes(x, seed=2)
    assert not np.allclose(a, b)
    np.testing.assert_array_equal(a, gauss.encode(x).sample(seed=tfgen.models.inputs.seed_pair(1)))


@pytest.fixture(scope="module")
def trained_mixture_aae():
    keras.utils.set_random_seed(0)
    model = AAE(event_shape=(8, 8, 1), prior="mixture", prior_components=10, seed=0)
    model.compile()
    untrained = model.evaluate(digits(split="test", batch_size=360), verbose=0, return_dict=True)
    untrained["in_hdr95"] = in_hdr95(model)
    model.fit(digits(), epochs=40, verbose=0)
    return model, untrained


def in_hdr95(model):
    """Fraction of test codes inside the prior's 95% highest-density region (0.95 if matched)."""
    x = next(iter(digits(split="test", batch_size=360)))
    prior = model.prior_distribution
    log_p = prior.log_prob(model.encode(x).mean()).numpy()
    threshold = np.quantile(prior.log_prob(prior.sample(2000, seed=(0, 1))), 0.05)
    return float(np.mean(log_p > threshold))


@pytest.mark.slow
def test_training_matches_the_prior_and_reconstructs(trained_mixture_aae):
    model, untrained = trained_mixture_aae
    after = model.evaluate(digits(split="test", batch_size=360), verbose=0, return_dict=True)
    assert after["reconstruction"] < untrained["reconstruction"] - 10, (untrained, after)
    assert after["prior_mmd"] < 0.25 * untrained["prior_mmd"], (untrained, after)
    # untrained codes sit near the origin, inside the ring: almost none in the prior's mass
    assert in_hdr95(model) > untrained["in_hdr95"] + 0.3, (untrained["in_hdr95"], in_hdr95(model))
