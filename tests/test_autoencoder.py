"""Autoencoders: the battery (no sample, no log_prob), and the claims of the course computed on
scikit-learn's digits: PCA equivalence, tied weights' parameter count, denoising, sparsity,
greedy layer-wise pretraining, reusable encoder."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy.linalg import subspace_angles
from sklearn.decomposition import PCA

import tfgen
from tfgen import export
from tfgen.layers.tied import DenseTranspose
from tfgen.models import Autoencoder, ConvAutoencoder, RecurrentAutoencoder, greedy_layerwise
from tfgen.models.autoencoder_base import kl_sparsity
from tfgen.testing import GenerativeModelBattery

AE_METRICS = ("loss", "reconstruction")
SPARSE_METRICS = ("loss", "reconstruction", "sparsity")
#: Bound asserted on the principal angles between a linear autoencoder's decoder subspace and
#: PCA's top-5 components on centred digits (measured: under 0.01 degrees for seeds 0-3).
PCA_ANGLE_BOUND_DEGREES = 1.0
COMMON_BAD_ARGS = (
    ({"event_shape": (8, 8)}, "event_shape"),
    ({"latent_dim": 0}, "latent_dim"),
    ({"output": "gaussian"}, "output"),
    ({"noise": "salt"}, "noise"),
    ({"noise_rate": 1.0}, "noise_rate"),
    ({"noise_rate": -0.1}, "noise_rate"),
    ({"sparsity": "l2"}, "sparsity"),
    ({"sparsity_target": 0.0}, "sparsity_target"),
    ({"sparsity_weight": -1.0}, "sparsity_weight"),
    ({"code_activation": "relu", "sparsity": "kl"}, "code_activation"),
)


def digits(batch_size=64, binarize="static", split="train"):
    return tfgen.data.load("digits", split, batch_size=batch_size, binarize=binarize)


def digit_arrays(split="train"):
    x, y = tfgen.data.load_arrays("digits", split)
    return x.astype("float32") / 255.0, y


def train_steps(model, x, steps, learning_rate=3e-3, batch_size=64):
    """``steps`` Adam steps on shuffled batches of ``x``, in one ``tf.function`` call."""
    keras.utils.set_random_seed(0)
    model.compile(keras.optimizers.Adam(learning_rate), steps_per_execution=steps)
    data = tf.data.Dataset.from_tensor_slices(x).shuffle(len(x), seed=0).repeat()
    model.fit(data.batch(batch_size), epochs=1, steps_per_epoch=steps, shuffle=False, verbose=0)
    return model


class TestAutoencoder(GenerativeModelBattery):
    expected_metrics = AE_METRICS
    bad_constructor_args = COMMON_BAD_ARGS + (
        ({"hidden_units": (16, 0)}, "hidden_units"),
        ({"activation": "wiggle"}, "activation"),
        ({"tied_weights": "yes"}, "tied_weights"),
    )

    def make_model(self):
        return Autoencoder(event_shape=(8, 8, 1), hidden_units=(16,), latent_dim=4, seed=0)

    def make_data(self):
        return digits()


class TestTiedSparseDenoisingAutoencoder(TestAutoencoder):
    expected_metrics = SPARSE_METRICS

    def make_model(self):
        return Autoencoder(
            event_shape=(8, 8, 1),
            hidden_units=(16, 8),
            latent_dim=4,
            tied_weights=True,
            noise="dropout",
            noise_rate=0.3,
            sparsity="kl",
            seed=0,
        )


class TestConvAutoencoder(GenerativeModelBattery):
    expected_metrics = SPARSE_METRICS
    bad_constructor_args = COMMON_BAD_ARGS + (
        ({"event_shape": (9, 9, 1)}, "event_shape"),  # sides must divide by 2 ** len(filters)
        ({"event_shape": (12, 6, 1), "filters": (4, 4, 4)}, "event_shape"),
        ({"filters": ()}, "filters"),
    )

    def make_model(self):
        return ConvAutoencoder(
            event_shape=(8, 8, 1),
            filters=(4, 8),
            latent_dim=4,
            noise="gaussian",
            noise_rate=0.2,
            sparsity="l1",
            seed=0,
        )

    def make_data(self):
        return digits()


class TestRecurrentAutoencoder(GenerativeModelBattery):
    expected_metrics = AE_METRICS
    bad_constructor_args = COMMON_BAD_ARGS + (({"hidden_units": ()}, "hidden_units"),)

    def make_model(self):
        return RecurrentAutoencoder(
            event_shape=(8, 8, 1), hidden_units=(8,), latent_dim=4, output="mse", seed=0
        )

    def make_data(self):
        return digits(binarize=None)


# ------------------------------------------------------------------------------ API
def test_autoencoders_neither_sample_nor_have_log_prob_and_export_encode_reconstruct():
    ae = Autoencoder(event_shape=(8, 8, 1), latent_dim=2)
    assert not export.can_sample(ae) and not hasattr(ae, "log_prob")
    assert export.endpoint_names(ae) == ("predict", "reconstruct", "encode")
    with pytest.raises(NotImplementedError):
        ae.sample(2)


@pytest.mark.parametrize("output", ["bernoulli", "mse"])
def test_call_is_the_decoder_output_and_reconstruct_maps_it_to_the_data(output):
    ae = Autoencoder(event_shape=(8, 8, 1), hidden_units=(8,), latent_dim=3, output=output)
    x, _ = digit_arrays()
    x = x[:5]
    codes = ae.encode(x)
    assert codes.shape == (5, 3)
    np.testing.assert_allclose(ae(x), ae.decode(codes), atol=1e-6)
    expected = tf.sigmoid(ae(x)) if output == "bernoulli" else ae(x)
    np.testing.assert_allclose(ae.reconstruct(x), expected, atol=1e-6)
    terms = ae.compute_terms(tf.constant(x), training=False)
    if output == "bernoulli":
        logits, target = np.asarray(ae(x)).reshape(5, -1), x.reshape(5, -1)
        bce = np.maximum(logits, 0) - logits * target + np.log1p(np.exp(-np.abs(logits)))
        np.testing.assert_allclose(terms["reconstruction"], bce.mean(-1), rtol=1e-5)
    else:
        mse = ((np.asarray(ae(x)) - x) ** 2).reshape(5, -1).mean(-1)
        np.testing.assert_allclose(terms["reconstruction"], mse, rtol=1e-5)


def test_inputs_of_the_wrong_shape_name_the_argument():
    ae = Autoencoder(event_shape=(8, 8, 1), latent_dim=2)
    with pytest.raises(ValueError, match="^x must have shape"):
        ae.encode(np.zeros([2, 8, 7, 1], "float32"))
    with pytest.raises(ValueError, match="^z must have shape"):
        ae.decode(np.zeros([2, 3], "float32"))
    with pytest.raises(ValueError, match="labels"):
        ae.encode(np.zeros([2, 8, 8, 1], "float32"), labels=[0, 1])


def test_noise_only_while_training_and_reproducible_from_a_seed():
    ae = Autoencoder(event_shape=(8, 8, 1), latent_dim=2, noise="dropout", noise_rate=0.5)
    x = np.ones([64, 8, 8, 1], "float32")
    np.testing.assert_array_equal(ae.corrupt(x, seed=3), ae.corrupt(x, seed=3))
    dropped = 1.0 - float(np.mean(ae.corrupt(x, seed=3)))
    assert 0.45 < dropped < 0.55, dropped  # 4,096 pixels, masking probability 0.5
    np.testing.assert_array_equal(ae(x), ae(x))  # call and evaluation see clean images
    clean = ae.compute_terms(tf.constant(x), training=False)["loss"]
    np.testing.assert_array_equal(clean, ae.compute_terms(tf.constant(x))["loss"])
    noisy = ae.compute_terms(tf.constant(x), training=True)["loss"]
    assert not np.allclose(noisy, clean)
    gaussian = Autoencoder(event_shape=(8, 8, 1), latent_dim=2, noise="gaussian", noise_rate=0.2)
    std = float(np.std(gaussian.corrupt(x, seed=0) - x))
    assert 0.18 < std < 0.22, std


def test_kl_sparsity_is_the_bernoulli_kl_of_the_batch_mean_activation():
    codes = tf.constant([[0.2, 0.5], [0.4, 0.1]])
    rho, rho_hat = 0.1, np.array([0.3, 0.3])
    expected = np.sum(rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat)))
    np.testing.assert_allclose(kl_sparsity(codes, rho), expected, rtol=1e-6)
    ae = Autoencoder(event_shape=(8, 8, 1), latent_dim=3, sparsity="l1", sparsity_weight=0.5)
    np.testing.assert_allclose(ae.sparsity_penalty(codes), [0.5 * 0.35, 0.5 * 0.25], rtol=1e-6)


# ------------------------------------------------------------------------------ tied weights
def test_tied_weights_nearly_halve_the_parameters_and_share_the_kernels():
    kwargs = dict(event_shape=(28, 28, 1), hidden_units=(256, 64), latent_dim=16)
    untied, tied = Autoencoder(**kwargs), Autoencoder(**kwargs, tied_weights=True)
    kernels = 784 * 256 + 256 * 64 + 64 * 16
    biases_encoder, biases_decoder = 256 + 64 + 16, 64 + 256 + 784
    assert untied.count_params() == 2 * kernels + biases_encoder + biases_decoder
    assert tied.count_params() == kernels + biases_encoder + biases_decoder
    assert tied.count_params() / untied.count_params() < 0.51
    for layer in tied.decoder_layers:
        assert isinstance(layer, DenseTranspose) and [w.shape for w in layer.weights] == [
            (layer.units,)
        ]
    # The decoder computes with the encoder's kernel itself: changing one changes the other.
    x = np.random.default_rng(0).random([2, 28, 28, 1]).astype("float32")
    before = tied(x).numpy()
    tied.encoder_layers[0].kernel.assign(tied.encoder_layers[0].kernel * 2.0)
    assert not np.allclose(before, tied(x))


# ------------------------------------------------------------------------------ claims
def test_linear_autoencoder_spans_the_pca_subspace():
    x, _ = digit_arrays()
    centred = x - x.mean(0)
    ae = Autoencoder(
        event_shape=(8, 8, 1), hidden_units=(), latent_dim=5, activation="linear", output="mse"
    )
    train_steps(ae, centred, steps=300, learning_rate=0.03, batch_size=len(centred))
    components = PCA(5).fit(centred.reshape(len(x), -1)).components_  # [5, 64]
    columns = ae.decoder_layers[0].kernel.numpy().T  # decoder x_hat = W^T z: [64, 5]
    angles = np.degrees(subspace_angles(columns, components.T))
    assert angles.max() < PCA_ANGLE_BOUND_DEGREES, angles


def test_denoising_beats_plain_on_noisy_held_out_images():
    x, _ = digit_arrays()
    test, _ = digit_arrays("test")
    kwargs = dict(event_shape=(8, 8, 1), hidden_units=(64,), latent_dim=16, seed=0)
    plain = train_steps(Autoencoder(**kwargs), x, steps=300)
    denoising = train_steps(Autoencoder(**kwargs, noise="gaussian", noise_rate=0.3), x, steps=300)
    noisy = denoising.corrupt(test, seed=1)  # the training noise, on held-out images
    errors = {
        name: float(np.mean((model.reconstruct(noisy).numpy() - test) ** 2))
        for name, model in (("plain", plain), ("denoising", denoising))
    }
    assert errors["denoising"] < 0.9 * errors["plain"], errors  # measured: 0.027 vs 0.034


def test_kl_sparsity_pulls_mean_code_activation_to_the_target():
    x, _ = digit_arrays()
    test, _ = digit_arrays("test")
    kwargs = dict(event_shape=(8, 8, 1), hidden_units=(64,), latent_dim=16, seed=0)
    kwargs.update(code_activation="sigmoid", sparsity_target=0.1, sparsity_weight=0.5)
    sparse = train_steps(Autoencoder(**kwargs, sparsity="kl"), x, steps=300)
    dense = train_steps(Autoencoder(**kwargs), x, steps=300)
    sparse_means = sparse.encode(test).numpy().mean(0)  # each unit's mean activation
    dense_means = dense.encode(test).numpy().mean(0)
    np.testing.assert_allclose(sparse_means, 0.1, atol=0.03)  # measured: 0.10-0.11
    assert abs(dense_means.mean() - 0.1) > 0.2, dense_means  # measured: 0.57


@pytest.mark.slow
def test_greedy_layerwise_trains_each_level_then_the_stack_fine_tunes():
    x, _ = digit_arrays()
    binary = (x > 0.5).astype("float32")
    ae = Autoencoder(event_shape=(8, 8, 1), hidden_units=(32,), latent_dim=8, seed=0)
    ae.compile()
    untrained = ae.evaluate(binary, verbose=0, return_dict=True)["reconstruction"]
    first = [w.numpy().copy() for w in ae.encoder_layers[0].weights]
    losses = greedy_layerwise(ae, binary, epochs_per_layer=3, batch_size=64)
    assert len(losses) == 2 and all(np.isfinite(losses))
    assert not np.allclose(first[0], ae.encoder_layers[0].kernel.numpy())
    stacked = ae.evaluate(binary, verbose=0, return_dict=True)["reconstruction"]
    assert stacked < untrained - 0.05, (stacked, untrained)
    ae.fit(binary, epochs=2, batch_size=64, verbose=0)  # fine-tuning end to end
    tuned = ae.evaluate(binary, verbose=0, return_dict=True)["reconstruction"]
    assert tuned < stacked, (tuned, stacked)
    with pytest.raises(ValueError, match="^autoencoder"):
        greedy_layerwise(ConvAutoencoder(event_shape=(8, 8, 1)), binary)
    with pytest.raises(ValueError, match="^epochs_per_layer"):
        greedy_layerwise(ae, binary, epochs_per_layer=0)


@pytest.mark.slow
@pytest.mark.parametrize(
    "make",
    [
        lambda: Autoencoder(event_shape=(8, 8, 1), hidden_units=(16,), latent_dim=4),
        lambda: ConvAutoencoder(event_shape=(8, 8, 1), filters=(4,), latent_dim=4),
        lambda: RecurrentAutoencoder(event_shape=(8, 8, 1), hidden_units=(8,), latent_dim=4),
    ],
    ids=["dense", "conv", "recurrent"],
)
def test_encoder_is_a_reusable_keras_model(make):
    ae = make()
    x, y = digit_arrays()
    classifier = keras.Sequential([ae.encoder, keras.layers.Dense(10)])
    classifier.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    before = ae.encoder.weights[0].numpy().copy()
    classifier.fit(x[:64], y[:64], epochs=1, batch_size=32, verbose=0)
    assert not np.allclose(before, ae.encoder.weights[0].numpy())  # the same layers trained
    np.testing.assert_allclose(classifier(x[:3]), classifier.layers[-1](ae.encode(x[:3])))


@pytest.mark.slow
def test_every_autoencoder_preset_builds_and_trains_on_digits():
    import zoo

    names = [n for n in zoo.list_presets() if n.startswith("autoencoder_")]
    assert len(names) == 6, names
    x, _ = digit_arrays()
    for name in names:
        model = zoo.build(name, event_shape=(8, 8, 1))
        assert not export.can_sample(model)
        logs = model.fit(x[:64], batch_size=32, epochs=1, verbose=0).history
        assert set(AE_METRICS) <= set(logs) and all(np.isfinite(v[-1]) for v in logs.values())
