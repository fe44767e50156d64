"""Figures of codes against their prior, and of conditional samples (``tfgen evaluate``).

``prior_figures``: how well the test codes match the prior; ``codes_in_own_component`` and
``supervised_prior_figures``: how well a label-supervised prior binds each class to its
component; ``sample_class_accuracy``: how class-accurate a conditional model's samples are (CVAE,
conditional DCGAN, supervised AAE), by the tfgen classifier.
"""

from __future__ import annotations

import numpy as np

CHUNK = 500  # images encoded or sampled at a time


def encode_means(model, x: np.ndarray) -> np.ndarray:
    """The means of the model's codes of ``x``, encoded ``CHUNK`` images at a time."""
    return np.concatenate(
        [np.asarray(model.encode(x[i : i + CHUNK]).mean()) for i in range(0, len(x), CHUNK)]
    )


def prior_figures(model, codes: np.ndarray, seed: int, size: int = 2000) -> dict:
    """``prior_mmd`` (MMD of the first ``size`` codes to as many prior draws) and
    ``prior_in_hdr95`` (their share inside the prior's 95% highest-density region)."""
    from tfgen.models.aae import mmd

    codes = codes[:size]
    prior = model.prior_distribution
    draws = np.asarray(prior.sample(len(codes), seed=(seed, 1)))
    reference = np.asarray(prior.log_prob(prior.sample(20000, seed=(seed, 2))))
    in_hdr = np.mean(np.asarray(prior.log_prob(codes)) > np.quantile(reference, 0.05))
    return {"prior_mmd": float(mmd(codes, draws)), "prior_in_hdr95": float(in_hdr)}


def codes_in_own_component(model, codes, labels) -> float:
    """Share of ``codes`` whose most likely component of the model's mixture prior (one per
    class: ``prior="supervised"``) is their label's; 1.0 when each lies in its own.

    Raises:
        ValueError: naming ``labels`` when there is not one per code.

    Example:
        >>> from tfgen.models import AAE
        >>> aae = AAE(event_shape=(8, 8, 1), prior="supervised", num_classes=4, prior_scale=0.1)
        >>> y = np.arange(40) % 4
        >>> codes_in_own_component(aae, aae.sample_prior(40, seed=0, labels=y), y)
        1.0
    """
    codes, labels = np.asarray(codes, np.float32), np.asarray(labels)
    if labels.shape != codes.shape[:1]:
        raise ValueError(f"labels must have shape [{len(codes)}]; got {labels.shape}")
    prior = model.prior_distribution  # argmax_k pi_k N(z; mu_k, sigma_k): nearest mean on a ring
    log_p = prior.components_distribution.log_prob(codes[:, None, :]) + np.log(
        prior.mixture_distribution.probs_parameter()
    )
    return float(np.mean(np.argmax(np.asarray(log_p), axis=1) == labels))


def supervised_prior_figures(model, codes, labels, classifier, value_range=(0.0, 1.0), seed=0):
    """``codes_in_own_component`` of ``codes`` and ``sample_class_accuracy``: the accuracy of
    ``classifier`` (an ``ImageClassifier``, or a dataset name) on as many samples
    ``model.sample(labels=i % num_classes, mean=True)``, drawn in chunks with seed ``seed + i``
    (``classifier=None``: ``codes_in_own_component`` only).

    Example:
        >>> from tfgen.models import AAE
        >>> aae = AAE(event_shape=(8, 8, 1), prior="supervised", num_classes=4, prior_scale=0.1)
        >>> y = np.arange(40) % 4
        >>> class SaysZero:  # a classifier answering class 0 to everything
        ...     def probabilities(self, images):
        ...         return np.eye(4)[np.zeros(len(images), int)]
        >>> supervised_prior_figures(aae, aae.sample_prior(40, seed=0, labels=y), y, SaysZero())
        {'codes_in_own_component': 1.0, 'sample_class_accuracy': 0.25}
    """
    own = {"codes_in_own_component": codes_in_own_component(model, codes, labels)}
    if classifier is None:
        return own
    accuracy = sample_class_accuracy(model, len(codes), classifier, value_range, seed, mean=True)
    return {**own, "sample_class_accuracy": accuracy}


def sample_class_accuracy(
    model, num_samples, classifier, value_range=(0.0, 1.0), seed=0, **sample_kwargs
) -> float:
    """Accuracy of ``classifier`` (an ``ImageClassifier``, or a dataset name) on
    ``num_samples`` samples of a conditional model, sample ``i`` drawn with label
    ``i % num_classes``, ``CHUNK`` at a time with seed ``seed + i`` and ``sample_kwargs``
    (e.g. ``mean=True``): how often a sample shows the class it was asked for.

    Example:
        >>> from tfgen.models import ConditionalVAE
        >>> cvae = ConditionalVAE(event_shape=(8, 8, 1), num_classes=4, latent_dim=2)
        >>> class SaysZero:  # a classifier answering class 0 to everything
        ...     def probabilities(self, images):
        ...         return np.eye(4)[np.zeros(len(images), int)]
        >>> sample_class_accuracy(cvae, 40, SaysZero(), mean=True)
        0.25
    """
    from tfgen import metrics

    images, ids = class_samples(model, num_samples, seed, **sample_kwargs)
    return metrics.classifier_accuracy(images, ids, classifier, value_range)


def class_samples(
    model, num_samples: int, seed: int = 0, **sample_kwargs
) -> tuple[np.ndarray, np.ndarray]:
    """``(images, ids)``: ``num_samples`` samples of a conditional model, sample ``i`` asked for
    class ``ids[i] = i % num_classes``, drawn ``CHUNK`` at a time with seed ``seed + i``.

    Example:
        >>> from tfgen.models import ConditionalVAE
        >>> cvae = ConditionalVAE(event_shape=(8, 8, 1), num_classes=4, latent_dim=2)
        >>> images, ids = class_samples(cvae, 6, mean=True)
        >>> images.shape, ids.tolist()
        ((6, 8, 8, 1), [0, 1, 2, 3, 0, 1])
    """
    ids = np.arange(num_samples) % model.num_classes
    images = [
        np.asarray(
            model.sample(
                len(ids[i : i + CHUNK]), seed=seed + i, labels=ids[i : i + CHUNK], **sample_kwargs
            )
        )
        for i in range(0, num_samples, CHUNK)
    ]
    return np.concatenate(images), ids


__all__ = [
    "CHUNK",
    "class_samples",
    "codes_in_own_component",
    "encode_means",
    "prior_figures",
    "sample_class_accuracy",
    "supervised_prior_figures",
]
