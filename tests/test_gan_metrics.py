"""Sample-quality metrics: Frechet distance closed forms, the cached classifier, score, coverage."""

import numpy as np
import pytest

from tfgen import classifier as clf_module
from tfgen import data, metrics
from tfgen.classifier import ClassifierConfig, get_classifier

DIGITS = ClassifierConfig(filters=(16, 32), feature_dim=32, epochs=10, batch_size=32)


@pytest.fixture(scope="module")
def digits_classifier(tmp_path_factory):
    directory = tmp_path_factory.mktemp("cache")
    return get_classifier("digits", DIGITS, directory=directory), directory


def gaussian(rng, mu, cov, n):
    return rng.multivariate_normal(mu, cov, size=n)


def test_frechet_distance_of_samples_matches_the_gaussian_closed_form():
    rng = np.random.default_rng(0)
    mu1, mu2 = np.array([0.0, 1.0, -1.0]), np.array([1.0, 0.0, 0.5])
    a = rng.normal(size=[3, 3])
    cov1, cov2 = a @ a.T + 0.5 * np.eye(3), np.diag([0.5, 2.0, 1.0])
    closed = metrics.gaussian_frechet_distance(mu1, cov1, mu2, cov2)
    estimate = metrics.frechet_distance(
        gaussian(rng, mu1, cov1, 200_000), gaussian(rng, mu2, cov2, 200_000)
    )
    assert estimate == pytest.approx(closed, rel=0.02)
    # 1-D: (m1 - m2)^2 + (s1 - s2)^2
    one_d = metrics.frechet_distance(rng.normal(3, 2, [100_000, 1]), rng.normal(0, 1, [100_000, 1]))
    assert one_d == pytest.approx(9 + 1, rel=0.02)


def test_frechet_distance_is_zero_on_itself_symmetric_and_rotation_invariant():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=[500, 4]), rng.normal(size=[400, 4]) * 1.5 + 0.3
    assert metrics.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert metrics.frechet_distance(a, b) == pytest.approx(metrics.frechet_distance(b, a))
    q, _ = np.linalg.qr(rng.normal(size=[4, 4]))
    assert metrics.frechet_distance(a @ q, b @ q) == pytest.approx(metrics.frechet_distance(a, b))
    with pytest.raises(ValueError, match="^features"):
        metrics.frechet_distance(a, b[:, :3])


def test_score_from_probabilities_bounds():
    assert metrics.score_from_probabilities(np.eye(10)) == pytest.approx(10.0)
    assert metrics.score_from_probabilities(np.full([7, 10], 0.1)) == pytest.approx(1.0)
    one_class = np.tile(np.eye(10)[:1], [20, 1])  # confident but collapsed to one class
    assert metrics.score_from_probabilities(one_class) == pytest.approx(1.0)


@pytest.mark.slow  # trains the digits classifier (once per module)
def test_cached_classifier_is_accurate_and_loaded_without_training(digits_classifier, monkeypatch):
    clf, directory = digits_classifier
    assert clf.info["test_accuracy"] > 0.85
    x, y = data.load_arrays("digits", "test")
    x = x / np.float32(255)
    assert metrics.classifier_accuracy(x, y, clf) == pytest.approx(
        clf.info["test_accuracy"], abs=1e-4
    )
    assert metrics.classifier_features(x[:5], clf).shape == (5, 32)

    def no_training(*args, **kwargs):
        raise AssertionError("a cached classifier must not be retrained")

    monkeypatch.setattr(clf_module, "train_classifier", no_training)
    again = get_classifier("digits", DIGITS, directory=directory)
    np.testing.assert_allclose(again.probabilities(x[:8]), clf.probabilities(x[:8]), atol=1e-6)
    assert DIGITS.key("digits") != ClassifierConfig(epochs=1).key("digits")
    with pytest.raises(ValueError, match="^dataset"):
        get_classifier("cifar10", directory=directory)


@pytest.mark.slow  # trains the digits classifier (once per module)
def test_classifier_metrics_rank_real_above_noise_and_honour_value_range(digits_classifier):
    clf, _ = digits_classifier
    train, _ = data.load_arrays("digits", "train")
    test, y = data.load_arrays("digits", "test")
    train, test = train / np.float32(255), test / np.float32(255)
    noise = np.random.default_rng(0).random(test.shape, dtype=np.float32)
    real_fcd = metrics.frechet_classifier_distance(test, train, clf)
    assert 10 * real_fcd < metrics.frechet_classifier_distance(test, noise, clf)
    assert metrics.classifier_score(test, clf) > 2 * metrics.classifier_score(noise, clf)
    # the same images in [-1, 1] give the same figures when value_range says so
    signed = 2 * test - 1
    np.testing.assert_allclose(
        metrics.classifier_features(signed, clf, (-1, 1)),
        metrics.classifier_features(test, clf),
        atol=1e-5,
    )
    shuffled = np.random.default_rng(0).permutation(y)
    assert metrics.classifier_accuracy(test, shuffled, clf) < 0.3
    with pytest.raises(ValueError, match="^labels"):
        metrics.classifier_accuracy(test, y[:10], clf)
    with pytest.raises(ValueError, match="^value_range"):
        metrics.classifier_features(test, clf, (1, -1))


def test_mode_coverage_counts_modes_and_quality():
    angles = 2 * np.pi * np.arange(8) / 8
    centers = 2 * np.stack([np.cos(angles), np.sin(angles)], 1)
    rng = np.random.default_rng(0)
    all_modes = centers[rng.integers(0, 8, 4000)] + 0.02 * rng.normal(size=[4000, 2])
    modes, quality = metrics.mode_coverage(all_modes, centers, 0.02)
    assert modes == 8 and quality == pytest.approx(0.989, abs=0.01)  # P(chi2_2 <= 9) = 0.989
    three = centers[rng.integers(0, 3, 4000)] + 0.02 * rng.normal(size=[4000, 2])
    assert metrics.mode_coverage(three, centers, 0.02)[0] == 3
    blurred = centers[rng.integers(0, 8, 4000)] + 0.5 * rng.normal(size=[4000, 2])
    modes, quality = metrics.mode_coverage(blurred, centers, 0.02)
    assert quality < 0.01 and modes == 0
    with pytest.raises(ValueError, match="^samples"):
        metrics.mode_coverage(np.zeros([5, 3]), centers, 0.02)
