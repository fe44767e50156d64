"""Mode-collapse remedies for GAN discriminators: minibatch discrimination and experience replay."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf

from tfgen import checks


@keras.saving.register_keras_serializable(package="tfgen")
class MinibatchDiscrimination(keras.layers.Layer):
    """Appends minibatch features to each example (Salimans et al. 2016, section 3.2).

    For features ``f_i`` ``[B, A]``, ``M_i = f_i T`` reshaped to ``[K, D]`` (a learned tensor
    ``T`` of shape ``[A, K * D]``); ``c_k(i, j) = exp(-||M_{i,k} - M_{j,k}||_1)``;
    ``o_k(i) = sum_{j != i} c_k(i, j) / (B - 1)``. The output is ``concat(f_i, o(i))``
    ``[B, A + K]``: the discriminator sees how close each example is to the others in its batch,
    so a generator that collapses (every fake alike) is easy to spot.

    ``o`` is the paper's sum divided by ``B - 1``, the mean similarity to the other examples, in
    [0, 1]. The raw sum lies in [0, B - 1] (0 to 127 at batch 128): fed to the logit layer it
    saturated the discriminator at initialisation (logits of about +-20 instead of about 0 on the
    ring of 8 Gaussians) and made minibatch discrimination cover *fewer* modes than no remedy
    (``zoo/bench/mode_collapse.py``). The paper's code keeps the features in range by normalising
    ``T`` with a data-dependent initialisation and a learned bias; dividing by the constant
    ``B - 1`` does the same without it, and also makes the features independent of the batch
    size (``predict`` on smaller batches sees the same scale as training).

    Args:
        num_kernels: K, the number of minibatch features added.
        kernel_dim: D, the dimension of each kernel's projection.
        **kwargs: ``keras.layers.Layer`` arguments.

    Raises:
        ValueError: naming ``num_kernels`` or ``kernel_dim`` when not a positive int.

    Example:
        >>> layer = MinibatchDiscrimination(num_kernels=3, kernel_dim=2)
        >>> out = layer(tf.zeros([4, 5]))
        >>> out.shape, float(out[0, -1])  # identical examples: o = 1 (its maximum)
        (TensorShape([4, 8]), 1.0)

    References:
        Salimans et al., "Improved Techniques for Training GANs", NeurIPS 2016.
    """

    def __init__(self, num_kernels: int = 50, kernel_dim: int = 5, **kwargs):
        super().__init__(**kwargs)
        self.num_kernels = checks.positive_int("num_kernels", num_kernels)
        self.kernel_dim = checks.positive_int("kernel_dim", kernel_dim)

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(int(input_shape[-1]), self.num_kernels * self.kernel_dim),
            initializer=keras.initializers.RandomNormal(stddev=0.1),
            name="kernel",
        )

    def call(self, features):
        m = tf.reshape(features @ self.kernel, [-1, self.num_kernels, self.kernel_dim])
        l1 = tf.reduce_sum(tf.abs(m[:, None] - m[None, :]), axis=-1)  # [B, B, K]
        others = tf.cast(tf.maximum(tf.shape(m)[0] - 1, 1), l1.dtype)  # B - 1; 1 when B = 1 (o = 0)
        o = (tf.reduce_sum(tf.exp(-l1), axis=1) - 1.0) / others  # drop c(i, i) = 1; mean
        return tf.concat([features, tf.cast(o, features.dtype)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + self.num_kernels)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "num_kernels": self.num_kernels,
            "kernel_dim": self.kernel_dim,
        }


@keras.saving.register_keras_serializable(package="tfgen")
class ExperienceReplay(keras.layers.Layer):
    """A buffer of past generated examples, shown again to the discriminator.

    The discriminator then keeps penalising regions the generator visited before, which damps
    the generator hopping from mode to mode (Shrivastava et al. 2017, "history of refined images";
    the experience replay of the course). As in the paper, the buffer fills up, then each pushed
    example overwrites a uniformly random stored one (not the oldest): the age of the stored
    examples is then geometric, with mean ``capacity / batch`` steps and a long tail, twice the
    mean age of a first-in-first-out buffer of the same capacity. The memory must be long
    compared with the time the generator takes to hop between modes: on the ring of 8 Gaussians
    (``zoo/bench/mode_collapse.py``) stored fakes 25 steps old on average or younger made the
    generator *collapse* onto one hopping mode, 100 steps helped. Its contents are non-trainable
    weights, so they are saved with the model.

    Args:
        capacity: examples held.
        event_shape: shape of one example.
        **kwargs: ``keras.layers.Layer`` arguments.

    Example:
        >>> replay = ExperienceReplay(capacity=4, event_shape=(2,))
        >>> replay.push(tf.ones([3, 2]), tf.zeros([3], tf.int32))
        >>> x, _ = replay.mix(tf.zeros([2, 2]), tf.zeros([2], tf.int32), 1.0, seed=[0, 1])
        >>> x.numpy().tolist(), int(replay.count)
        ([[1.0, 1.0], [1.0, 1.0]], 3)
    """

    def __init__(self, capacity: int, event_shape: Sequence[int], **kwargs):
        super().__init__(**kwargs)
        self.capacity = checks.positive_int("capacity", capacity)
        self.event_shape = tuple(int(d) for d in event_shape)
        sync = dict(trainable=False, aggregation="only_first_replica")
        self.examples = self.add_weight(
            shape=(capacity, *self.event_shape), initializer="zeros", name="examples", **sync
        )
        self.labels = self.add_weight(
            shape=(capacity,), initializer="zeros", dtype="int32", name="labels", **sync
        )
        self.count = self.add_weight(
            shape=(), initializer="zeros", dtype="int32", name="count", **sync
        )
        self.built = True

    def mix(self, fakes, labels, fraction: float, seed) -> tuple[tf.Tensor, tf.Tensor]:
        """Replaces the first ``round(fraction * B)`` of ``fakes`` (and their labels) by random
        stored examples; returns them unchanged while the buffer is empty."""
        batch = tf.shape(fakes)[0]
        filled = tf.minimum(self.count, self.capacity)
        idx = tf.random.stateless_uniform(
            [batch], seed=seed, maxval=tf.maximum(filled, 1), dtype=tf.int32
        )
        k = tf.cast(tf.round(fraction * tf.cast(batch, tf.float32)), tf.int32)
        use = (tf.range(batch) < k) & (filled > 0)
        shape = tf.concat([[batch], tf.ones([len(self.event_shape)], tf.int32)], 0)
        old = tf.cast(tf.gather(self.examples, idx), fakes.dtype)
        mixed = tf.where(tf.reshape(use, shape), old, fakes)
        return mixed, tf.where(use, tf.gather(self.labels, idx), labels)

    def push(self, fakes, labels, seed=None) -> None:
        """Stores a batch: into the empty slots while there are any, then over uniformly random
        stored examples, distinct within the batch (Shrivastava et al. 2017).

        Args:
            fakes: ``[B, *event_shape]`` examples (no gradient flows into the buffer).
            labels: ``[B]`` int labels stored with them.
            seed: stateless ``[2]`` seed of the slots overwritten; None derives it from
                ``count``, so the choice is reproducible and differs at every push.
        """
        batch = tf.shape(fakes)[0]
        count = tf.convert_to_tensor(self.count)
        filled = tf.minimum(count, self.capacity)
        if seed is None:
            seed = tf.stack([count, tf.constant(self.capacity, tf.int32)])
        # Empty slots first, in order (negative keys), then the stored ones in a random order.
        slots = tf.range(self.capacity)
        noise = tf.random.stateless_uniform(
            [self.capacity], seed=seed, maxval=2**30, dtype=tf.int32
        )
        order = tf.argsort(tf.where(slots >= filled, slots - self.capacity, noise), stable=True)
        positions = tf.gather(order, tf.range(batch) % self.capacity)[:, None]
        fakes = tf.cast(tf.stop_gradient(fakes), self.examples.dtype)
        self.examples.assign(tf.tensor_scatter_nd_update(self.examples, positions, fakes))
        labels = tf.cast(labels, tf.int32)
        self.labels.assign(tf.tensor_scatter_nd_update(self.labels, positions, labels))
        self.count.assign_add(batch)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "capacity": self.capacity,
            "event_shape": list(self.event_shape),
        }
