"""Precision of ``vae_fast_fashion_mnist``: bfloat16 bias gradients and the output layer's dtype.

Two parts, in one process:

* ``gradients``: after ``--warmup-steps`` of the preset's training, the gradient of one batch's
  loss under the preset's ``mixed_bfloat16`` policy against the same model in float32 (same
  weights, same reparameterization noise), per variable, with TensorFlow's bias gradient and with
  tfgen's (``tfgen.mixed_precision.float32_bias_gradients``). Printed: relative error
  ``|g_bf16 - g_f32| / |g_f32|``; bfloat16 rounding alone gives ~0.5%.
* ``quality``: the preset's full recipe for each ``--seeds`` and each variant, printing the test
  ELBO (single sample, nats) and training seconds (``fit`` only). Variants: ``float32-output``
  (``float32_output_layer=True``), ``bf16-output`` (the preset), and with ``--ablate`` both again
  with TensorFlow's bias gradient (``no-fix``) and the preset in float32 (``float32``).

Run from the repository root, on an otherwise idle CPU (training seconds are the machine's)::

    python -m zoo.bench.vae_precision gradients
    python -m zoo.bench.vae_precision quality --seeds 0 1 2 3
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import time
from unittest import mock

import numpy as np

PRESET = "vae_fast_fashion_mnist"


def tensorflow_bias_gradients():
    """``LossModel.train_step`` traced inside this uses TensorFlow's own ``BiasAdd`` gradient."""
    return mock.patch("tfgen.models.base.float32_bias_gradients", contextlib.nullcontext)


def _loss_gradients(model, x, fixed: bool) -> list[np.ndarray]:
    """Gradients of the mean loss on ``x`` with the model's noise stream reset to a fixed state."""
    import tensorflow as tf

    from tfgen.mixed_precision import float32_bias_gradients

    for variable in model.variables:
        if "seed_generator_state" in variable.path:
            variable.assign(tf.fill(variable.shape, tf.constant(7, variable.dtype)))
    fix = float32_bias_gradients if fixed else contextlib.nullcontext

    @tf.function
    def gradients(x):
        with tf.GradientTape() as tape:
            loss = model._mean_loss(model.compute_terms(x, None, training=True))
        with fix():
            return tape.gradient(loss, model.trainable_variables)

    return [g.numpy() for g in gradients(x)]


def part_gradients(warmup_steps: int) -> None:
    """Prints each variable's relative gradient error of bfloat16 vs float32, with either fix."""
    import zoo
    from tfgen import data, models

    recipe = zoo.get(PRESET).train
    train = data.load("fashion_mnist", "train", batch_size=recipe.batch_size, binarize="static")
    mixed = zoo.build(PRESET)
    mixed.fit(train.take(warmup_steps), verbose=0)
    exact = models.VAE(**zoo.get(PRESET).model, seed=0)  # float32: the global policy
    exact.set_weights(mixed.get_weights())
    x = next(iter(train))
    reference = _loss_gradients(exact, x, fixed=True)
    rows = {fixed: _loss_gradients(mixed, x, fixed) for fixed in (False, True)}
    print(
        f"\ngradient of one batch after {warmup_steps} steps: relative error of bfloat16 vs "
        "float32\n"
    )
    print(f"{'variable':40s}{'shape':>16s}{'TensorFlow':>12s}{'tfgen':>10s}")
    for i, variable in enumerate(mixed.trainable_variables):
        norm = np.linalg.norm(reference[i])
        errors = [np.linalg.norm(rows[f][i] - reference[i]) / norm for f in (False, True)]
        print(
            f"{variable.path:40s}{str(tuple(variable.shape)):>16s}"
            f"{errors[0]:12.4f}{errors[1]:10.4f}"
        )


VARIANTS = {
    "float32-output": dict(overrides={"float32_output_layer": True}),
    "bf16-output": dict(overrides={}),
    "float32-output/no-fix": dict(overrides={"float32_output_layer": True}, fix=False),
    "bf16-output/no-fix": dict(overrides={}, fix=False),
    "float32": dict(overrides={}, float32=True),
}


def train_variant(seed: int, overrides: dict, fix: bool = True, float32: bool = False) -> tuple:
    """Trains the preset's recipe with ``seed``: (test ELBO, training seconds)."""
    import zoo
    from tfgen import data
    from zoo.presets import steps_per_epoch

    preset = zoo.get(PRESET)
    recipe = dataclasses.replace(preset.train, seed=seed)
    if float32:
        recipe = dataclasses.replace(recipe, mixed_precision=None)
    preset = dataclasses.replace(preset, train=recipe)
    load = dict(name=recipe.dataset, binarize=recipe.binarize, seed=seed)
    train = data.load(split="train", batch_size=recipe.batch_size, **load).repeat()
    test = data.load(split="test", batch_size=recipe.eval_batch_size, **load)
    with contextlib.nullcontext() if fix else tensorflow_bias_gradients():
        model = zoo.build(preset, **overrides)
        start = time.perf_counter()
        model.fit(train, epochs=recipe.epochs, steps_per_epoch=steps_per_epoch(recipe), verbose=0)
        seconds = time.perf_counter() - start
    return model.evaluate(test, verbose=0, return_dict=True)["elbo"], seconds


def part_quality(seeds: list[int], ablate: bool) -> None:
    """Prints test ELBO / training seconds of each variant for each seed, and the means."""
    names = list(VARIANTS) if ablate else ["float32-output", "bf16-output"]
    print(f"\n{PRESET} recipe, test ELBO (nats) / training seconds\n")
    print(f"{'seed':>4s}" + "".join(f"{name:>26s}" for name in names), flush=True)
    results = {name: [] for name in names}
    for seed in seeds:
        row = f"{seed:4d}"
        for name in names:
            elbo, seconds = train_variant(seed, **VARIANTS[name])
            results[name].append((elbo, seconds))
            row += f"{elbo:17.2f} / {seconds:5.1f}s"
        print(row, flush=True)
    print(
        "mean"
        + "".join(
            f"{np.mean([e for e, _ in r]):17.2f} / {np.mean([s for _, s in r]):5.1f}s"
            for r in results.values()
        )
    )


def main(argv: list[str] | None = None) -> None:
    """Runs the parts named on the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m zoo.bench.vae_precision", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("parts", nargs="+", choices=["gradients", "quality"])
    parser.add_argument("--warmup-steps", type=int, default=100, help="steps before gradients")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="quality seeds")
    parser.add_argument("--ablate", action="store_true", help="also no-fix and float32 variants")
    args = parser.parse_args(argv)
    import keras

    keras.utils.set_random_seed(0)
    if "gradients" in args.parts:
        part_gradients(args.warmup_steps)
    if "quality" in args.parts:
        part_quality(args.seeds, args.ablate)


if __name__ == "__main__":
    main()
