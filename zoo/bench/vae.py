"""Time to quality: the TF2 convolutional-VAE tutorial's loop vs ``vae_fast_fashion_mnist``.

Both train the tutorial's network (latent 2) on statically binarized Fashion-MNIST in one process,
interleaved in slices of ``--slice-images`` training images (one slice of each in turn) so that
machine noise hits both alike. Only training is timed, never the test evaluations.

* ``tutorial``: tensorflow.org/tutorials/generative/cvae as written: its ``CVAE`` class,
  ``compute_loss`` (single-sample ELBO with a Monte-Carlo KL), ``@tf.function train_step``,
  Adam(1e-4), ``from_tensor_slices(train_images).shuffle(60000).batch(32)``. Test ELBO:
  ``-mean(compute_loss)`` over the test batches after every epoch, as the tutorial prints it.
* ``preset``: ``zoo.build("vae_fast_fashion_mnist")`` trained by one ``model.fit`` on
  ``tfgen.data.load(...)`` over the recipe's epochs; a callback pauses it after every slice for
  ``model.evaluate`` (``elbo``: single sample, per image, nats) and the tutorial's slice.

Neither clock includes dropping a spent tf.data iterator at an epoch end: with tf.data
autotuning on, that can stall for seconds (worse with two pipelines alive), which is not training.

Printed: test ELBO over training time for both, both throughputs (images per training second),
the time to quality (training seconds until the test ELBO first reaches the tutorial's own final
ELBO in this run; the tutorial's is its whole run) and the fraction of the CPU ceiling: the peak
GFLOP/s of a matmul measured in this process over the training FLOPs per image counted from the
network's layers.

Run from the repository root::

    python -m zoo.bench.vae            # full: 10 tutorial epochs, ~7 min on an idle 2-core CPU
    python -m zoo.bench.vae --quick    # smoke test: two slices of each
"""

from __future__ import annotations

import argparse
import functools
import math
import time
from collections.abc import Callable

import numpy as np

from zoo.bench.common import matmul_gflops, train_flops_per_image

PRESET = "vae_fast_fashion_mnist"


# ------------------------------------------------------------- the tutorial, as it is written
@functools.cache
def tutorial_cvae_class() -> type:
    """The tutorial's ``CVAE`` class (defined on first use, so importing this module is fast)."""
    import tensorflow as tf

    class CVAE(tf.keras.Model):
        """Convolutional variational autoencoder (the tutorial's class)."""

        def __init__(self, latent_dim):
            super().__init__()
            self.latent_dim = latent_dim
            self.encoder = tf.keras.Sequential([
                tf.keras.layers.InputLayer(shape=(28, 28, 1)),  # tutorial: input_shape= (Keras 2)
                tf.keras.layers.Conv2D(
                    filters=32, kernel_size=3, strides=(2, 2), activation="relu"),
                tf.keras.layers.Conv2D(
                    filters=64, kernel_size=3, strides=(2, 2), activation="relu"),
                tf.keras.layers.Flatten(),
                tf.keras.layers.Dense(latent_dim + latent_dim),  # no activation
            ])  # fmt: skip
            self.decoder = tf.keras.Sequential([
                tf.keras.layers.InputLayer(shape=(latent_dim,)),
                tf.keras.layers.Dense(units=7 * 7 * 32, activation=tf.nn.relu),
                tf.keras.layers.Reshape(target_shape=(7, 7, 32)),
                tf.keras.layers.Conv2DTranspose(
                    filters=64, kernel_size=3, strides=2, padding="same", activation="relu"),
                tf.keras.layers.Conv2DTranspose(
                    filters=32, kernel_size=3, strides=2, padding="same", activation="relu"),
                tf.keras.layers.Conv2DTranspose(
                    filters=1, kernel_size=3, strides=1, padding="same"),
            ])  # fmt: skip

        def encode(self, x):
            mean, logvar = tf.split(self.encoder(x), num_or_size_splits=2, axis=1)
            return mean, logvar

        def reparameterize(self, mean, logvar):
            eps = tf.random.normal(shape=mean.shape)
            return eps * tf.exp(logvar * 0.5) + mean

        def decode(self, z, apply_sigmoid=False):
            logits = self.decoder(z)
            return tf.sigmoid(logits) if apply_sigmoid else logits

    return CVAE


def log_normal_pdf(sample, mean, logvar, raxis=1):
    import tensorflow as tf

    log2pi = tf.math.log(2.0 * np.pi)
    return tf.reduce_sum(
        -0.5 * ((sample - mean) ** 2.0 * tf.exp(-logvar) + logvar + log2pi), axis=raxis
    )


def compute_loss(model, x):
    import tensorflow as tf

    mean, logvar = model.encode(x)
    z = model.reparameterize(mean, logvar)
    x_logit = model.decode(z)
    cross_ent = tf.nn.sigmoid_cross_entropy_with_logits(logits=x_logit, labels=x)
    logpx_z = -tf.reduce_sum(cross_ent, axis=[1, 2, 3])
    logpz = log_normal_pdf(z, 0.0, 0.0)
    logqz_x = log_normal_pdf(z, mean, logvar)
    return -tf.reduce_mean(logpx_z + logpz - logqz_x)


