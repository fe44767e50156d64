"""VAE: the shared battery for each likelihood/prior, plus closed-form and training checks."""

import math
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import tfgen
from tfgen.mixed_precision import dtype_policy
from tfgen.models import VAE
from tfgen.testing import GenerativeModelBattery
from tfgen.testing.isolated import run_isolated

tfd = tfp.distributions
ELBO_METRICS = ("loss", "elbo", "kl", "reconstruction", "bits_per_dim")


def digits(batch_size=64, binarize="static", split="train"):
    return tfgen.data.load("digits", split, batch_size=batch_size, binarize=binarize)


class TestVAE(GenerativeModelBattery):
    expected_metrics = ELBO_METRICS
    log_prob_kwargs = {"importance_samples": 16, "seed": 5}
    bad_constructor_args = (
        ({"latent_dim": 0}, "latent_dim"),
        ({"likelihood": "gaussian"}, "likelihood"),
        ({"prior": "laplace"}, "prior"),
        ({"prior_components": 0}, "prior_components"),
        ({"encoder_filters": ()}, "encoder_filters"),
        ({"decoder_filters": (0,)}, "decoder_filters"),
        ({"event_shape": (30, 30, 1)}, "event_shape"),  # sides not divisible by 4
        ({"event_shape": (28, 28)}, "event_shape"),
    )

    def make_model(self):
        return VAE(event_shape=(8, 8, 1), latent_dim=2, seed=0)

    def make_data(self):
        return digits()


class TestVAECategoricalMixturePrior(TestVAE):
    sample_support = "levels"

    def make_model(self):
        return VAE(
            event_shape=(8, 8, 1),
            latent_dim=3,
            likelihood="categorical",
            prior="mixture",
            prior_components=4,
            seed=0,
        )

    def make_data(self):
        return digits(binarize=None)


