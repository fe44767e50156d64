"""XLA against TensorFlow's graph executor: training step time per preset, side by side.

For each preset, the model is built as ``zoo.build`` builds it (the recipe's batch, optimizer
and ``steps_per_execution``) once with ``jit="off"`` and once with ``jit="on"``, and trained on
the recipe's own data: ``--warmup`` steps off the clock (tracing and, with XLA, compilation;
their seconds are printed as ``first_s``), then ``--steps`` steps timed (both rounded up to
whole calls of the recipe's ``steps_per_execution`` batches). Printed per preset and
mode: milliseconds per step, images per second, and the speed-up of XLA. A preset's ``jit``
field (``zoo.presets.Preset``) is ``"on"`` where this benchmark shows XLA faster on the CPU.

Run from the repository root on an otherwise idle CPU (figures in zoo/RESULTS.md)::

    python -m zoo.bench.xla
    python -m zoo.bench.xla --presets gated_pixelcnn_small_binarized_fashion_mnist --steps 48
"""

from __future__ import annotations

import argparse
import json
import time

PRESETS = (
    "gated_pixelcnn_small_binarized_fashion_mnist",
    "gated_pixelcnn_conditional_binarized_fashion_mnist",
    "pixelcnn_small_binarized_fashion_mnist",
    "pixelcnn_small_8bit_fashion_mnist",
    "nade_fast_binarized_fashion_mnist",
    "pixelrnn_row_lstm_binarized_fashion_mnist",
    "vae_fast_fashion_mnist",
    "dcgan_small_fashion_mnist",
)
MODES = ("off", "on")


def measure(preset_name: str, jit: str, steps: int, warmup: int, dataset: str | None = None):
    """Trains ``preset_name`` with XLA ``jit`` mode: ``warmup`` steps, then ``steps`` timed.

    Args:
        preset_name: a ``zoo.list_presets()`` name.
        jit: ``"off"`` or ``"on"``.
        steps: timed training steps.
        warmup: steps before the clock starts (tracing, compilation).
        dataset: another ``tfgen.data`` name than the recipe's (tests use ``"digits"``).

    Returns:
        ``preset``, ``jit``, ``steps`` (as rounded), ``first_s`` (seconds of the warm-up),
        ``step_ms``, ``images_per_s``.
    """
    import zoo
    from tfgen import data
    from zoo.workdir import split_dataset

    preset = zoo.get(preset_name)
    if dataset is not None:
        preset = preset.with_train(dataset=dataset)
    recipe = preset.train
    model = zoo.build(preset, jit=jit, event_shape=data.event_shape(recipe.dataset))
    per_call = recipe.steps_per_execution  # whole calls only: no trace of a shorter loop timed
    steps, warmup = (-(-n // per_call) * per_call for n in (steps, warmup))
    batches = split_dataset(recipe, "train").repeat()
    start = time.perf_counter()
    model.fit(batches, steps_per_epoch=warmup, epochs=1, verbose=0)
    first = time.perf_counter() - start
    start = time.perf_counter()
    model.fit(batches, steps_per_epoch=steps, epochs=1, verbose=0)
    seconds = time.perf_counter() - start
    return {
        "preset": preset_name,
        "jit": jit,
        "steps": steps,
        "first_s": round(first, 1),
        "step_ms": round(1000 * seconds / steps, 2),
        "seconds": seconds,
        "images_per_s": round(steps * recipe.batch_size / seconds, 1),
    }


def run(presets, steps: int, warmup: int, dataset: str | None = None) -> list[dict]:
    """Both modes of every preset, one after the other; ``speedup`` (step time off / on, from the
    unrounded timings) on the XLA row."""
    rows = []
    for name in presets:
        off, on = (measure(name, mode, steps, warmup, dataset) for mode in MODES)
        on["speedup"] = round(
            (off.pop("seconds") / off["steps"]) / (on.pop("seconds") / on["steps"]), 2
        )
        for row in (off, on):
            print(json.dumps(row), flush=True)
        rows += [off, on]
    return rows


def main(argv: list[str] | None = None) -> None:
    import zoo

    parser = argparse.ArgumentParser(
        prog="python -m zoo.bench.xla", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--presets", nargs="+", default=list(PRESETS), choices=zoo.list_presets())
    parser.add_argument("--steps", type=int, default=48, help="timed steps per mode")
    parser.add_argument("--warmup", type=int, default=16, help="steps off the clock per mode")
    args = parser.parse_args(argv)
    for name, value in (("--steps", args.steps), ("--warmup", args.warmup)):
        if value < 1:
            parser.error(f"{name} must be a positive number of steps, got {value}")
    run(args.presets, args.steps, args.warmup)


if __name__ == "__main__":
    main()
