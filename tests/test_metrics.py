"""tfgen.metrics against closed forms."""

import math

import numpy as np
import pytest
import tensorflow as tf

from tfgen import metrics


def test_bits_per_dim_round_trip_and_value():
    assert metrics.nats_to_bits_per_dim(784 * math.log(2), 784) == pytest.approx(1.0)
    nats = np.array([100.0, 250.0])
    np.testing.assert_allclose(
        metrics.bits_per_dim_to_nats(metrics.nats_to_bits_per_dim(nats, 784), 784), nats
    )
    # 8-bit uniform over 256 levels: exactly 8 bits per dimension
    assert metrics.nats_to_bits_per_dim(784 * math.log(256), 784) == pytest.approx(8.0)


def test_log_mean_exp_is_stable():
    v = tf.constant([[1000.0, 1000.0 + math.log(3.0)]])
    np.testing.assert_allclose(metrics.log_mean_exp(v, axis=1), [1000.0 + math.log(2.0)], rtol=1e-6)


def test_frechet_distance_closed_forms():
    mu = np.array([1.0, -2.0])
    cov = np.array([[2.0, 0.3], [0.3, 1.0]])
    assert metrics.gaussian_frechet_distance(mu, cov, mu, cov) == pytest.approx(0.0, abs=1e-6)
    # diagonal covariances: |dmu|^2 + sum (sqrt(a) - sqrt(b))^2
    a, b = np.array([1.0, 4.0]), np.array([9.0, 1.0])
    expected = 2.0**2 + (1 - 3) ** 2 + (2 - 1) ** 2
    assert metrics.gaussian_frechet_distance(
        [0, 0], np.diag(a), [2, 0], np.diag(b)
    ) == pytest.approx(expected)


def test_gaussian_statistics_shapes_and_errors():
    mu, cov = metrics.gaussian_statistics(np.random.default_rng(0).normal(size=[500, 3]))
    assert mu.shape == (3,) and cov.shape == (3, 3)
    with pytest.raises(ValueError, match="^features"):
        metrics.gaussian_statistics(np.zeros(5))
