"""The background model of the likelihood ratio (Ren et al. 2019): mutated inputs, L2 penalty.

The background model is the same architecture trained on inputs whose pixels are, with
probability ``rate`` each, replaced by a value drawn uniformly from the pixel alphabet
(``{0, 1}`` for binary images, the 256 levels ``k / 255`` for grey levels). The perturbation
destroys the semantic content and keeps the population-level statistics (the share of background
pixels, local smoothness), which the ratio cancels. Ren et al. also penalise the background
model's weights with L2 (:func:`add_l2_penalty`). Their Fashion-MNIST rates lie in [0.1, 0.3].

References:
    Ren et al. 2019, "Likelihood Ratios for Out-of-Distribution Detection", NeurIPS.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tfgen import checks

ALPHABETS = ("binary", "levels")


def mutate(x, rate: float, *, alphabet: str = "binary", seed=None) -> tf.Tensor:
    """Replaces each pixel of ``x`` with probability ``rate`` by a uniform value of ``alphabet``.

    Args:
        x: float images ``[B, H, W, C]`` in [0, 1].
        rate: the mutation rate, in [0, 1].
        alphabet: ``"binary"`` (values 0 and 1) or ``"levels"`` (``k / 255``, k in 0..255).
        seed: None (TensorFlow's global stream) or a stateless seed: an int or a shape-[2] tensor.

    Returns:
        float32 images with ``x``'s shape.

    Example:
        >>> x = tf.zeros([1, 28, 28, 1])
        >>> y = mutate(x, 0.5, seed=0)
        >>> 0.15 < float(tf.reduce_mean(y)) < 0.35  # half replaced, half of those by 1
        True
    """
    rate = checks.number_in("rate", rate, 0.0, 1.0)
    checks.one_of("alphabet", alphabet, ALPHABETS)
    x = tf.convert_to_tensor(x, tf.float32)
    shape = tf.shape(x)
    if seed is None:
        u = tf.random.uniform(shape)
        v = tf.random.uniform(shape)
    else:
        base = tf.cast(seed, tf.int32)
        if base.shape.rank == 0:
            base = tf.stack([base, 0])
        u = tf.random.stateless_uniform(shape, seed=base)
        v = tf.random.stateless_uniform(shape, seed=base + [0, 1])
    if alphabet == "binary":
        noise = tf.cast(v < 0.5, tf.float32)
    else:
        noise = tf.floor(v * 256.0) / 255.0
    return tf.where(u < rate, noise, x)


def mutated_dataset(
    dataset: tf.data.Dataset, rate: float, *, alphabet: str = "binary", seed: int = 0
) -> tf.data.Dataset:
    """``dataset`` (of image batches, or ``(images, labels)``) with every batch mutated.

    Each batch gets its own stateless seed, fresh every epoch, drawn from ``seed``: the mutations
    differ between epochs and are reproducible. Use it to train the background model of
    :class:`tfgen.anomaly.LikelihoodRatio`.

    Example:
        >>> from tfgen import data
        >>> ds = data.load("digits", "train", batch_size=8, binarize="static")
        >>> next(iter(mutated_dataset(ds, 0.2))).shape
        TensorShape([8, 8, 8, 1])
    """
    rate = checks.number_in("rate", rate, 0.0, 1.0)
    checks.one_of("alphabet", alphabet, ALPHABETS)
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)

    def apply(element, batch_seed):
        batch_seed = tf.cast(batch_seed % (2**31 - 1), tf.int32)
        if isinstance(element, tuple):
            return (mutate(element[0], rate, alphabet=alphabet, seed=batch_seed),) + element[1:]
        return mutate(element, rate, alphabet=alphabet, seed=batch_seed)

    return tf.data.Dataset.zip((dataset, seeds)).map(apply, num_parallel_calls=2).prefetch(2)


def add_l2_penalty(model: keras.Model, l2: float) -> keras.Model:
    """Adds ``l2 * sum(w^2)`` over the kernels (weights of rank >= 2) to ``model``'s loss.

    Sets a Keras L2 regularizer on each built kernel variable; tfgen's train step adds
    ``model.losses`` to the objective. Call it after the model is built and before ``fit``.

    Args:
        model: a built Keras model.
        l2: the penalty weight, > 0.

    Returns:
        ``model`` (changed in place).

    Example:
        >>> from tfgen.models import NADE
        >>> nade = NADE(event_shape=(4, 4, 1), hidden_units=3)
        >>> float(sum(add_l2_penalty(nade, 1e-3).losses)) > 0
        True
    """
    l2 = checks.positive_number("l2", l2)
    kernels = [v for v in model.trainable_variables if len(v.shape) >= 2]
    if not kernels:
        raise checks.fail("model", "a built model with kernel weights", type(model).__name__)
    for variable in kernels:
        variable.regularizer = keras.regularizers.L2(l2)
    return model
