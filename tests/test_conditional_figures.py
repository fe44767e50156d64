"""Class accuracy of conditional samples (``zoo.prior_figures.sample_class_accuracy``) and its
place in ``tfgen evaluate``: the CVAE and the conditional DCGAN report it, unconditional models
and ``classifier=False`` do not."""

import numpy as np
import pytest

import zoo
from zoo import evaluation
from zoo.prior_figures import CHUNK, sample_class_accuracy

pytestmark = pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")


class LabelInPixels:
    """A stand-in conditional model whose samples carry their label in every pixel."""

    num_classes = 10

    def __init__(self):
        self.calls = []

    def sample(self, n, seed, labels, **kwargs):
        self.calls.append((n, seed, kwargs))
        pixel = np.asarray(labels, np.float32)[:, None, None, None] / 10
        return np.broadcast_to(pixel, (n, 4, 4, 1))


class ReadsPixels:
    """Reads the class a ``LabelInPixels`` sample carries, shifted by ``shift``."""

    def __init__(self, shift=0):
        self.shift = shift

    def probabilities(self, images):
        ids = (np.rint(np.asarray(images)[:, 0, 0, 0] * 10).astype(int) + self.shift) % 10
        return np.eye(10)[ids]


def test_sample_class_accuracy_keeps_each_sample_with_its_label_across_chunks():
    model = LabelInPixels()
    n = 2 * CHUNK + 7  # three chunks, the last one short
    assert sample_class_accuracy(model, n, ReadsPixels(), seed=5, mean=True) == 1.0
    assert [c[0] for c in model.calls] == [CHUNK, CHUNK, 7]
    assert [c[1] for c in model.calls] == [5, 5 + CHUNK, 5 + 2 * CHUNK]  # one seed per chunk
    assert all(c[2] == {"mean": True} for c in model.calls)
    assert sample_class_accuracy(model, n, ReadsPixels(shift=1)) == 0.0


class Uniform:
    """Every class equally likely: argmax answers class 0, right for 1 sample in 10."""

    info: dict = {}

    def __init__(self):
        self.images = []

    def probabilities(self, images):
        self.images.append(np.asarray(images))
        return np.full([len(images), 10], 0.1)

    def features(self, images):  # FCD features: the first pixels
        return np.reshape(np.asarray(images, np.float32), [len(images), -1])[:, :3]


@pytest.mark.parametrize(
    "name, conditional",
    [
        ("cvae_small_fashion_mnist", True),
        ("dcgan_conditional_fashion_mnist", True),
        ("vae_fast_fashion_mnist", False),
    ],
)
def test_evaluate_model_reports_sample_class_accuracy_of_conditional_models(
    monkeypatch, name, conditional
):
    preset = zoo.get(name).with_train(dataset="digits")
    model = zoo.build(preset, event_shape=(8, 8, 1))
    model.compile()
    clf = Uniform()
    monkeypatch.setattr(evaluation, "_classifier", lambda recipe: clf)
    result = evaluation.evaluate_model(model, preset.train, max_examples=60)
    if not conditional:
        assert "sample_class_accuracy" not in result
        return
    assert result["sample_class_accuracy"] == pytest.approx(0.1)  # labels 0..9 in turn
    samples = clf.images[-1]
    assert samples.shape == (60, 8, 8, 1)
    if preset.model_class == "ConditionalVAE":  # decoder means, not Bernoulli draws
        assert np.any((samples > 0.01) & (samples < 0.99))
    else:  # a conditional GAN's FCD, score and accuracy share one labelled draw
        assert np.isfinite(result["fcd"])
        np.testing.assert_array_equal(clf.images[-2], samples)
    without = evaluation.evaluate_model(model, preset.train, max_examples=60, classifier=False)
    assert "sample_class_accuracy" not in without
