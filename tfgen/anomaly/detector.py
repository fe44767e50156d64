"""``AnomalyDetector``: a scorer with a threshold calibrated at a target false-positive rate."""

from __future__ import annotations

import json
import math
import os

import numpy as np

from tfgen import checks
from tfgen.anomaly.scorers import InputComplexity, LikelihoodRatio, NegativeLogLikelihood, Scorer
from tfgen.anomaly.typicality import Typicality

METHODS = ("nll", "bits_per_dim", "likelihood_ratio", "complexity", "typicality")
CONFIG_FILE, MODEL_FILE, BACKGROUND_FILE = "detector.json", "model.keras", "background.keras"


def make_scorer(method: str, model, background=None, **kwargs) -> Scorer:
    """The scorer named ``method`` (one of ``METHODS``) over ``model``.

    Args:
        method: ``"nll"``, ``"bits_per_dim"``, ``"likelihood_ratio"`` (needs ``background``),
            ``"complexity"`` or ``"typicality"``.
        model: the in-distribution model.
        background: the background model of ``"likelihood_ratio"``.
        **kwargs: the scorer's other arguments (``batch_size``, ``importance_samples``, ``seed``,
            ``group_size`` and ``entropy`` for typicality).

    Example:
        >>> from tfgen.models import IndependentBernoulli
        >>> make_scorer("bits_per_dim", IndependentBernoulli((4, 4, 1))).method
        'bits_per_dim'
    """
    checks.one_of("method", method, METHODS)
    if method == "likelihood_ratio":
        if background is None:
            raise checks.fail("background", "a model for method='likelihood_ratio'", None)
        return LikelihoodRatio(model, background, **kwargs)
    if background is not None:
        raise checks.fail("background", f"None for method={method!r}", type(background).__name__)
    if method == "typicality":
        return Typicality(model, **kwargs)
    if method == "complexity":
        return InputComplexity(model, **kwargs)
    return NegativeLogLikelihood(model, bits_per_dim=method == "bits_per_dim", **kwargs)


def min_calibration_size(target_fpr: float) -> int:
    """The fewest calibration inputs ``fit`` accepts: ``max(20, ceil(5 / target_fpr))`` (about
    five in-distribution scores above the threshold).

    Example:
        >>> min_calibration_size(0.05)
        100
    """
    return max(20, math.ceil(5.0 / target_fpr - 1e-9))


class AnomalyDetector:
    """Flags inputs whose anomaly score exceeds a threshold set on in-distribution data.

    Args:
        scorer: a :class:`tfgen.anomaly.Scorer` (``NegativeLogLikelihood``, ``LikelihoodRatio``,
            ``InputComplexity``, ``Typicality``).

    Attributes:
        threshold: the calibrated threshold (None before :meth:`fit`).
        target_fpr: the false-positive rate it was calibrated for.

    Example:
        >>> from tfgen.models import IndependentBernoulli
        >>> detector = AnomalyDetector(NegativeLogLikelihood(IndependentBernoulli((4, 4, 1))))
        >>> x = (np.random.default_rng(0).random([200, 4, 4, 1]) < 0.5).astype("float32")
        >>> detector.fit(x, target_fpr=0.05).predict(x[:3]).tolist()  # all scores equal here
        [False, False, False]
    """

    def __init__(self, scorer: Scorer):
        if not isinstance(scorer, Scorer):
            raise checks.fail("scorer", "a tfgen.anomaly.Scorer", type(scorer).__name__)
        self.scorer = scorer
        self.threshold: float | None = None
        self.target_fpr: float | None = None

    def fit(
        self, in_distribution_validation, target_fpr: float = 0.05, *, seed: int = 0
    ) -> AnomalyDetector:
        """Sets ``threshold`` to the ``1 - target_fpr`` quantile of in-distribution scores.

        For a batch test (``Typicality``) the scores are those of bootstrap batches drawn from
        the inputs. Returns ``self``.

        Args:
            in_distribution_validation: held-out in-distribution images (not the training set),
                at least :func:`min_calibration_size` of them.
            target_fpr: the fraction of in-distribution inputs (or batches) to flag, in (0, 1).
            seed: seed of the bootstrap batches.

        Raises:
            ValueError: naming ``target_fpr`` outside (0, 1) or ``in_distribution_validation``
                with too few images.
        """
        target_fpr = checks.number_in("target_fpr", target_fpr, 0.0, 1.0, low_open=True,
                                      high_open=True)  # fmt: skip
        x = np.asarray(in_distribution_validation)
        minimum = max(min_calibration_size(target_fpr), 2 * self.scorer.group_size)
        if x.ndim == 0 or len(x) < minimum:
            got = f"{len(x) if x.ndim else 0} images"
            raise checks.fail("in_distribution_validation", f"at least {minimum} images", got)
        scores = self.scorer.calibration_scores(x, seed=seed)
        self.threshold = float(np.quantile(scores, 1.0 - target_fpr, method="higher"))
        self.target_fpr = target_fpr
        return self

    def score(self, x) -> np.ndarray:
        """The scorer's anomaly scores of ``x`` (one per input, or per batch for typicality)."""
        return self.scorer.score(x)

    def predict(self, x) -> np.ndarray:
        """``score(x) > threshold`` as a bool array (True: anomalous).

        Raises:
            ValueError: naming ``threshold`` when the detector is not fitted.
        """
        if self.threshold is None:
            raise checks.fail("threshold", "calibrated first: call fit(x_validation)", None)
        return self.score(x) > self.threshold

    def save(self, directory: str) -> str:
        """Writes ``detector.json`` (method, settings, threshold) and the model(s) as ``.keras``
        files into ``directory``; returns ``directory``. Each file is written atomically."""
        from tfgen.callbacks import atomic_path, write_json

        os.makedirs(directory, exist_ok=True)
        with atomic_path(os.path.join(directory, MODEL_FILE)) as tmp:
            self.scorer.model.save(tmp)
        background = getattr(self.scorer, "background", None)
        if background is not None:
            with atomic_path(os.path.join(directory, BACKGROUND_FILE)) as tmp:
                background.save(tmp)
        config = {
            "scorer": self.scorer.get_config(),
            "threshold": self.threshold,
            "target_fpr": self.target_fpr,
        }
        write_json(os.path.join(directory, CONFIG_FILE), config)
        return directory

    @classmethod
    def load(cls, directory: str) -> AnomalyDetector:
        """The detector saved by :meth:`save` in ``directory``, threshold included.

        Raises:
            FileNotFoundError: ``directory`` holds no ``detector.json``.
        """
        import keras

        import tfgen  # noqa: F401  (registers the model classes)

        path = os.path.join(directory, CONFIG_FILE)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"no {CONFIG_FILE} in {directory!r}: not a saved detector")
        with open(path) as f:
            config = json.load(f)
        settings = dict(config["scorer"])
        method = settings.pop("method")
        model = keras.models.load_model(os.path.join(directory, MODEL_FILE))
        background = None
        if method == "likelihood_ratio":
            background = keras.models.load_model(os.path.join(directory, BACKGROUND_FILE))
        detector = cls(make_scorer(method, model, background, **settings))
        detector.threshold, detector.target_fpr = config["threshold"], config["target_fpr"]
        return detector
