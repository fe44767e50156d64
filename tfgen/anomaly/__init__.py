"""Anomaly and out-of-distribution detection with explicit generative models.

An explicit model gives ``log p(x)``, so it can flag inputs unlike its training data; the naive
score (low likelihood = anomalous) fails on simple inputs, which any model finds likely
(Nalisnick et al. 2019: Fashion-MNIST models prefer handwritten digits). The corrected scores
are here, each a :class:`Scorer` (higher = more anomalous), with :class:`AnomalyDetector` for a
calibrated threshold, and the metrics in :mod:`tfgen.metrics` (``auroc``, ``auprc``,
``fpr_at_tpr``).

Example:
    >>> import numpy as np
    >>> from tfgen.models import IndependentBernoulli
    >>> model = IndependentBernoulli(event_shape=(28, 28, 1))
    >>> scorer = InputComplexity(model)
    >>> scorer.score(np.zeros([2, 28, 28, 1])).shape
    (2,)
"""

from tfgen.anomaly.background import add_l2_penalty, mutate, mutated_dataset
from tfgen.anomaly.compression import JBIG_TEMPLATE, context_bits, png_bits
from tfgen.anomaly.detector import METHODS, AnomalyDetector, make_scorer, min_calibration_size
from tfgen.anomaly.scorers import (
    InputComplexity,
    LikelihoodRatio,
    NegativeLogLikelihood,
    Scorer,
    check_images,
)
from tfgen.anomaly.typicality import Typicality

__all__ = [
    "JBIG_TEMPLATE",
    "METHODS",
    "AnomalyDetector",
    "InputComplexity",
    "LikelihoodRatio",
    "NegativeLogLikelihood",
    "Scorer",
    "Typicality",
    "add_l2_penalty",
    "check_images",
    "context_bits",
    "make_scorer",
    "min_calibration_size",
    "mutate",
    "mutated_dataset",
    "png_bits",
]
