"""The typicality test of Nalisnick et al. (2019): is a batch of M inputs typical of the model?

A model's typical set holds the inputs whose ``-log p(x)`` is close to the entropy ``H`` of the
model's distribution, not the inputs of highest density. For a batch of M inputs the statistic is
``| mean_m(-log p(x_m)) - H |``, with ``H`` estimated by the mean negative log-likelihood of the
training set; the threshold comes from a bootstrap of in-distribution batches (sampled with
replacement from a validation set) at the chosen false-positive rate.

References:
    Nalisnick, Matsukawa, Teh and Lakshminarayanan 2019, "Detecting Out-of-Distribution Inputs to
    Deep Generative Models Using Typicality", arXiv:1906.02994.
"""

from __future__ import annotations

import numpy as np

from tfgen import checks
from tfgen.anomaly.scorers import Scorer, check_images


class Typicality(Scorer):
    """One score per batch of ``group_size`` inputs: ``|mean NLL of the batch - H|``.

    Args:
        model: a model with ``log_prob``.
        group_size: M, the inputs tested together (>= 2).
        entropy: ``H`` in nats, or None to estimate it with :meth:`fit`.
        **kwargs: :class:`tfgen.anomaly.Scorer` arguments.

    Raises:
        ValueError: naming ``group_size`` when M < 2; naming ``x`` when the number of inputs
            scored is not a multiple of M; naming ``entropy`` when scoring before :meth:`fit`.

    Example:
        >>> from tfgen.models import IndependentBernoulli
        >>> test = Typicality(IndependentBernoulli((4, 4, 1)), group_size=2, entropy=10.0)
        >>> np.round(test.score(np.zeros([4, 4, 4, 1])), 3).tolist()  # NLL 16 ln 2 = 11.09
        [1.09, 1.09]
    """

    method = "typicality"

    def __init__(self, model, *, group_size: int = 2, entropy: float | None = None, **kwargs):
        super().__init__(model, **kwargs)
        self.group_size = checks.int_at_least("group_size", group_size, 2)
        self.entropy = None if entropy is None else checks.number_in("entropy", entropy)

    def _score_batch(self, x):
        return -self._log_prob(self.model, x)

    def negative_log_likelihood(self, x) -> np.ndarray:
        """``-log p(x)`` per input, ``[N]`` nats."""
        return self._batched(self._score_batch, check_images("x", x, self.event_shape))

    def fit(self, x_train) -> Typicality:
        """Estimates ``H`` as the mean ``-log p`` of in-distribution training images; returns
        ``self``."""
        self.entropy = float(np.mean(self.negative_log_likelihood(x_train)))
        return self

    def _statistic(self, nll_groups: np.ndarray) -> np.ndarray:
        if self.entropy is None:
            raise checks.fail("entropy", "estimated first: call fit(x_train) or pass it", None)
        return np.abs(nll_groups.mean(axis=-1) - self.entropy)

    def score(self, x) -> np.ndarray:
        """One statistic per consecutive group of M inputs: ``[N / M]``."""
        x = check_images("x", x, self.event_shape)
        if len(x) % self.group_size:
            raise checks.fail("x", f"a multiple of group_size={self.group_size} images", len(x))
        if self.entropy is None:
            self._statistic(np.zeros([1, 1]))
        nll = self.negative_log_likelihood(x)
        return self._statistic(nll.reshape(-1, self.group_size))

    def calibration_scores(self, x, *, num_batches: int = 1000, seed: int = 0) -> np.ndarray:
        """Statistics of ``num_batches`` bootstrap batches of M inputs drawn from ``x`` with
        replacement (each input's likelihood is computed once)."""
        num_batches = checks.positive_int("num_batches", num_batches)
        nll = self.negative_log_likelihood(x)
        self._statistic(nll[:1, None])  # fails early when H is unknown
        index = np.random.default_rng(seed).integers(0, len(nll), [num_batches, self.group_size])
        return self._statistic(nll[index])

    def get_config(self) -> dict:
        return {**super().get_config(), "group_size": self.group_size, "entropy": self.entropy}