def train_step(model, x, optimizer):  # the tutorial's, under @tf.function (Tutorial.__init__)
    import tensorflow as tf

    with tf.GradientTape() as tape:
        loss = compute_loss(model, x)
    gradients = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))  # noqa: B905


def preprocess_images(images):
    images = images.reshape((images.shape[0], 28, 28, 1)) / 255.0
    return np.where(images > 0.5, 1.0, 0.0).astype("float32")


# ------------------------------------------------------------- the two contestants
class Contestant:
    """Training clock, images seen and test-ELBO checkpoints ``(seconds, images, elbo)``."""

    def __init__(self, name: str):
        self.name, self.seconds, self.images = name, 0.0, 0
        self.curve: list[tuple[float, int, float]] = []
        self._started = 0.0

    def start(self) -> None:
        """Starts (or restarts) the training clock."""
        self._started = time.perf_counter()

    def stop(self, images: int) -> None:
        """Stops the clock and counts ``images`` trained on since ``start()``."""
        self.seconds += time.perf_counter() - self._started
        self.images += images

    def checkpoint(self, elbo: float) -> None:
        """Records a test ELBO at the current clock and prints its table row."""
        self.curve.append((self.seconds, self.images, elbo))
        rate = self.images / self.seconds
        row = f"{self.name:9s}{self.seconds:9.1f}{self.images:10d}{rate:9.0f}{elbo:11.2f}"
        print(row, flush=True)

    def time_to(self, elbo: float) -> float | None:
        """Training seconds at the first checkpoint with test ELBO >= ``elbo`` (None if never)."""
        return next((s for s, _, e in self.curve if e >= elbo), None)


