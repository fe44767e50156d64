"""Unit conversions and evaluation metrics.

nats <-> bits/dim, IWAE averaging, and sample-quality metrics: the Frechet distance between feature
sets, the Frechet Classifier Distance (FCD), the inception-style classifier score and the class
accuracy of conditional samples, all on the features/probabilities of the small classifier that
tfgen trains and caches itself (:mod:`tfgen.classifier`; Inception weights are not available
offline).
"""

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
    """Mean and covariance (float64) of ``[N, F]`` features (for the Frechet distance)."""
    f = np.asarray(features, np.float64)
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"features must have shape [N >= 2, F]; got {f.shape}")
    return f.mean(axis=0), np.cov(f, rowvar=False)


def gaussian_frechet_distance(mu1, cov1, mu2, cov2) -> float:
    """Frechet distance between Gaussians ``N(mu1, cov1)`` and ``N(mu2, cov2)`` (the FID formula).

    ``|mu1 - mu2|^2 + tr(cov1 + cov2 - 2 (cov1^(1/2) cov2 cov1^(1/2))^(1/2))``, with the matrix
    square roots taken by symmetric eigendecomposition (negative round-off eigenvalues clipped).

    Example:
        >>> gaussian_frechet_distance(np.zeros(2), np.eye(2), np.ones(2), 4 * np.eye(2))  # 2 + 2
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


def frechet_distance(features_a, features_b) -> float:
    """Frechet distance between the Gaussians fitted to two feature sets ``[N, F]`` and ``[M, F]``.

    ``gaussian_frechet_distance`` of the two sets' means and covariances (the FID formula applied
    to whatever features are given). With Inception pool features this is FID.

    Raises:
        ValueError: naming ``features`` when a set is not ``[N >= 2, F]`` or the widths differ.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> a, b = rng.normal(size=[20000, 2]), 2.0 * rng.normal(size=[20000, 2]) + [3.0, 0.0]
        >>> round(frechet_distance(a, b), 1)  # 3^2 + 2 * (2 - 1)^2
        11.0
    """
    mu_a, cov_a = gaussian_statistics(features_a)
    mu_b, cov_b = gaussian_statistics(features_b)
    if mu_a.shape != mu_b.shape:
        raise ValueError(f"features must have the same width; got {mu_a.shape} and {mu_b.shape}")
    return gaussian_frechet_distance(mu_a, np.atleast_2d(cov_a), mu_b, np.atleast_2d(cov_b))


def _classifier(classifier):
    if isinstance(classifier, str):
        from tfgen.classifier import get_classifier

        return get_classifier(classifier)
    return classifier


def classifier_features(images, classifier="fashion_mnist", value_range=(0.0, 1.0)) -> np.ndarray:
    """Penultimate-layer features ``[N, F]`` of ``images`` (pixel range ``value_range``).

    ``classifier`` is a :class:`tfgen.classifier.ImageClassifier` or a dataset name whose cached
    classifier to use (trained on first use).
    """
    from tfgen.classifier import predict_in_batches

    clf = _classifier(classifier)
    return predict_in_batches(clf.features, images, value_range=value_range)


def classifier_probabilities(
    images, classifier="fashion_mnist", value_range=(0.0, 1.0)
) -> np.ndarray:
    """Class probabilities ``p(y | x)``, ``[N, K]``, of ``images`` under the classifier."""
    from tfgen.classifier import predict_in_batches

    clf = _classifier(classifier)
    return predict_in_batches(clf.probabilities, images, value_range=value_range)


def frechet_classifier_distance(
    images_a, images_b, classifier="fashion_mnist", value_range=(0.0, 1.0)
) -> float:
    """Frechet Classifier Distance: :func:`frechet_distance` of the classifier's features.

    FID with a dataset-specific classifier instead of Inception. Lower is better; 0 for identical
    feature statistics. Compare only figures from the same classifier and sample sizes (the
    estimate is biased upwards for small N); the real test split against the train split gives the
    floor.

    Args:
        images_a: ``[N, H, W, C]`` images (e.g. real test images).
        images_b: ``[M, H, W, C]`` images (e.g. model samples).
        classifier: an ``ImageClassifier`` or a dataset name (its cached classifier).
        value_range: pixel range of both image sets (``(-1, 1)`` for GAN samples).
    """
    clf = _classifier(classifier)
    return frechet_distance(
        classifier_features(images_a, clf, value_range),
        classifier_features(images_b, clf, value_range),
    )


def classifier_score(images, classifier="fashion_mnist", value_range=(0.0, 1.0)) -> float:
    """Inception-style score ``exp(E_x KL(p(y | x) || p(y)))`` under the classifier.

    High when each image is confidently classified (sharp ``p(y | x)``) and the classes are
    balanced (broad marginal ``p(y)``); between 1 and the number of classes K.

    Example:
        >>> from tfgen.classifier import ImageClassifier
        >>> clf = ImageClassifier((8, 8, 1), num_classes=4)
        >>> 1.0 <= classifier_score(np.random.rand(16, 8, 8, 1), clf) <= 4.0
        True
    """
    p = classifier_probabilities(images, classifier, value_range).astype(np.float64)
    return score_from_probabilities(p)


def score_from_probabilities(probabilities) -> float:
    """``exp(E_x KL(p(y | x) || p(y)))`` of ``[N, K]`` class probabilities (rows sum to 1).

    Example:
        >>> round(score_from_probabilities(np.eye(4)), 6)  # confident and balanced: K
        4.0
        >>> round(score_from_probabilities(np.full([5, 4], 0.25)), 6)  # uninformative: 1
        1.0
    """
    p = np.clip(np.asarray(probabilities, np.float64), 1e-12, 1.0)
    if p.ndim != 2:
        raise ValueError(f"probabilities must have shape [N, K]; got {p.shape}")
    marginal = p.mean(axis=0, keepdims=True)
    return float(np.exp(np.mean(np.sum(p * (np.log(p) - np.log(marginal)), axis=1))))


def classifier_accuracy(
    images, labels, classifier="fashion_mnist", value_range=(0.0, 1.0)
) -> float:
    """Fraction of ``images`` the classifier assigns to ``labels`` (argmax of ``p(y | x)``).

    For conditional samples ``x ~ p(x | y)`` this measures how well the model honours the label;
    the classifier's accuracy on real test images is its ceiling.

    Raises:
        ValueError: naming ``labels`` when there is not one per image.
    """
    labels = np.asarray(labels)
    if labels.shape != (len(images),):
        raise ValueError(f"labels must have shape [{len(images)}]; got {labels.shape}")
    p = classifier_probabilities(images, classifier, value_range)
    return float(np.mean(np.argmax(p, axis=1) == labels))


def mode_coverage(
    samples, centers, std: float, threshold: float = 3.0, min_share: float = 0.01
) -> tuple[int, float]:
    """Modes covered and share of high-quality samples, for mixtures of isotropic Gaussians.

    A sample is high quality when it lies within ``threshold * std`` of its nearest centre; a mode
    is covered when at least ``min_share`` of all samples are high-quality samples of it (the
    usual protocol on the ring/grid of Gaussians: Metz et al. 2017, Lin et al. 2018).

    Args:
        samples: ``[N, D]`` generated points.
        centers: ``[K, D]`` mode centres.
        std: the modes' standard deviation.
        threshold: the radius of a high-quality sample, in standard deviations.
        min_share: the share of all samples a mode needs to count as covered.

    Returns:
        ``(modes covered, share of high-quality samples)``.

    Example:
        >>> centers = np.array([[0.0, 0.0], [10.0, 0.0]])
        >>> mode_coverage(np.array([[0.01, 0.0], [0.0, 0.02], [5.0, 5.0]]), centers, std=0.1)
        (1, 0.6666666666666666)
    """
    samples, centers = np.asarray(samples, np.float64), np.asarray(centers, np.float64)
    if samples.ndim != 2 or centers.ndim != 2 or samples.shape[1] != centers.shape[1]:
        raise ValueError(
            f"samples [N, D] and centers [K, D] must agree; got {samples.shape}, {centers.shape}"
        )
    distances = np.linalg.norm(samples[:, None] - centers[None], axis=-1)
    nearest = distances.argmin(axis=1)
    good = distances[np.arange(len(samples)), nearest] <= threshold * std
    counts = np.bincount(nearest[good], minlength=len(centers))
    return int(np.sum(counts >= min_share * len(samples))), float(good.mean())


def _detection_inputs(in_scores, out_scores) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(in_scores, np.float64).ravel()
    b = np.asarray(out_scores, np.float64).ravel()
    for name, v in (("in_scores", a), ("out_scores", b)):
        if v.size == 0 or not np.all(np.isfinite(v)):
            raise ValueError(f"{name} must be a non-empty array of finite scores; got {v.size}")
    return a, b


def auroc(in_scores, out_scores) -> float:
    """Area under the ROC curve of separating out-of-distribution from in-distribution inputs.

    Out-of-distribution is the positive class and higher scores mean more anomalous (the
    convention of :mod:`tfgen.anomaly`). Equals ``P(s_out > s_in) + P(s_out == s_in) / 2``
    (the Mann-Whitney statistic; scikit-learn's ``roc_auc_score``). 0.5 is chance, values below
    0.5 mean the score ranks the wrong way.

    Example:
        >>> auroc([0.0, 1.0], [2.0, 3.0]), auroc([0.0, 1.0], [0.5, 1.0])
        (1.0, 0.625)
    """
    a, b = _detection_inputs(in_scores, out_scores)
    ranks = _average_ranks(np.concatenate([a, b]))
    return float((ranks[a.size :].sum() - b.size * (b.size + 1) / 2) / (a.size * b.size))


def _average_ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], values.size]
    ranks = np.empty(values.size)
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)  # 1-based average ranks
    return ranks


def _roc_points(a: np.ndarray, b: np.ndarray):
    """True/false positive counts at every distinct threshold, highest score first."""
    scores = np.concatenate([a, b])
    positive = np.r_[np.zeros(a.size), np.ones(b.size)]
    order = np.argsort(-scores, kind="mergesort")
    scores, positive = scores[order], positive[order]
    last = np.r_[np.flatnonzero(scores[1:] != scores[:-1]), scores.size - 1]
    tp = np.cumsum(positive)[last]
    fp = (last + 1) - tp
    return tp, fp


def auprc(in_scores, out_scores) -> float:
    """Area under the precision-recall curve (average precision), out-of-distribution positive.

    ``sum_n (R_n - R_{n-1}) P_n`` over the distinct thresholds, as scikit-learn's
    ``average_precision_score``. Chance level is the share of out-of-distribution inputs.

    Example:
        >>> auprc([0.0, 1.0], [2.0, 3.0]), auprc([1.0], [0.0])
        (1.0, 0.5)
    """
    a, b = _detection_inputs(in_scores, out_scores)
    tp, fp = _roc_points(a, b)
    precision, recall = tp / (tp + fp), tp / b.size
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def fpr_at_tpr(in_scores, out_scores, tpr: float = 0.95) -> float:
    """False-positive rate at the first threshold whose true-positive rate reaches ``tpr``.

    The share of in-distribution inputs flagged when the threshold is set to catch ``tpr`` of the
    out-of-distribution ones (FPR at 95% TPR by default; lower is better).

    Example:
        >>> fpr_at_tpr([0.0, 1.0, 2.0, 3.0], [1.5, 2.5, 3.5])
        0.5
    """
    a, b = _detection_inputs(in_scores, out_scores)
    if not 0.0 < tpr <= 1.0:
        raise ValueError(f"tpr must be a number in (0, 1]; got {tpr!r}")
    tp, fp = _roc_points(a, b)
    first = int(np.searchsorted(tp / b.size, tpr - 1e-12, side="left"))
    return float(fp[first] / a.size)
