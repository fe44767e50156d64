"""Pure functions from network outputs to TensorFlow Probability distributions.

Every model in tfgen returns plain tensors from ``call()`` (logits, locations, raw scales) and turns
them into distributions with the functions here, in float32 whatever the compute dtype (mixed
precision keeps distribution parameters, priors and KL terms in float32).

Image likelihoods are described by an :class:`ImageLikelihood`: how many network outputs a channel
needs, how to build the distribution from them, how to map a float image in [0, 1] onto the
distribution's support and back, the mean image, and the :class:`ValueRange` of the data it
scores. Models pick one by name (``"bernoulli"`` or ``"categorical"``) with
:func:`get_likelihood`.

The input range of every model, checked at every public entry point (``log_prob``, ``fit`` ...):

==============================================  =============================================
model                                           data it accepts (finite values only)
==============================================  =============================================
``likelihood="bernoulli"`` (and autoencoders    [0, 1]; grey levels allowed, scored as given
with ``output="bernoulli"``)                    (soft targets of the cross-entropy)
``likelihood="categorical"`` (256-way)          [0, 1] in levels ``k / 255`` (8-bit images / 255)
RNADE ``preprocessing="dequantize_logit"``      [0, 1] in levels ``k / 255``, as categorical
GANs with a tanh output (DCGAN, ``GAN(...,      [-1, 1]
output_activation="tanh")``)
RNADE ``preprocessing=None``, GANs with a       any finite real
linear output, autoencoders ``output="mse"``
==============================================  =============================================
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfgen import checks

tfd = tfp.distributions

#: Smallest scale a Gaussian built here can have (keeps log densities finite).
MIN_SCALE = 1e-4
_SOFTPLUS_INV_ONE = float(np.log(np.expm1(1.0)))  # softplus(x + this) == 1 at x == 0.
NUM_LEVELS = 256


def _f32(x) -> tf.Tensor:
    return tf.cast(x, tf.float32)


def bernoulli_image(logits: tf.Tensor, event_ndims: int = 3) -> tfd.Distribution:
    """Independent Bernoulli pixels from logits.

    Args:
        logits: ``[..., H, W, C]`` logits (never probabilities).
        event_ndims: how many trailing dimensions form one event.

    Returns:
        ``tfd.Independent(tfd.Bernoulli)`` with float32 samples in {0, 1}.

    Example:
        >>> d = bernoulli_image(tf.zeros([2, 4, 4, 1]))
        >>> float(d.log_prob(tf.ones([2, 4, 4, 1]))[0])  # 16 * log(1/2)
        -11.090354919433594
    """
    return tfd.Independent(
        tfd.Bernoulli(logits=_f32(logits), dtype=tf.float32), reinterpreted_batch_ndims=event_ndims
    )


def categorical_image(logits: tf.Tensor, event_ndims: int = 3) -> tfd.Distribution:
    """Independent 256-way categorical pixels.

    Args:
        logits: ``[..., H, W, C, 256]`` logits over intensity levels 0..255.
        event_ndims: how many dimensions before the level axis form one event.

    Returns:
        ``tfd.Independent(tfd.Categorical)`` over float32 levels in {0, ..., 255}.

    Example:
        >>> d = categorical_image(tf.zeros([1, 2, 2, 1, 256]))
        >>> round(float(d.log_prob(tf.zeros([1, 2, 2, 1]))[0]), 4)  # 4 * log(1/256)
        -22.1807
    """
    return tfd.Independent(
        tfd.Categorical(logits=_f32(logits), dtype=tf.float32),
        reinterpreted_batch_ndims=event_ndims,
    )


def gaussian_posterior(params: tf.Tensor) -> tfd.Distribution:
    """Diagonal Gaussian from ``[..., 2 * D]`` network outputs (location, raw scale).

    The scale is ``softplus(raw + softplus^-1(1)) + MIN_SCALE``: exactly 1 at ``raw = 0`` (like the
    TF tutorial's ``exp(0.5 * logvar)`` at init), smooth, and bounded away from zero, so a large
    learning rate cannot produce an infinite log density.

    Args:
        params: ``[..., 2 * D]`` tensor; the first half is the location.

    Returns:
        ``tfd.MultivariateNormalDiag`` with event shape ``[D]``.

    Example:
        >>> q = gaussian_posterior(tf.zeros([3, 4]))
        >>> q.event_shape.as_list(), round(float(q.stddev()[0, 0]), 4)
        ([2], 1.0001)
    """
    loc, raw_scale = tf.split(_f32(params), 2, axis=-1)
    scale = tf.nn.softplus(raw_scale + _SOFTPLUS_INV_ONE) + MIN_SCALE
    return tfd.MultivariateNormalDiag(loc=loc, scale_diag=scale)


def standard_normal(latent_dim: int) -> tfd.Distribution:
    """Isotropic standard normal prior ``N(0, I)`` of dimension ``latent_dim``.

    Example:
        >>> standard_normal(2).event_shape.as_list()
        [2]
    """
    return tfd.MultivariateNormalDiag(loc=tf.zeros([latent_dim]), scale_diag=tf.ones([latent_dim]))


def mixture_of_gaussians(logits: tf.Tensor, loc: tf.Tensor, scale: tf.Tensor) -> tfd.Distribution:
    """Mixture of Gaussians, univariate or diagonal multivariate components.

    Args:
        logits: ``[..., K]`` mixture logits.
        loc: ``[..., K]`` (univariate components) or ``[..., K, D]`` (diagonal Gaussians in D dims).
        scale: positive, same shape as ``loc``; floored at ``MIN_SCALE``.

    Returns:
        ``tfd.MixtureSameFamily`` with event shape ``[]`` or ``[D]``.

    Raises:
        ValueError: if ``loc`` has neither the rank of ``logits`` nor one more.

    Example:
        >>> m = mixture_of_gaussians(tf.zeros([2]), tf.constant([-1.0, 1.0]), tf.ones([2]))
        >>> m.event_shape.as_list(), round(float(m.mean()), 6)
        ([], 0.0)
    """
    logits, loc, scale = _f32(logits), _f32(loc), tf.maximum(_f32(scale), MIN_SCALE)
    rank_gap = loc.shape.rank - logits.shape.rank
    if rank_gap == 0:
        components = tfd.Normal(loc=loc, scale=scale)
    elif rank_gap == 1:
        components = tfd.MultivariateNormalDiag(loc=loc, scale_diag=scale)
    else:
        raise ValueError(
            f"loc must have the rank of logits ({logits.shape.rank}) or one more; got shape "
            f"{loc.shape} for logits of shape {logits.shape}"
        )
    return tfd.MixtureSameFamily(tfd.Categorical(logits=logits), components)


def has_analytic_kl(q: tfd.Distribution, p: tfd.Distribution) -> bool:
    """Whether TFP registers a closed-form ``KL(q || p)`` for these two distribution types."""
    try:
        tfd.kl_divergence(q, p)
    except NotImplementedError:
        return False
    return True


def kl_divergence(
    q: tfd.Distribution,
    p: tfd.Distribution,
    samples: tf.Tensor | None = None,
    mc_samples: int = 1,
    seed=None,
) -> tf.Tensor:
    """``KL(q || p)``: analytic when TFP has it, else a Monte-Carlo estimate under ``q``.

    The Monte-Carlo estimate is ``mean_s [log q(z_s) - log p(z_s)]`` over ``z_s ~ q``; pass the
    ``samples`` the model already drew (reparameterized, shape ``[S, *batch, *event]`` or
    ``[*batch, *event]``) so the gradient flows through them, or let it draw ``mc_samples``.

    Args:
        q: the approximate posterior.
        p: the prior.
        samples: optional draws from ``q`` to reuse for the Monte-Carlo estimate.
        mc_samples: Monte-Carlo draws to take when ``samples`` is None and no closed form exists.
        seed: stateless seed for those draws.

    Returns:
        float32 tensor of shape ``q.batch_shape`` in nats.

    Example:
        >>> q = tfd.MultivariateNormalDiag(tf.ones([2]), tf.ones([2]))
        >>> float(kl_divergence(q, standard_normal(2)))  # 0.5 * |mu|^2 = 1
        1.0
    """
    try:
        return tfd.kl_divergence(q, p)
    except NotImplementedError:
        pass
    if samples is None:
        samples = q.sample(mc_samples, seed=seed)
    log_ratio = q.log_prob(samples) - p.log_prob(samples)
    extra = log_ratio.shape.rank - len(q.batch_shape)
    return tf.reduce_mean(log_ratio, axis=list(range(extra))) if extra > 0 else log_ratio


@dataclasses.dataclass(frozen=True)
class ValueRange:
    """The values a model's data may take: an interval, optionally a grid of levels.

    Attributes:
        low: smallest allowed value (None: unbounded).
        high: largest allowed value (None: unbounded).
        levels: when set, values must be ``low + k (high - low) / (levels - 1)``, within
            ``LEVEL_TOLERANCE`` of a level (256 for 8-bit images in [0, 1]).
        hint: what to do with data outside the range, appended to error messages.

    Example:
        >>> UNIT.describe(), EIGHT_BIT.describe(), REAL.describe()
        ('values in [0, 1]', 'levels k / 255 in [0, 1]', 'finite values')
    """

    low: float | None = None
    high: float | None = None
    levels: int | None = None
    hint: str = ""

    def describe(self) -> str:
        """The rule in words, as error messages state it."""
        if self.low is None and self.high is None:
            return "finite values"
        span = f"[{self.low:g}, {self.high:g}]"
        if self.levels:
            return f"levels k / {self.levels - 1} in {span}"
        return f"values in {span}"


#: Largest distance from a level ``k / 255`` a value of 8-bit data may have (float rounding).
LEVEL_TOLERANCE = 1e-3
#: Bernoulli pixels: [0, 1], grey levels scored as given (the cross-entropy of soft targets).
UNIT = ValueRange(0.0, 1.0, hint="scale 8-bit images by 1/255")
#: 256-way categorical pixels: 8-bit levels ``k / 255``.
EIGHT_BIT = ValueRange(0.0, 1.0, NUM_LEVELS, hint="pass 8-bit images divided by 255")
#: Outputs of a tanh generator (GANs): [-1, 1].
SYMMETRIC = ValueRange(-1.0, 1.0, hint="scale images in [0, 1] by 2 x - 1")
#: Any finite real (real-valued densities, linear outputs).
REAL = ValueRange()


@dataclasses.dataclass(frozen=True)
class ImageLikelihood:
    """How an image model's outputs become ``p(x | ...)`` over float images in [0, 1].

    Attributes:
        name: ``"bernoulli"`` or ``"categorical"``.
        params_per_channel: network outputs per image channel (1 logit, or 256 level logits).
        distribution: ``outputs [..., H, W, C * params_per_channel] -> tfd.Distribution``.
        to_support: float image in [0, 1] -> values the distribution scores.
        from_support: distribution values -> float image in [0, 1].
        mean: network outputs -> mean image in [0, 1].
        value_range: the data the likelihood scores (:data:`UNIT` for Bernoulli pixels, grey
            levels included; :data:`EIGHT_BIT` for the 256-way categorical).
    """

    name: str
    params_per_channel: int
    distribution: Callable[[tf.Tensor], tfd.Distribution]
    to_support: Callable[[tf.Tensor], tf.Tensor]
    from_support: Callable[[tf.Tensor], tf.Tensor]
    mean: Callable[[tf.Tensor], tf.Tensor]
    value_range: ValueRange = UNIT


def _split_levels(outputs: tf.Tensor) -> tf.Tensor:
    shape = tf.shape(outputs)
    new_shape = tf.concat([shape[:-1], [shape[-1] // NUM_LEVELS, NUM_LEVELS]], axis=0)
    return tf.reshape(_f32(outputs), new_shape)


def _categorical_mean(outputs: tf.Tensor) -> tf.Tensor:
    probs = tf.nn.softmax(_split_levels(outputs), axis=-1)
    return tf.reduce_sum(probs * tf.linspace(0.0, 1.0, NUM_LEVELS), axis=-1)


LIKELIHOODS: dict[str, ImageLikelihood] = {
    "bernoulli": ImageLikelihood(
        name="bernoulli",
        params_per_channel=1,
        distribution=bernoulli_image,
        to_support=_f32,  # binary data expected: see tfgen.data.load(binarize=...)
        from_support=_f32,
        mean=lambda outputs: tf.sigmoid(_f32(outputs)),
        value_range=UNIT,
    ),
    "categorical": ImageLikelihood(
        name="categorical",
        params_per_channel=NUM_LEVELS,
        distribution=lambda outputs: categorical_image(_split_levels(outputs)),
        to_support=lambda x: tf.round(tf.clip_by_value(_f32(x), 0.0, 1.0) * (NUM_LEVELS - 1)),
        from_support=lambda v: _f32(v) / (NUM_LEVELS - 1),
        mean=_categorical_mean,
        value_range=EIGHT_BIT,
    ),
}


def get_likelihood(name: str) -> ImageLikelihood:
    """Looks up an :class:`ImageLikelihood` by name.

    Raises:
        ValueError: naming the allowed likelihoods when ``name`` is unknown.

    Example:
        >>> get_likelihood("categorical").params_per_channel
        256
    """
    checks.one_of("likelihood", name, sorted(LIKELIHOODS))
    return LIKELIHOODS[name]
