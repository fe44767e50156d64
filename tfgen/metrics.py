"""Unit conversions and evaluation metrics: nats <-> bits/dim, IWAE averaging, Frechet distance."""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf


def nats_to_bits_per_dim(nats, num_dims: int):
    """Negative log-likelihood per example in nats -> bits per dimension: ``nats / (D ln 2)``.

    Example:
        >>> round(nats_to_bits_per_dim(784 * math.log(2.0), 784), 6)
        1.0
    """
    return nats / (num_dims * math.log(2.0))


def bits_per_dim_to_nats(bits_per_dim, num_dims: int):
    """Bits per dimension -> nats per example: ``bpd * D * ln 2``.

    Example:
        >>> round(bits_per_dim_to_nats(1.0, 784), 3)
        543.427
    """
    return bits_per_dim * num_dims * math.log(2.0)


def log_mean_exp(log_values: tf.Tensor, axis: int = 0) -> tf.Tensor:
    """``log(mean(exp(v)))`` along ``axis``, computed stably (the IWAE combination of log weights).

    Example:
        >>> float(log_mean_exp(tf.math.log([1.0, 3.0])))  # log(2)
        0.6931471824645996
    """
    log_values = tf.convert_to_tensor(log_values)
    n = tf.cast(tf.shape(log_values)[axis], log_values.dtype)
    return tf.reduce_logsumexp(log_values, axis=axis) - tf.math.log(n)


def gaussian_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance (float64) of ``[N, F]`` features, for :func:`frechet_distance`."""
    f = np.asarray(features, np.float64)
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"features must have shape [N >= 2, F]; got {f.shape}")
    return f.mean(axis=0), np.cov(f, rowvar=False)


def frechet_distance(mu1, cov1, mu2, cov2) -> float:
    """Frechet distance between Gaussians ``N(mu1, cov1)`` and ``N(mu2, cov2)`` (the FID formula).

    ``|mu1 - mu2|^2 + tr(cov1 + cov2 - 2 (cov1^(1/2) cov2 cov1^(1/2))^(1/2))``, with the matrix
    square roots taken by symmetric eigendecomposition (negative round-off eigenvalues clipped).

    Example:
        >>> frechet_distance(np.zeros(2), np.eye(2), np.ones(2), 4 * np.eye(2))  # 2 + 2*(1-2)^2
        4.0
    """
    mu1, mu2 = np.atleast_1d(mu1).astype(np.float64), np.atleast_1d(mu2).astype(np.float64)
    cov1, cov2 = np.atleast_2d(cov1).astype(np.float64), np.atleast_2d(cov2).astype(np.float64)
    if mu1.shape != mu2.shape or cov1.shape != cov2.shape or cov1.shape != mu1.shape * 2:
        raise ValueError(
            f"shapes must agree: mu {mu1.shape} vs {mu2.shape}, cov {cov1.shape} vs {cov2.shape}"
        )

    def sqrtm_psd(a):
        w, v = np.linalg.eigh((a + a.T) / 2)
        return (v * np.sqrt(np.clip(w, 0, None))) @ v.T

    root1 = sqrtm_psd(cov1)
    cross = sqrtm_psd(root1 @ cov2 @ root1)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(cov1) + np.trace(cov2) - 2 * np.trace(cross))
