"""Dropout whose masks differ across the replicas of a ``tf.distribute`` strategy.

Keras' ``Dropout`` draws its mask from a ``SeedGenerator`` whose state every replica reads
alike, so under ``MirroredStrategy`` each replica applies the same mask to its own examples.
:class:`ReplicaDropout` folds the replica id into the seed (``tfgen.distribute.replica_seed``);
on one device it is ordinary inverted dropout.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tfgen import checks
from tfgen.distribute import replica_seed


@keras.saving.register_keras_serializable(package="tfgen")
class ReplicaDropout(keras.layers.Layer):
    """Inverted dropout with a per-replica stateless seed.

    Args:
        rate: fraction of the inputs set to 0 in training, in [0, 1).
        seed: seed of the layer's random stream.
        **kwargs: ``keras.layers.Layer`` arguments.

    Example:
        >>> layer = ReplicaDropout(0.5, seed=0)
        >>> x = tf.ones([1000])
        >>> kept = layer(x, training=True)
        >>> sorted(set(kept.numpy().tolist())), bool(tf.reduce_all(layer(x) == x))
        ([0.0, 2.0], True)
    """

    def __init__(self, rate: float, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.rate = checks.number_in("rate", rate, 0.0, 1.0, high_open=True)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training: bool = False):
        if not training or self.rate == 0.0:
            return inputs
        seed = replica_seed(tf.cast(self.seed_generator.next(), tf.int32))
        return tf.nn.experimental.stateless_dropout(inputs, self.rate, seed)

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


__all__ = ["ReplicaDropout"]
