"""Time to quality: the TF2 convolutional-VAE tutorial's loop vs the ``vae_fast_fashion_mnist`` preset.

Both train the tutorial's network (latent 2) on statically binarized Fashion-MNIST in one process,
interleaved in short slices (a slice of one, then a slice of the other) so that machine noise hits
both alike. Only training is timed; test-set evaluations between slices are not.

* ``tutorial``: tensorflow.org/tutorials/generative/cvae as written: its ``CVAE`` class,
  ``compute_loss`` (single-sample ELBO, KL by Monte Carlo), ``@tf.function`` ``train_step``,
  Adam(1e-4) and ``from_tensor_slices(train_images).shuffle(60000).batch(32)``. Its test ELBO is
  ``-mean(compute_loss)`` over the test set, after every epoch.
* ``preset``: ``zoo.build("vae_fast_fashion_mnist")`` trained by ``model.fit`` on
  ``tfgen.data.load(...)`` with the preset's recipe, in slices of
  ``fit(epochs=k + 1, initial_epoch=k, steps_per_epoch=n)`` (each slice draws a fresh shuffle), and
  ``model.evaluate``'s ``elbo`` (single sample, per image, nats) after every slice.

Printed: the ELBO-over-time table, both throughputs (images per training second), the time to
quality (training seconds until the test ELBO first reaches the tutorial's own final ELBO of this
run) and the fraction of the CPU ceiling: (peak GFLOP/s of a matmul measured here) / (training
FLOPs per image counted from the network's layers, 3x the forward pass).

Run from the repository root::

    python -m zoo.bench_vae            # full: 10 tutorial epochs (~8 min on a quiet 2-core CPU)
    python -m zoo.bench_vae --quick    # smoke test: a few slices of each
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import time

import keras
import numpy as np
import tensorflow as tf

import zoo
from tfgen import data
from zoo.presets import steps_per_epoch

PRESET = "vae_fast_fashion_mnist"


# ------------------------------------------------------------- the tutorial, as it is written
class CVAE(tf.keras.Model):
    """Convolutional variational autoencoder (the tutorial's class)."""

    def __init__(self, latent_dim):
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = tf.keras.Sequential([
            tf.keras.layers.InputLayer(shape=(28, 28, 1)),  # tutorial: input_shape= (Keras 2)
            tf.keras.layers.Conv2D(filters=32, kernel_size=3, strides=(2, 2), activation="relu"),
            tf.keras.layers.Conv2D(filters=64, kernel_size=3, strides=(2, 2), activation="relu"),
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
            tf.keras.layers.Conv2DTranspose(filters=1, kernel_size=3, strides=1, padding="same"),
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


def log_normal_pdf(sample, mean, logvar, raxis=1):
    log2pi = tf.math.log(2.0 * np.pi)
    return tf.reduce_sum(
        -0.5 * ((sample - mean) ** 2.0 * tf.exp(-logvar) + logvar + log2pi), axis=raxis
    )


def compute_loss(model, x):
    mean, logvar = model.encode(x)
    z = model.reparameterize(mean, logvar)
    x_logit = model.decode(z)
    cross_ent = tf.nn.sigmoid_cross_entropy_with_logits(logits=x_logit, labels=x)
    logpx_z = -tf.reduce_sum(cross_ent, axis=[1, 2, 3])
    logpz = log_normal_pdf(z, 0.0, 0.0)
    logqz_x = log_normal_pdf(z, mean, logvar)
    return -tf.reduce_mean(logpx_z + logpz - logqz_x)


@tf.function
def train_step(model, x, optimizer):
    with tf.GradientTape() as tape:
        loss = compute_loss(model, x)
    gradients = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))


def preprocess_images(images):
    images = images.reshape((images.shape[0], 28, 28, 1)) / 255.0
    return np.where(images > 0.5, 1.0, 0.0).astype("float32")


# ------------------------------------------------------------- the two contestants
@dataclasses.dataclass
class Contestant:
    """Training time, images and test-ELBO checkpoints ``(seconds, images, elbo)`` of one method."""

    name: str
    seconds: float = 0.0
    images: int = 0
    done: bool = False
    curve: list[tuple[float, int, float]] = dataclasses.field(default_factory=list)

    def timed(self, train_fn, images: int) -> None:
        """Runs ``train_fn()`` and adds its wall time and ``images`` to the totals."""
        start = time.perf_counter()
        train_fn()
        self.seconds += time.perf_counter() - start
        self.images += images

    def checkpoint(self, elbo: float) -> None:
        self.curve.append((self.seconds, self.images, elbo))
        rate = self.images / max(self.seconds, 1e-9)
        print(f"{self.name:9s}{self.seconds:9.1f}{self.images:10d}{rate:9.0f}{elbo:11.2f}", flush=True)

    def time_to(self, elbo: float) -> float | None:
        """Training seconds at the first checkpoint with test ELBO >= ``elbo`` (None if never)."""
        return next((s for s, _, e in self.curve if e >= elbo), None)


class Tutorial(Contestant):
    """The tutorial's loop, run ``slice_steps`` batches at a time; evaluated after every epoch."""

    batch_size = 32

    def __init__(self, epochs: int, slice_images: int):
        super().__init__("tutorial")
        train_images = preprocess_images(data.load_arrays("fashion_mnist", "train")[0])
        test_images = preprocess_images(data.load_arrays("fashion_mnist", "test")[0])
        self.train_dataset = (
            tf.data.Dataset.from_tensor_slices(train_images).shuffle(60000).batch(self.batch_size)
        )
        self.test_dataset = (
            tf.data.Dataset.from_tensor_slices(test_images).shuffle(10000).batch(self.batch_size)
        )
        self.model, self.optimizer = CVAE(latent_dim=2), tf.keras.optimizers.Adam(1e-4)
        self.epochs, self.epoch = epochs, 0
        self.steps_per_epoch = math.ceil(len(train_images) / self.batch_size)
        self.slice_steps = max(1, slice_images // self.batch_size)
        self.step_in_epoch, self.iterator = 0, iter(self.train_dataset)

    def train_slice(self) -> None:
        steps = min(self.slice_steps, self.steps_per_epoch - self.step_in_epoch)

        def loop():  # the tutorial's `for train_x in train_dataset: train_step(...)`, in slices
            for _ in range(steps):
                train_step(self.model, next(self.iterator), self.optimizer)

        self.timed(loop, steps * self.batch_size)
        self.step_in_epoch += steps
        if self.step_in_epoch == self.steps_per_epoch:
            self.epoch, self.step_in_epoch = self.epoch + 1, 0
            self.iterator = iter(self.train_dataset)
            loss = tf.keras.metrics.Mean()
            for test_x in self.test_dataset:
                loss(compute_loss(self.model, test_x))
            self.checkpoint(-float(loss.result()))
            self.done = self.epoch == self.epochs


class Preset(Contestant):
    """The preset through ``model.fit``, ``slice_steps`` batches per call; evaluated every slice."""

    def __init__(self, slice_images: int):
        super().__init__("preset")
        self.recipe = recipe = zoo.get(PRESET).train
        self.model = zoo.build(PRESET)
        load = dict(binarize=recipe.binarize, seed=recipe.seed)
        self.train_data = data.load(recipe.dataset, "train", batch_size=recipe.batch_size, **load)
        self.test_data = data.load(recipe.dataset, "test", batch_size=recipe.eval_batch_size, **load)
        self.steps_left = recipe.epochs * steps_per_epoch(recipe)
        per_call = recipe.steps_per_execution
        self.slice_steps = max(1, round(slice_images / recipe.batch_size / per_call)) * per_call
        self.slices = 0

    def train_slice(self) -> None:
        steps = min(self.slice_steps, self.steps_left)
        fit = lambda: self.model.fit(  # noqa: E731
            self.train_data, epochs=self.slices + 1, initial_epoch=self.slices,
            steps_per_epoch=steps, verbose=0,
        )  # fmt: skip
        self.timed(fit, steps * self.recipe.batch_size)
        self.slices, self.steps_left = self.slices + 1, self.steps_left - steps
        self.checkpoint(self.model.evaluate(self.test_data, verbose=0, return_dict=True)["elbo"])
        self.done = self.steps_left == 0


# ------------------------------------------------------------- the CPU ceiling
def train_flops_per_image(networks: list[keras.Model]) -> float:
    """Training FLOPs per image: 2 x multiply-adds of the conv/dense layers, x3 (fwd + 2 bwd)."""
    macs = 0
    for layer in (layer for net in networks for layer in net.layers):
        kernel = math.prod(getattr(layer, "kernel_size", ()))
        n_in, n_out = layer.input.shape[-1], layer.output.shape[-1]
        if isinstance(layer, keras.layers.Conv2DTranspose):  # each input pixel scatters a kernel
            macs += math.prod(layer.input.shape[1:-1]) * kernel * n_in * n_out
        elif isinstance(layer, keras.layers.Conv2D):  # each output pixel gathers a kernel
            macs += math.prod(layer.output.shape[1:-1]) * kernel * n_in * n_out
        elif isinstance(layer, keras.layers.Dense):
            macs += n_in * n_out
    return 3 * 2 * macs


def matmul_gflops(size: int = 2048, repeats: int = 8, trials: int = 3) -> float:
    """Best float32 ``size x size`` matmul rate of this process, GFLOP/s."""
    a = tf.random.normal([size, size])

    @tf.function
    def chain(x):
        for _ in range(repeats):
            x = tf.matmul(x, a) * (1.0 / size)  # the scaling is negligible work
        return x

    chain(a).numpy()
    best = math.inf
    for _ in range(trials):
        start = time.perf_counter()
        chain(a).numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 * repeats / best / 1e9


# ------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tutorial-epochs", type=int, default=10, help="tutorial epochs (10)")
    parser.add_argument(
        "--slice-images", type=int, default=7500, help="images per training slice (7500)"
    )
    parser.add_argument("--quick", action="store_true", help="smoke test: 2 slices of each")
    parser.add_argument("--seed", type=int, default=0, help="tf.random seed of the tutorial")
    args = parser.parse_args(argv)

    tf.random.set_seed(args.seed)
    peak = matmul_gflops()
    tutorial, preset = Tutorial(args.tutorial_epochs, args.slice_images), Preset(args.slice_images)
    recipe = preset.recipe
    print(f"preset {PRESET}: {recipe}")
    print(f"slices: tutorial {tutorial.slice_steps} steps x 32, preset {preset.slice_steps} steps"
          f" x {recipe.batch_size}; tutorial evaluated every epoch, preset every slice\n")  # fmt: skip
    print(f"{'method':9s}{'train s':>9s}{'images':>10s}{'img/s':>9s}{'test ELBO':>11s}")
    max_slices = 2 if args.quick else math.inf
    while not (tutorial.done and preset.done) and preset.slices < max_slices:
        for contestant in (tutorial, preset):
            if not contestant.done:
                contestant.train_slice()
    if args.quick:  # evaluate the tutorial once even if it did not finish an epoch
        loss = tf.keras.metrics.Mean()
        for test_x in tutorial.test_dataset:
            loss(compute_loss(tutorial.model, test_x))
        tutorial.checkpoint(-float(loss.result()))

    peak = max(peak, matmul_gflops())
    flops = train_flops_per_image([preset.model.encoder, preset.model.decoder])
    ceiling = peak * 1e9 / flops
    rates = {c.name: c.images / c.seconds for c in (tutorial, preset)}
    target = tutorial.curve[-1][2]
    reached = preset.time_to(target)
    print(f"\nthroughput (images per training second): tutorial {rates['tutorial']:.0f}, "
          f"preset {rates['preset']:.0f} -> {rates['preset'] / rates['tutorial']:.2f}x")
    print(f"tutorial final test ELBO {target:.2f} after {tutorial.seconds:.1f} s "
          f"({tutorial.images} images); preset best {max(e for *_, e in preset.curve):.2f} "
          f"after {preset.seconds:.1f} s ({preset.images} images)")
    if reached is None:
        print("time to quality: the preset did not reach the tutorial's final ELBO")
    else:
        print(f"time to quality: preset {reached:.1f} s vs tutorial {tutorial.seconds:.1f} s "
              f"-> {tutorial.seconds / reached:.2f}x")
    print(f"CPU ceiling: {flops / 1e6:.1f} MFLOP per image per training step (3 x 2 x "
          f"multiply-adds of the conv/dense layers) at {peak:.0f} GFLOP/s (best float32 2048^3 "
          f"matmul here) = {ceiling:.0f} images/s; preset reaches {rates['preset'] / ceiling:.0%},"
          f" tutorial {rates['tutorial'] / ceiling:.0%}")  # fmt: skip


if __name__ == "__main__":
    main()
