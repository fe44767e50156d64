"""Anomaly scores of explicit generative models: higher means more anomalous.

Every scorer wraps a model with ``log_prob`` (NADE, RNADE, PixelCNN, PixelRNN, the baselines;
latent models through their importance-weighted estimate ``log_prob(x, importance_samples=k)``)
and scores numpy or tensor images ``[N, *event_shape]`` in [0, 1], ``batch_size`` at a time under
one ``tf.function`` (the last batch is padded, so one trace serves every call).

* :class:`NegativeLogLikelihood`: ``-log p(x)`` in nats, or bits per dimension.
* :class:`LikelihoodRatio`: ``log p_background(x) - log p(x)`` (Ren et al. 2019).
* :class:`InputComplexity`: ``-log2 p(x) - L(x)``, ``L(x)`` a lossless code length in bits
  (Serra et al. 2020): JBIG's context model for binary images, PNG for grey levels.
* :class:`tfgen.anomaly.Typicality`: one score per batch of M inputs (Nalisnick et al. 2019).

References:
    Nalisnick et al. 2019, "Do Deep Generative Models Know What They Don't Know?", ICLR.
    Ren et al. 2019, "Likelihood Ratios for Out-of-Distribution Detection", NeurIPS.
    Serra et al. 2020, "Input Complexity and Out-of-Distribution Detection with Likelihood-based
    Generative Models", ICLR.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import numpy as np
import tensorflow as tf

from tfgen import checks
from tfgen.anomaly.compression import context_bits, png_bits


def check_images(name: str, x, event_shape) -> np.ndarray:
    """``x`` as float32 numpy ``[N >= 1, *event_shape]`` with finite values in [0, 1].

    Raises:
        ValueError: naming ``name`` for another shape, non-finite values or values out of range.

    Example:
        >>> check_images("x", np.zeros([2, 4, 4, 1]), (4, 4, 1)).shape
        (2, 4, 4, 1)
        >>> check_images("x", np.zeros([2, 4, 4]), (4, 4, 1))
        Traceback (most recent call last):
        ...
        ValueError: x must be images of shape [N, 4, 4, 1]; got (2, 4, 4)
    """
    x = np.asarray(x, np.float32)
    shape = tuple(int(d) for d in event_shape)
    if x.ndim != len(shape) + 1 or x.shape[1:] != shape or len(x) == 0:
        raise checks.fail(name, f"images of shape [N, {', '.join(map(str, shape))}]", x.shape)
    if not np.all(np.isfinite(x)) or x.min() < 0.0 or x.max() > 1.0:
        raise checks.fail(name, "finite values in [0, 1]", f"range [{x.min()}, {x.max()}]")
    return x


def _event_shape(name: str, model) -> tuple[int, ...]:
    if not callable(getattr(model, "log_prob", None)) or not hasattr(model, "event_shape"):
        raise checks.fail(name, "a model with log_prob and event_shape", type(model).__name__)
    return tuple(int(d) for d in model.event_shape)


class Scorer:
    """Base of the anomaly scores: ``score(x) -> [N]`` numpy, higher = more anomalous.

    Subclasses implement :meth:`_score_batch` (a graph function of one ``[B, ...]`` batch) and
    ``method``. ``group_size`` is 1 for per-input scores (M for batch tests).

    Args:
        model: a model with ``log_prob`` and ``event_shape``.
        batch_size: inputs per ``tf.function`` call.
        importance_samples: k of latent models' ``log_prob`` (ignored by exact models).
        seed: seed of latent models' importance draws (the same seed and ``batch_size``, the
            same scores).
    """

    method = "base"
    group_size = 1

    def __init__(self, model, *, batch_size: int = 500, importance_samples: int = 100, seed=0):
        self.event_shape = _event_shape("model", model)
        self.model = model
        self.batch_size = checks.positive_int("batch_size", batch_size)
        self.importance_samples = checks.positive_int("importance_samples", importance_samples)
        self.seed = checks.int_at_least("seed", seed, 0)
        self.num_dims = math.prod(self.event_shape)
        self._fn = None

    def _log_prob(self, model, x) -> tf.Tensor:
        """``model.log_prob(x)``; latent models with ``importance_samples`` and ``seed``."""
        params = inspect.signature(model.log_prob).parameters
        if "importance_samples" in params:
            return model.log_prob(x, importance_samples=self.importance_samples, seed=self.seed)
        return model.log_prob(x)

    def _score_batch(self, x: tf.Tensor) -> tf.Tensor:
        raise NotImplementedError

    def _batched(self, fn, x: np.ndarray) -> np.ndarray:
        if self._fn is None:
            self._fn = tf.function(fn)
        out = []
        for start in range(0, len(x), self.batch_size):
            chunk = x[start : start + self.batch_size]
            pad = self.batch_size - len(chunk)
            if pad:
                chunk = np.concatenate([chunk, np.zeros((pad,) + chunk.shape[1:], chunk.dtype)])
            out.append(self._fn(tf.constant(chunk)).numpy()[: self.batch_size - pad])
        return np.concatenate(out).astype(np.float64)

    def score(self, x) -> np.ndarray:
        """Anomaly scores ``[N]`` (float64) of images ``[N, *event_shape]`` in [0, 1].

        Raises:
            ValueError: naming ``x`` for a wrong shape or values outside [0, 1].
        """
        x = check_images("x", x, self.event_shape)
        return self._batched(self._score_batch, x)

    __call__ = score

    def calibration_scores(self, x, *, num_batches: int = 1000, seed: int = 0) -> np.ndarray:
        """The scores a detector calibrates its threshold on: :meth:`score` of ``x``."""
        return self.score(x)

    def get_config(self) -> dict[str, Any]:
        """The scorer's settings (JSON-serialisable; the models are saved separately)."""
        return {
            "method": self.method,
            "batch_size": self.batch_size,
            "importance_samples": self.importance_samples,
            "seed": self.seed,
        }


