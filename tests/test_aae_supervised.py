"""Supervised-prior AAE figures of `tfgen evaluate`: codes in their class's component and the
classifier accuracy of label-conditioned samples (closed-form and hand-built perfect cases)."""

import numpy as np
import pytest

import tfgen
import zoo
from tfgen.models import AAE
from zoo import evaluation
from zoo.prior_figures import codes_in_own_component, supervised_prior_figures

# Untrained models are saved before their optimizer is built; Keras says so when loading them.
pytestmark = pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")


def supervised(num_classes=4, scale=0.05, **kwargs):
    return AAE(
        event_shape=(8, 8, 1),
        prior="supervised",
        num_classes=num_classes,
        prior_scale=scale,
        seed=0,
        **kwargs,
    )


def digits(batch_size=64, labels=False):
    return tfgen.data.load(
        "digits", "train", batch_size=batch_size, binarize="static", labels=labels
    )


class Templates:
    """A nearest-template classifier: class k is the image closest to ``templates[k]``."""

    def __init__(self, templates):
        self.templates = np.asarray(templates).reshape(len(templates), -1)

    def probabilities(self, images):
        flat = np.asarray(images).reshape(len(images), -1)
        d2 = ((flat[:, None] - self.templates[None]) ** 2).sum(-1)
        return np.eye(len(self.templates))[np.argmin(d2, axis=1)]


def test_codes_in_own_component_closed_forms():
    model = supervised()
    y = np.arange(200) % 4
    draws = model.sample_prior(200, seed=1, labels=y).numpy()
    assert codes_in_own_component(model, draws, y) == 1.0  # each code in its own component
    assert codes_in_own_component(model, draws, (y + 1) % 4) == 0.0  # each in a neighbour's
    half = np.where(np.arange(200) < 100, y, (y + 2) % 4)
    assert codes_in_own_component(model, draws, half) == 0.5
    loc = model.prior_layer.loc.numpy()  # on a ring of equal components: the nearest mean
    midway = 0.49 * loc[0] + 0.51 * loc[1]
    assert codes_in_own_component(model, midway[None], [1]) == 1.0
    with pytest.raises(ValueError, match="labels"):
        codes_in_own_component(model, draws, y[:10])


def test_supervised_prior_figures_perfect_and_chance_cases():
    model = supervised(scale=1e-3, decoder_filters=(16, 8))
    loc = model.prior_layer.loc.numpy()
    # decoder means at the component centres; draws of scale 1e-3 stay next to them
    templates = model.image_likelihood.mean(model.decoder_outputs(loc)).numpy()
    assert np.abs(templates[0] - templates[1]).max() > 1e-3  # the classes look different
    y = np.arange(120) % 4
    codes = model.sample_prior(120, seed=2, labels=y).numpy()
    figures = supervised_prior_figures(model, codes, y, Templates(templates), seed=3)
    assert figures == {"codes_in_own_component": 1.0, "sample_class_accuracy": 1.0}
    rotated = Templates(np.roll(templates, 1, axis=0))  # reads class k as k + 1
    figures = supervised_prior_figures(model, codes, (y + 1) % 4, rotated)
    assert figures == {"codes_in_own_component": 0.0, "sample_class_accuracy": 0.0}


def test_evaluate_model_reports_supervised_figures(monkeypatch):
    preset = zoo.get("aae_supervised_fashion_mnist").with_train(dataset="digits")
    model = zoo.build(preset, event_shape=(8, 8, 1))
    model.compile()
    asked = []

    class Uniform:  # every class equally likely: argmax is class 0
        def probabilities(self, images):
            asked.append(len(images))
            return np.full([len(images), 10], 0.1)

    monkeypatch.setattr(evaluation, "_classifier", lambda recipe: Uniform())
    result = evaluation.evaluate_model(model, preset.train, max_examples=100)
    assert result["num_examples"] == 100 and asked == [100]
    assert 0.0 <= result["codes_in_own_component"] <= 1.0
    assert result["sample_class_accuracy"] == pytest.approx(0.1)  # labels 0..9 in turn
    assert np.isfinite(result["prior_mmd"]) and 0.0 <= result["prior_in_hdr95"] <= 1.0
    unsupervised = zoo.get("aae_mog_fashion_mnist").with_train(dataset="digits")
    mog = zoo.build(unsupervised, event_shape=(8, 8, 1))
    mog.compile()
    result = evaluation.evaluate_model(mog, unsupervised.train, max_examples=50)
    assert "codes_in_own_component" not in result and "sample_class_accuracy" not in result


def test_component_logits_are_the_weighted_component_densities():
    model = supervised(num_classes=5, scale=0.5)
    loc = model.prior_layer.loc.numpy()
    z = np.concatenate([loc, [[0.3, -0.2]]]).astype(np.float32)
    d2 = ((z[:, None] - loc[None]) ** 2).sum(-1)
    expected = -d2 / (2 * 0.25) - np.log(2 * np.pi * 0.25) + np.log(1 / 5)
    np.testing.assert_allclose(model.component_logits(z), expected, rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(np.argmax(model.component_logits(loc), 1), np.arange(5))


def test_classification_weight_adds_the_label_cross_entropy_to_the_reconstruction_phase():
    x, y = next(iter(digits(batch_size=16, labels=True)))
    plain = supervised(num_classes=10)
    weighted = supervised(num_classes=10, classification_weight=2.5)
    weighted.set_weights(plain.get_weights())
    base, logs = plain.reconstruction_loss(x, y)
    loss, weighted_logs = weighted.reconstruction_loss(x, y)
    logits = plain.component_logits(plain.codes(x)).numpy().astype(np.float64)
    ce = -np.mean(  # stable log-softmax of the label
        logits[np.arange(16), y.numpy()]
        - logits.max(1)
        - np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(1))
    )
    np.testing.assert_allclose(float(loss), float(base) + 2.5 * ce, rtol=1e-4)
    assert float(weighted_logs["reconstruction"]) == pytest.approx(float(logs["reconstruction"]))
    assert AAE.from_config(weighted.get_config()).classification_weight == 2.5


@pytest.mark.parametrize(
    "kwargs",
    [
        {"prior": "supervised", "num_classes": 3, "classification_weight": -1.0},
        {"prior": "mixture", "classification_weight": 1.0},
    ],
)
def test_bad_classification_weight_is_refused(kwargs):
    with pytest.raises(ValueError, match="classification_weight"):
        AAE(event_shape=(8, 8, 1), **kwargs)
