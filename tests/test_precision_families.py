"""Every family trains under mixed_bfloat16 and mixed_float16 (finite losses, float32 likelihoods),
the classifier's train step sums bfloat16 bias gradients in float32, and XLA (``jit_compile``)
trains the VAE and PixelCNN."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgen
from tfgen import mixed_precision, models
from tfgen.classifier import ImageClassifier
from tfgen.mixed_precision import dtype_policy

pytestmark = pytest.mark.slow

X = next(iter(tfgen.data.load("digits", "train", batch_size=32, binarize="static")))
GREY = next(iter(tfgen.data.load("digits", "train", batch_size=32)))
LABELS = tf.constant(np.arange(32) % 10, tf.int32)
POINTS = tf.random.stateless_normal([32, 2], seed=[3, 4])

# family -> (constructor, training data)
FAMILIES = {
    "VAE": (lambda: models.VAE(event_shape=(8, 8, 1), latent_dim=2, seed=0), X),
    "ConditionalVAE": (
        lambda: models.ConditionalVAE(event_shape=(8, 8, 1), num_classes=10, latent_dim=2, seed=0),
        (X, LABELS),
    ),
    "PixelCNN": (lambda: models.PixelCNN((8, 8, 1), num_layers=2, filters=8, seed=0), X),
    "GatedPixelCNN": (lambda: models.GatedPixelCNN((8, 8, 1), num_layers=3, filters=8, seed=0), X),
    "PixelRNN": (
        lambda: models.PixelRNN((8, 8, 1), kind="row_lstm", num_layers=1, hidden_units=4, seed=0),
        X,
    ),
    "NADE": (lambda: models.NADE(event_shape=(8, 8, 1), hidden_units=16, seed=0), X),
    "RNADE": (
        lambda: models.RNADE((8, 8, 1), hidden_units=16, num_components=3, seed=0),
        GREY,
    ),
    "IndependentBernoulli": (lambda: models.IndependentBernoulli((8, 8, 1), seed=0), X),
    "DCGAN": (
        lambda: models.DCGAN(
            (8, 8, 1), latent_dim=8, generator_filters=(16, 8), discriminator_filters=(8, 16)
        ),
        X * 2 - 1,
    ),
    "GAN": (lambda: models.GAN(event_shape=(2,), latent_dim=4, hidden_units=(16,), seed=0), POINTS),
    "AAE": (lambda: models.AAE(event_shape=(8, 8, 1), latent_dim=2, seed=0), X),
    "Autoencoder": (
        lambda: models.Autoencoder((8, 8, 1), hidden_units=(16,), latent_dim=4, seed=0),
        X,
    ),
    "ConvAutoencoder": (
        lambda: models.ConvAutoencoder((8, 8, 1), filters=(4, 8), latent_dim=4, seed=0),
        X,
    ),
    "RecurrentAutoencoder": (
        lambda: models.RecurrentAutoencoder((8, 8, 1), hidden_units=(8,), latent_dim=4, seed=0),
        GREY,
    ),
    "ImageClassifier": (
        lambda: ImageClassifier((8, 8, 1), num_classes=10, filters=(8,), feature_dim=16),
        (X, LABELS),
    ),
}


def test_every_concrete_family_is_covered():
    concrete = {
        name
        for name in models.__all__
        if isinstance(getattr(models, name), type)
        and issubclass(getattr(models, name), models.GenerativeModel)
        and getattr(models, name).__module__.split(".")[-1] not in ("base", "adversarial")
        and name not in ("CVAE", "AdversarialAutoencoder")  # aliases
        and not name.endswith(("Base", "Mixin"))
        and name not in ("RasterAutoregressiveModel",)
    }
    assert concrete <= set(FAMILIES), concrete - set(FAMILIES)


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_family_trains_under_mixed_precision(family, policy):
    make, data = FAMILIES[family]
    with dtype_policy(policy):
        model = make()
    if family == "ImageClassifier":
        model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(True))
    else:
        model.compile(run_eagerly=True)  # eager: no tracing for 30 tiny trainings
    if family == "ImageClassifier":
        model.run_eagerly = True
    if policy == "mixed_float16":  # Keras' loss scaling, the GPU path
        optimizers = [getattr(model, n) for n in getattr(model, "optimizer_names", ("optimizer",))]
        assert all(isinstance(o, keras.optimizers.LossScaleOptimizer) for o in optimizers)
    dataset = tf.data.Dataset.from_tensors(data).repeat(2)
    history = model.fit(dataset, epochs=1, verbose=0).history
    assert history and all(np.isfinite(v[-1]) for v in history.values()), history
    if isinstance(model, models.DensityModel):
        x, labels = data if isinstance(data, tuple) else (data, None)
        log_p = model.log_prob(x[:4], labels if labels is None else labels[:4])
        assert log_p.dtype == tf.float32 and np.isfinite(log_p.numpy()).all()


def test_classifier_train_step_sums_bfloat16_bias_gradients_in_float32(monkeypatch):
    # Keras' own train step would use TensorFlow's BiasAdd gradient (bfloat16 accumulation)
    seen = []
    original = mixed_precision._bias_add_gradient

    def spy(op, grad):
        seen.append(grad.dtype)
        return original(op, grad)

    monkeypatch.setattr(mixed_precision, "_bias_add_gradient", spy)
    with dtype_policy("mixed_bfloat16"):
        model = ImageClassifier((8, 8, 1), num_classes=10, filters=(8,), feature_dim=16)
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(True))
    loss = model.train_on_batch(X, LABELS)
    assert np.isfinite(loss)
    assert seen.count(tf.bfloat16) == 3  # the conv, feature and class layers' biases


@pytest.mark.parametrize("family", ["VAE", "PixelCNN"])
def test_xla_trains_the_vae_and_pixelcnn(family):
    make, data = FAMILIES[family]
    model = make()
    model.compile(jit_compile=True)
    assert model.jit_compile is True
    before = [w.numpy() for w in model.trainable_weights]
    history = model.fit(tf.data.Dataset.from_tensors(data).repeat(2), verbose=0).history
    assert np.isfinite(history["loss"][-1])
    moved = [
        np.abs(w.numpy() - b).max() for w, b in zip(model.trainable_weights, before, strict=True)
    ]
    assert max(moved) > 0
