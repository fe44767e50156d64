"""Helpers shared by the ``zoo.bench`` scripts: test data, code-space measures, CPU ceiling.

Imports TensorFlow and tfgen only inside the functions, like every ``zoo.bench`` module.
"""

from __future__ import annotations

import math
import time

import numpy as np


def static_binarized_test_set(dataset: str = "fashion_mnist") -> tuple[np.ndarray, np.ndarray]:
    """The test split thresholded at 0.5 (the ``static`` protocol) and its labels.

    Args:
        dataset: a ``tfgen.data`` name.

    Returns:
        ``(x, y)``: float32 images ``[N, H, W, C]`` in {0, 1} and integer labels ``[N]``.
    """
    from tfgen import data

    x, y = data.load_arrays(dataset, "test")
    return (x / 255.0 > 0.5).astype(np.float32), y


def encode_means(model, x: np.ndarray, labels=None, batch_size: int = 1000) -> np.ndarray:
    """``E[z | x]`` of a latent model's encoder, ``batch_size`` images at a time.

    Args:
        model: a model with ``encode(x, labels)`` returning a TFP distribution.
        x: images ``[N, H, W, C]``.
        labels: ``[N]`` class ids for conditional encoders, else None.
        batch_size: images encoded per call.

    Returns:
        ``[N, latent_dim]`` float32 codes.
    """
    chunks = []
    for i in range(0, len(x), batch_size):
        y = None if labels is None else labels[i : i + batch_size]
        chunks.append(model.encode(x[i : i + batch_size], y).mean().numpy())
    return np.concatenate(chunks)


def prior_match(codes, prior, seed: int = 0, subsets: int = 5, size: int = 2000) -> dict:
    """How well codes match a mixture prior (0, 0.95 and 0 when matched exactly).

    Args:
        codes: ``[N, D]`` codes (a sample of the aggregated posterior).
        prior: a ``tfd.MixtureSameFamily`` over ``[D]`` (e.g. ``model.prior_distribution``).
        seed: seed of the prior draws and of the subsets.
        subsets: number of disjoint subsets of ``size`` codes the MMD is averaged over.
        size: codes per subset.

    Returns:
        ``mmd`` and ``mmd_std``: unbiased MMD^2 (``tfgen.models.aae.mmd``) of each subset
        against as many prior draws, mean and spread over the subsets; ``in_hdr95``: fraction
        of codes inside the prior's 95% highest-density region; ``occupancy_kl``: KL(component
        occupancy || uniform) in nats, each code assigned to its most probable component.
    """
    from tfgen.models.aae import mmd

    codes = np.asarray(codes, np.float32)
    draws = prior.sample(len(codes), seed=(seed, 1)).numpy()
    perm = np.random.default_rng(seed).permutation(len(codes))
    values = [
        float(mmd(codes[perm[i * size : (i + 1) * size]], draws[i * size : (i + 1) * size]))
        for i in range(min(subsets, len(codes) // size))
    ]
    reference = prior.log_prob(prior.sample(20000, seed=(seed, 2))).numpy()
    threshold = np.quantile(reference, 0.05)
    in_hdr = float(np.mean(prior.log_prob(codes).numpy() > threshold))
    comp = prior.components_distribution.log_prob(codes[:, None, :]).numpy()  # [N, K]
    counts = np.bincount(comp.argmax(1), minlength=comp.shape[1]) / len(codes)
    occupancy_kl = float(np.sum(counts[counts > 0] * np.log(counts[counts > 0] * len(counts))))
    return {
        "mmd": float(np.mean(values)),
        "mmd_std": float(np.std(values)),
        "in_hdr95": in_hdr,
        "occupancy_kl": occupancy_kl,
    }


def train_flops_per_image(networks: list) -> float:
    """Training FLOPs per image: 2 x the multiply-adds of conv/dense layers, x3 (fwd + 2 bwd)."""
    import keras

    macs = 0
    for layer in (layer for net in networks for layer in net.layers):
        kernel = math.prod(getattr(layer, "kernel_size", ()))
        n_in, n_out = layer.input.shape[-1], layer.output.shape[-1]
        if isinstance(layer, keras.layers.Conv2DTranspose):  # each input pixel scatters a kernel
            macs += math.prod(layer.input.shape[1:-1]) * kernel * n_in * n_out
        elif isinstance(layer, keras.layers.Conv2D):  # each output pixel gathers a kernel
            macs += math.prod(layer.output.shape[1:-1]) * kernel * n_in * n_out
        elif isinstance(layer, keras.layers.Dense):
            macs += n_in * n_out
    return 3 * 2 * macs


def matmul_gflops(size: int = 2048, trials: int = 10, dtype: str = "float32") -> float:
    """Best rate of a ``size x size`` matmul of ``dtype`` in this process, GFLOP/s."""
    import tensorflow as tf

    a = tf.cast(tf.random.normal([size, size]), dtype)
    matmul = tf.function(lambda: tf.matmul(a, a)[0, 0])
    matmul()
    best = math.inf
    for _ in range(trials):
        start = time.perf_counter()
        matmul().numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9