@pytest.fixture(scope="module")
def trained_vae():
    keras.utils.set_random_seed(0)
    model = VAE(event_shape=(8, 8, 1), latent_dim=2, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    model.fit(digits(), epochs=15, verbose=0)
    return model


def test_default_architecture_is_the_tutorials():
    model = VAE()
    enc = [
        (type(layer).__name__, getattr(layer, "filters", getattr(layer, "units", None)))
        for layer in model.encoder.layers
    ]
    dec = [
        (type(layer).__name__, getattr(layer, "filters", getattr(layer, "units", None)))
        for layer in model.decoder.layers
    ]
    assert enc == [("Conv2D", 32), ("Conv2D", 64), ("Flatten", None), ("Dense", 4)]
    assert dec == [
        ("Dense", 7 * 7 * 32),
        ("Reshape", None),
        ("Conv2DTranspose", 64),
        ("Conv2DTranspose", 32),
        ("Conv2DTranspose", 1),
    ]
    assert model.encoder.layers[0].strides == (2, 2) and model.encoder.layers[0].padding == "valid"
    assert model.decoder.output_shape == (None, 28, 28, 1)


def test_kl_term_matches_closed_form_gaussian_kl():
    model = VAE(event_shape=(8, 8, 1), latent_dim=2, seed=0)
    x, _ = next(iter(digits())), None
    params = model.encoder(x).numpy()
    q = model.encode(x)
    mu, sigma = q.mean().numpy(), q.stddev().numpy()
    closed = 0.5 * np.sum(mu**2 + sigma**2 - 1.0 - 2 * np.log(sigma), axis=-1)
    np.testing.assert_allclose(model.elbo_terms(x)["kl"], closed, rtol=1e-4, atol=1e-5)
    assert params.shape == (64, 4)


def test_reconstruction_term_is_bernoulli_cross_entropy():
    model = VAE(event_shape=(8, 8, 1), latent_dim=2, seed=0)
    x = next(iter(digits()))
    z = model.encode(x).mean()
    logits = model.decoder_outputs(z).numpy()
    xn = x.numpy()
    cross_entropy = np.sum(
        np.maximum(logits, 0) - logits * xn + np.log1p(np.exp(-np.abs(logits))), axis=(1, 2, 3)
    )
    np.testing.assert_allclose(-model.decode(z).log_prob(x), cross_entropy, rtol=1e-5)


@pytest.mark.slow
def test_mixture_prior_uses_monte_carlo_kl_and_trains_prior():
    model = VAE(event_shape=(8, 8, 1), latent_dim=2, prior="mixture", prior_components=3, seed=0)
    assert model.prior == "mixture"  # the argument; the distribution is prior_distribution
    q = model.encode(next(iter(digits())))
    assert not tfgen.distributions.has_analytic_kl(q, model.prior_distribution)
    model.compile()
    before = model.prior_layer.loc.numpy().copy()
    model.fit(digits(), epochs=1, steps_per_epoch=5, verbose=0)
    assert not np.allclose(before, model.prior_layer.loc.numpy())


@pytest.mark.slow
def test_iwae_bound_above_elbo_and_increasing_in_k(trained_vae):
    x = next(iter(digits(batch_size=200, split="test")))
    elbo = np.mean([trained_vae.elbo(x).numpy().mean() for _ in range(20)])
    iw = {
        k: trained_vae.log_prob(x, importance_samples=k, seed=k).numpy().mean()
        for k in (1, 10, 100)
    }
    assert abs(iw[1] - elbo) < 0.5, (iw[1], elbo)  # k = 1 is the ELBO
    assert iw[1] < iw[10] < iw[100], iw
    assert iw[100] >= elbo


@pytest.mark.slow
def test_training_improves_test_elbo(trained_vae):
    untrained = VAE(event_shape=(8, 8, 1), latent_dim=2, seed=0)
    untrained.compile()
    test = digits(split="test", batch_size=360)
    before = untrained.evaluate(test, verbose=0, return_dict=True)["elbo"]
    after = trained_vae.evaluate(test, verbose=0, return_dict=True)
    assert after["elbo"] > before + 5, (before, after)
    assert after["kl"] > 0.5  # the latent code is used, not collapsed to the prior
    np.testing.assert_allclose(
        after["bits_per_dim"], -after["elbo"] / (64 * math.log(2)), rtol=1e-5
    )


def test_predict_is_the_decoder_logits_and_reconstruct_their_mean():
    """predict = call = likelihood parameters at the posterior mean; reconstruct = their mean."""
    model = VAE(event_shape=(8, 8, 1), latent_dim=2, seed=0)
    x = next(iter(digits(batch_size=16)))
    logits = model.decoder_outputs(model.encode(x).mean())
    np.testing.assert_allclose(model.predict(x, verbose=0), logits, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(model(x), logits, rtol=1e-6)
    np.testing.assert_allclose(model.reconstruct(x), tf.sigmoid(logits), rtol=1e-5, atol=1e-6)
    assert np.any(np.asarray(logits) < 0)  # logits, not probabilities


def test_string_arguments_and_their_objects():
    model = VAE(event_shape=(8, 8, 1), latent_dim=3, likelihood="categorical", seed=0)
    assert (model.prior, model.likelihood) == ("normal", "categorical")
    assert model.image_likelihood is tfgen.distributions.get_likelihood("categorical")
    assert isinstance(model.prior_distribution, tfd.MultivariateNormalDiag)
    assert model.prior_distribution.event_shape == [3]
    assert model.predict(tf.zeros([2, 8, 8, 1]), verbose=0).shape == (2, 8, 8, 256)


def test_sample_mean_is_decoder_mean_of_the_sample_prior_codes():
    model = VAE(event_shape=(8, 8, 1), latent_dim=2, seed=0)
    z = model.sample_prior(6, seed=4)
    np.testing.assert_array_equal(
        z, model.prior_distribution.sample(6, seed=tfgen.models.inputs.seed_pair(4))
    )
    expected = tf.sigmoid(model.decoder_outputs(z))
    np.testing.assert_allclose(model.sample(6, seed=4, mean=True), expected, atol=1e-6)
    with pytest.raises(ValueError, match="^seed"):
        model.sample_prior(6, seed=(1, 2))  # pairs are not seeds


def build_under(policy, **kwargs):
    with dtype_policy(policy):
        return VAE(event_shape=(8, 8, 1), latent_dim=2, seed=0, **kwargs)


@pytest.mark.slow
def test_mixed_bfloat16_policy_trains_with_float32_distributions():
    model = build_under("mixed_bfloat16")
    assert model.encoder.layers[0].compute_dtype == "bfloat16"
    assert model.encoder.layers[-1].compute_dtype == "float32"  # distribution params in float32
    model.compile()
    logs = model.fit(digits(), epochs=1, steps_per_epoch=3, verbose=0).history
    assert np.isfinite(logs["loss"][-1])
    assert model.encode(next(iter(digits()))).dtype == tf.float32


@pytest.mark.slow
def test_output_layer_in_the_compute_dtype_still_returns_float32_logits(tmp_path):
    model = build_under("mixed_bfloat16", float32_output_layer=False)
    output_conv = [layer for layer in model.decoder.layers if layer.weights][-1]
    assert output_conv.compute_dtype == "bfloat16"
    z = tf.random.stateless_normal([5, 2], seed=[1, 2])
    logits = model.decoder_outputs(z)
    assert logits.dtype == tf.float32
    # the default computes the output layer in float32 from the same weights: same logits to
    # within bfloat16 rounding of the layer's inputs, weights and result
    default = build_under("mixed_bfloat16")
    default.set_weights(model.get_weights())
    np.testing.assert_allclose(logits, default.decoder_outputs(z), rtol=0.05, atol=0.05)
    assert not np.array_equal(logits, default.decoder_outputs(z))
    # the flag and the layers' policies survive a .keras round trip (loaded in a float32 process)
    assert model.get_config()["float32_output_layer"] is False
    model.compile()
    model.fit(digits(), epochs=1, steps_per_epoch=2, verbose=0)
    model.save(tmp_path / "vae.keras")
    loaded = keras.models.load_model(tmp_path / "vae.keras")
    assert keras.mixed_precision.global_policy().name == "float32"
    assert loaded.float32_output_layer is False
    assert [layer.compute_dtype for layer in loaded.decoder.layers] == [
        layer.compute_dtype for layer in model.decoder.layers
    ]
    np.testing.assert_array_equal(loaded.decoder_outputs(z), model.decoder_outputs(z))


def test_output_layer_flag_changes_nothing_in_float32():
    a, b = build_under("float32"), build_under("float32", float32_output_layer=False)
    assert [type(layer) for layer in a.decoder.layers] == [
        type(layer) for layer in b.decoder.layers
    ]
    b.set_weights(a.get_weights())
    z = tf.random.stateless_normal([5, 2], seed=[1, 2])
    np.testing.assert_array_equal(a.decoder_outputs(z), b.decoder_outputs(z))


MIRRORED = textwrap.dedent("""
    import os, json
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras, numpy as np, tfgen
    from tfgen.models.base import DensityModel

    class PixelLogits(DensityModel):  # deterministic loss: isolates the train step's scaling
        def __init__(self, **kw):
            super().__init__(**kw)
            self.logits = self.add_weight(shape=self.event_shape, initializer="zeros")
            self.built = True
        def compute_terms(self, x, labels=None, training=False):
            nll = -tfgen.distributions.bernoulli_image(self.logits + 0 * x).log_prob(x)
            return {"loss": nll, "bits_per_dim": nll / (self.num_dims * np.log(2.0))}

    x = next(iter(tfgen.data.load("digits", "train", batch_size=64, binarize="static")))

    def one_step(strategy):
        with strategy.scope():
            model = PixelLogits(event_shape=(8, 8, 1))
            model.compile(optimizer=keras.optimizers.SGD(1.0))
        loss = model.fit(tf.data.Dataset.from_tensors(x), epochs=1, verbose=0).history["loss"][-1]
        return model.logits.numpy(), loss

    w1, l1 = one_step(tf.distribute.get_strategy())
    w2, l2 = one_step(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
    expected = np.mean(x.numpy(), axis=0) - 0.5  # SGD(1) step from logit 0: mean(x - sigmoid(0))
    print(json.dumps({"single": float(np.max(np.abs(w1 - expected))),
                      "mirrored": float(np.max(np.abs(w2 - expected))), "l1": l1, "l2": l2}))
""")


@pytest.mark.slow
def test_mirrored_strategy_step_matches_single_device():
    """Gradients are summed over replicas: the per-replica loss must be divided by their number."""
    result = run_isolated(MIRRORED)
    assert result["single"] < 1e-5 and result["mirrored"] < 1e-5, result
    assert abs(result["l1"] - result["l2"]) < 1e-3, result


def test_elbo_and_log_prob_are_reproducible_with_a_seed_and_chunking_does_not_matter():
    model = VAE(event_shape=(8, 8, 1), latent_dim=2, seed=0)
    x = next(iter(digits(batch_size=20, split="test")))
    np.testing.assert_array_equal(model.elbo(x, seed=3), model.elbo(x, seed=3))
    assert not np.array_equal(model.elbo(x, seed=3), model.elbo(x, seed=4))
    auto = model.log_prob(x, importance_samples=24, seed=1)
    np.testing.assert_array_equal(auto, model.log_prob(x, importance_samples=24, seed=1))
    small = model.log_prob(x, importance_samples=24, seed=1, chunk_size=7)
    np.testing.assert_allclose(auto, small, rtol=1e-5)  # chunking changes memory, not the draws
    with pytest.raises(TypeError):
        model.log_prob(x, None, 40)  # importance_samples is keyword-only
    with pytest.raises(ValueError, match="^importance_samples"):
        model.log_prob(x, importance_samples=0)