class Tutorial(Contestant):
    """The tutorial's loop, ``slice_steps`` batches at a time; evaluated after every epoch."""

    batch_size = 32

    def __init__(self, epochs: int, slice_images: int):
        import tensorflow as tf

        from tfgen import data

        super().__init__("tutorial")
        train_images = preprocess_images(data.load_arrays("fashion_mnist", "train")[0])
        test_images = preprocess_images(data.load_arrays("fashion_mnist", "test")[0])
        self.train_dataset = (
            tf.data.Dataset.from_tensor_slices(train_images).shuffle(60000).batch(self.batch_size)
        )
        self.test_dataset = (
            tf.data.Dataset.from_tensor_slices(test_images).shuffle(10000).batch(self.batch_size)
        )
        self.model = tutorial_cvae_class()(latent_dim=2)
        self.optimizer, self.train_step = tf.keras.optimizers.Adam(1e-4), tf.function(train_step)
        self.epochs, self.epoch, self.step = epochs, 0, 0
        self.steps_per_epoch = math.ceil(len(train_images) / self.batch_size)
        self.slice_steps = max(1, slice_images // self.batch_size)
        self.iterator = iter(self.train_dataset)

    @property
    def done(self) -> bool:
        """Whether all epochs have run."""
        return self.epoch == self.epochs

    def evaluate(self) -> float:
        """The tutorial's test ELBO: ``-mean(compute_loss)`` over the test batches."""
        import tensorflow as tf

        loss = tf.keras.metrics.Mean()
        for test_x in self.test_dataset:
            loss(compute_loss(self.model, test_x))
        return -float(loss.result())

    def train_slice(self) -> None:
        """The tutorial's ``for train_x in train_dataset: train_step(...)``, one slice of it."""
        if self.done:
            return
        steps = min(self.slice_steps, self.steps_per_epoch - self.step)
        self.start()
        for _ in range(steps):
            self.train_step(self.model, next(self.iterator), self.optimizer)
        self.step += steps
        if self.step < self.steps_per_epoch:
            self.stop(steps * self.batch_size)
            return
        # The epoch's `for` loop ends; its spent iterator is dropped off the clock (module doc).
        spent, self.iterator = self.iterator, iter(self.train_dataset)
        self.stop(steps * self.batch_size)
        del spent
        self.epoch, self.step = self.epoch + 1, 0
        self.checkpoint(self.evaluate())


class Preset(Contestant):
    """The preset trained by one ``model.fit`` over the recipe's epochs.

    ``fit(train.repeat(), steps_per_epoch=...)`` makes the same passes with the same schedule as
    ``fit(train, epochs)`` but keeps one iterator, so no spent iterator is dropped on the clock.
    A callback ends a slice at the first step (or ``steps_per_execution`` group) that completes
    ``slice_images``: it stops the clock, evaluates, runs the other contestant's slice, restarts.
    """

    def __init__(self, slice_images: int):
        import zoo
        from tfgen import data

        super().__init__("preset")
        self.recipe = recipe = zoo.get(PRESET).train
        self.model = zoo.build(PRESET)
        load = dict(name=recipe.dataset, binarize=recipe.binarize, seed=recipe.seed)
        self.train_data = data.load(split="train", batch_size=recipe.batch_size, **load)
        self.test_data = data.load(split="test", batch_size=recipe.eval_batch_size, **load)
        self.epoch_images = len(data.load_arrays(recipe.dataset, "train")[0])
        self.slice_images, self.slices = slice_images, 0

    def end_slice(self, images: int, between_slices: Callable[[], None]) -> None:
        """Stops the clock at ``images`` seen, evaluates, runs ``between_slices()``, restarts."""
        self.stop(images - self.images)
        self.slices += 1
        self.checkpoint(self.model.evaluate(self.test_data, verbose=0, return_dict=True)["elbo"])
        between_slices()
        self.start()

    def fit(self, between_slices: Callable[[], None], max_slices: int | None = None) -> None:
        """Trains the recipe's epochs, calling ``between_slices()`` (untimed) after every slice."""
        import keras

        from zoo.presets import steps_per_epoch

        run, batch_size = self, self.recipe.batch_size

        class Slices(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.epoch_start = epoch * run.epoch_images

            def on_train_batch_end(self, batch, logs=None):
                self.seen = self.epoch_start + min((batch + 1) * batch_size, run.epoch_images)
                if self.seen - run.images >= run.slice_images:
                    run.end_slice(self.seen, between_slices)
                    self.model.stop_training = run.slices == max_slices

            def on_train_end(self, logs=None):
                if self.seen > run.images:
                    run.end_slice(self.seen, between_slices)

        self.start()
        self.model.fit(
            self.train_data.repeat(),
            epochs=self.recipe.epochs,
            steps_per_epoch=steps_per_epoch(self.recipe),
            callbacks=[Slices()],
            shuffle=False,  # tfgen.data shuffles the training set every epoch
            verbose=0,
        )


# ------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> None:
    """Runs both contestants, interleaved, and prints the comparison."""
    parser = argparse.ArgumentParser(
        prog="python -m zoo.bench.vae", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--tutorial-epochs", type=int, default=10, help="tutorial epochs (10)")
    parser.add_argument("--slice-images", type=int, default=7500, help="images per slice (7500)")
    parser.add_argument("--quick", action="store_true", help="smoke test: 2 slices of each")
    parser.add_argument("--seed", type=int, default=0, help="tf.random seed of the tutorial (0)")
    args = parser.parse_args(argv)
    import keras
    import tensorflow as tf

    import zoo

    tf.random.set_seed(args.seed)
    peak = matmul_gflops()
    compute_dtype = keras.DTypePolicy(
        zoo.get(PRESET).train.mixed_precision or "float32"
    ).compute_dtype
    peak_preset = matmul_gflops(dtype=compute_dtype)
    tutorial, preset = Tutorial(args.tutorial_epochs, args.slice_images), Preset(args.slice_images)
    print(
        f"{PRESET}: {preset.recipe}\nalternate slices of {args.slice_images} training images; the "
        "tutorial is evaluated after each epoch, the preset after each slice\n"
    )
    print(f"{'method':9s}{'train s':>9s}{'images':>10s}{'img/s':>9s}{'test ELBO':>11s}")
    preset.fit(between_slices=tutorial.train_slice, max_slices=2 if args.quick else None)
    while not (tutorial.done or args.quick):
        tutorial.train_slice()
    if args.quick:  # the tutorial has not finished an epoch: evaluate it once
        tutorial.checkpoint(tutorial.evaluate())

    peak = max(peak, matmul_gflops())
    peak_preset = max(peak_preset, matmul_gflops(dtype=compute_dtype))
    flops = train_flops_per_image([preset.model.encoder, preset.model.decoder])
    ceiling, ceiling_preset = peak * 1e9 / flops, peak_preset * 1e9 / flops
    rate = {c.name: c.images / c.seconds for c in (tutorial, preset)}
    target, reached = tutorial.curve[-1][2], preset.time_to(tutorial.curve[-1][2])
    ttq = "not reached" if reached is None else f"{reached:.1f} s"
    speedup = "" if reached is None else f" -> {tutorial.seconds / reached:.2f}x"
    print(
        f"\nthroughput (images per training second): tutorial {rate['tutorial']:.0f}, preset "
        f"{rate['preset']:.0f} -> {rate['preset'] / rate['tutorial']:.2f}x\n"
        f"final test ELBO: tutorial {target:.2f} after {tutorial.seconds:.1f} s, preset "
        f"{preset.curve[-1][2]:.2f} after {preset.seconds:.1f} s\n"
        f"time to quality (test ELBO >= {target:.2f}): preset {ttq}, tutorial "
        f"{tutorial.seconds:.1f} s{speedup}\n"
        f"CPU ceiling: {flops / 1e6:.1f} MFLOP per image per training step (2 x 3 x the "
        f"multiply-adds of the conv/dense layers); best 2048^3 matmul here: float32 {peak:.0f} "
        f"GFLOP/s = {ceiling:.0f} images/s, the tutorial at {rate['tutorial'] / ceiling:.0%}; "
        f"{compute_dtype} (the preset's compute dtype) {peak_preset:.0f} GFLOP/s = "
        f"{ceiling_preset:.0f} images/s, the preset at {rate['preset'] / ceiling_preset:.0%}"
    )


if __name__ == "__main__":
    main()
