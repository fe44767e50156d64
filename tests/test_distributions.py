"""tfgen.distributions against closed forms."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
from scipy import stats

from tfgen import distributions as dists

tfd = tfp.distributions


def test_bernoulli_image_log_prob_is_cross_entropy():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=[3, 4, 4, 1]).astype(np.float32)
    x = (rng.random([3, 4, 4, 1]) < 0.5).astype(np.float32)
    p = 1 / (1 + np.exp(-logits))
    expected = np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=(1, 2, 3))
    d = dists.bernoulli_image(logits)
    assert d.event_shape == [4, 4, 1] and d.batch_shape == [3]
    np.testing.assert_allclose(d.log_prob(x), expected, rtol=1e-5)


def test_categorical_image_log_prob_and_mean():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=[2, 3, 3, 1, 256]).astype(np.float32)
    levels = rng.integers(0, 256, size=[2, 3, 3, 1])
    log_softmax = logits - np.log(np.sum(np.exp(logits), axis=-1, keepdims=True))
    expected = np.take_along_axis(log_softmax, levels[..., None], -1).sum(axis=(1, 2, 3, 4))
    lik = dists.get_likelihood("categorical")
    flat = logits.reshape([2, 3, 3, 256])
    x = levels.astype(np.float32) / 255
    np.testing.assert_allclose(
        lik.distribution(flat).log_prob(lik.to_support(x)), expected, rtol=1e-5
    )
    probs = np.exp(log_softmax)
    np.testing.assert_allclose(lik.mean(flat), (probs * np.arange(256) / 255).sum(-1), rtol=1e-5)
    np.testing.assert_allclose(lik.from_support(lik.to_support(x)), x, atol=1e-7)


def test_gaussian_posterior_scale_is_one_at_zero_and_bounded_below():
    q = dists.gaussian_posterior(tf.constant([[0.0, 0.0, 0.0, 0.0], [1.0, 2.0, -1e4, -1e4]]))
    np.testing.assert_allclose(q.stddev()[0], [1.0 + dists.MIN_SCALE] * 2, rtol=1e-6)
    np.testing.assert_allclose(q.mean()[1], [1.0, 2.0])
    assert np.all(q.stddev()[1].numpy() >= dists.MIN_SCALE)
    assert np.all(np.isfinite(q.log_prob(tf.zeros([2, 2]))))


def test_mixture_of_gaussians_matches_scipy():
    logits = np.log([0.2, 0.8]).astype(np.float32)
    loc, scale = np.array([-1.0, 2.0], np.float32), np.array([0.5, 1.5], np.float32)
    x = np.linspace(-3, 4, 9).astype(np.float32)
    m = dists.mixture_of_gaussians(logits, loc, scale)
    expected = np.log(0.2 * stats.norm.pdf(x, -1, 0.5) + 0.8 * stats.norm.pdf(x, 2, 1.5))
    np.testing.assert_allclose(m.log_prob(x), expected, rtol=1e-5)
    mv = dists.mixture_of_gaussians(tf.zeros([3]), tf.zeros([3, 2]), tf.ones([3, 2]))
    assert mv.event_shape == [2]
    with pytest.raises(ValueError, match="^loc"):
        dists.mixture_of_gaussians(tf.zeros([3]), tf.zeros([3, 2, 2]), tf.ones([3, 2, 2]))


def test_analytic_kl_equals_monte_carlo_kl():
    q = tfd.MultivariateNormalDiag([0.5, -1.0], [0.7, 1.3])
    p = dists.standard_normal(2)
    analytic = float(dists.kl_divergence(q, p))
    closed = 0.5 * sum(m**2 + s**2 - 1 - 2 * np.log(s) for m, s in [(0.5, 0.7), (-1.0, 1.3)])
    assert abs(analytic - closed) < 1e-5
    z = q.sample(200_000, seed=(1, 2))
    mc = float(tf.reduce_mean(q.log_prob(z) - p.log_prob(z)))
    assert abs(mc - analytic) < 0.02, (mc, analytic)


def test_kl_falls_back_to_monte_carlo_for_a_mixture_prior():
    q = tfd.MultivariateNormalDiag(tf.zeros([4, 2]), tf.ones([4, 2]))
    prior = dists.mixture_of_gaussians(tf.zeros([2]), [[-2.0, 0.0], [2.0, 0.0]], tf.ones([2, 2]))
    assert not dists.has_analytic_kl(q, prior)
    kl = dists.kl_divergence(q, prior, mc_samples=50_000, seed=(3, 4))
    assert kl.shape == [4]
    z = q.sample(200_000, seed=(5, 6))
    reference = tf.reduce_mean(q.log_prob(z) - prior.log_prob(z), axis=0)
    np.testing.assert_allclose(kl, reference, atol=0.05)
    assert np.all(kl.numpy() > 0)  # KL >= 0 (Jensen)
    samples = q.sample(seed=(7, 8))  # reuse a single draw, shape [*batch, *event]
    assert dists.kl_divergence(q, prior, samples=samples).shape == [4]


def test_kl_is_not_symmetric():
    a, b = tfd.Normal(0.0, 1.0), tfd.Normal(1.0, 2.0)
    assert abs(float(tfd.kl_divergence(a, b)) - float(tfd.kl_divergence(b, a))) > 0.1


def test_unknown_likelihood_lists_choices():
    with pytest.raises(ValueError, match="^likelihood must be one of \\[.bernoulli"):
        dists.get_likelihood("poisson")