class NegativeLogLikelihood(Scorer):
    """``-log p(x)`` in nats (or bits per dimension): the naive score, which fails on
    Fashion-MNIST vs digits (Nalisnick et al. 2019).

    Example:
        >>> from tfgen.models import IndependentBernoulli
        >>> model = IndependentBernoulli(event_shape=(4, 4, 1))
        >>> s = NegativeLogLikelihood(model, bits_per_dim=True).score(np.zeros([3, 4, 4, 1]))
        >>> np.round(s, 3).tolist()  # an untrained model: every pixel p = 0.5, 1 bit per pixel
        [1.0, 1.0, 1.0]
    """

    def __init__(self, model, *, bits_per_dim: bool = False, **kwargs):
        super().__init__(model, **kwargs)
        self.bits_per_dim = bool(bits_per_dim)
        self.method = "bits_per_dim" if self.bits_per_dim else "nll"

    def _score_batch(self, x):
        nll = -self._log_prob(self.model, x)
        return nll / (self.num_dims * math.log(2.0)) if self.bits_per_dim else nll


class LikelihoodRatio(Scorer):
    """``log p_background(x) - log p(x)``: minus Ren et al.'s likelihood ratio.

    The background model (same architecture, trained on mutated inputs:
    :func:`tfgen.anomaly.mutated_dataset`) explains the population-level part of the likelihood
    (how many background pixels, smoothness), so the difference keeps the semantic part.

    Args:
        model: the in-distribution model.
        background: the background model, with the same ``event_shape``.
        **kwargs: :class:`Scorer` arguments.

    Raises:
        ValueError: naming ``background`` when its event shape differs from ``model``'s.

    Example:
        >>> from tfgen.models import IndependentBernoulli
        >>> a, b = IndependentBernoulli((4, 4, 1)), IndependentBernoulli((4, 4, 1))
        >>> LikelihoodRatio(a, b).score(np.ones([2, 4, 4, 1])).tolist()  # identical models
        [0.0, 0.0]
    """

    method = "likelihood_ratio"

    def __init__(self, model, background, **kwargs):
        super().__init__(model, **kwargs)
        shape = _event_shape("background", background)
        if shape != self.event_shape:
            raise checks.fail(
                "background", f"a model with event_shape {self.event_shape}", f"event_shape {shape}"
            )
        self.background = background

    def _score_batch(self, x):
        return self._log_prob(self.background, x) - self._log_prob(self.model, x)


class InputComplexity(Scorer):
    """``-log2 p(x) - L(x)`` in bits, ``L(x)`` the bits of a lossless code of the image.

    Simple inputs (few strokes, flat backgrounds) get a high likelihood from any model and a short
    code from a general-purpose compressor; the difference measures how much better the model
    explains ``x`` than a generic compressor does (Serra et al. 2020). The better the compressor,
    the better the score (their finding): binary images are coded by JBIG's adaptive context
    model (:func:`tfgen.anomaly.context_bits`), grey levels by PNG
    (:func:`tfgen.anomaly.png_bits`, whose header adds the same constant to every score).

    Args:
        model: a model with ``log_prob``.
        bit_depth: 8 (grey levels) or 1 (binary images).
        compressor: ``"context"`` (binary images only) or ``"png"``; None picks ``"context"``
            for ``bit_depth=1`` and ``"png"`` for 8. With ``"png"`` and ``bit_depth=1`` the
            code is a 1-bit PNG's scanlines.
        **kwargs: :class:`Scorer` arguments.

    Raises:
        ValueError: naming ``compressor`` when it is unknown, or ``"context"`` with
            ``bit_depth=8``.

    Example:
        >>> from tfgen.models import IndependentBernoulli
        >>> s = InputComplexity(IndependentBernoulli((28, 28, 1))).score(np.zeros([2, 28, 28, 1]))
        >>> bool(s[0] == s[1] and s[0] > 0)  # 784 bits under p = 0.5; a black PNG is shorter
        True
    """

    method = "complexity"

    def __init__(self, model, *, bit_depth: int = 8, compressor: str | None = None, **kwargs):
        super().__init__(model, **kwargs)
        self.bit_depth = checks.one_of("bit_depth", bit_depth, (1, 8))
        if compressor is None:
            compressor = "context" if self.bit_depth == 1 else "png"
        self.compressor = checks.one_of("compressor", compressor, ("context", "png"))
        if compressor == "context" and self.bit_depth != 1:
            wanted = "'png' for bit_depth=8 ('context' codes binary images)"
            raise checks.fail("compressor", wanted, compressor)

    def _score_batch(self, x):
        if self.compressor == "context":
            code = context_bits(x)
        else:
            code = png_bits(x, self.bit_depth)
        return -self._log_prob(self.model, x) / math.log(2.0) - code

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "bit_depth": self.bit_depth, "compressor": self.compressor}
