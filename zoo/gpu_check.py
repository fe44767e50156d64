"""Trains every preset a fixed number of steps on the devices present; prints images/s.

For each preset and precision: the preset's model under ``MirroredStrategy`` over every GPU (one
device without GPUs), its recipe's batch (the global batch), ``--warmup`` steps (tracing) and
then ``--steps`` timed steps on the preset's training data. The default precisions are float32
and ``mixed_bfloat16``, plus ``mixed_float16`` when a GPU is present. XLA follows ``--jit``
(``auto``: on GPU only). The same command runs unchanged on a CPU or a GPU machine::

    python -m zoo.gpu_check
    python -m zoo.gpu_check --presets vae_fast_fashion_mnist --steps 50 --precisions mixed_float16
"""

from __future__ import annotations

import argparse
import sys
import time


def devices() -> tuple[str, int]:
    """``("GPU", n)`` with n GPUs, else ``("CPU", cores)``."""
    import os

    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return ("GPU", len(gpus)) if gpus else ("CPU", os.cpu_count() or 1)


def check(preset_name: str, precision: str, steps: int, warmup: int, jit: str) -> dict:
    """Images/s of ``steps`` training steps of a preset under a precision."""

    import zoo
    from tfgen import data, distribute
    from zoo.workdir import split_dataset

    kind, _ = devices()
    strategy = distribute.make_strategy("mirrored" if kind == "GPU" else "default")
    preset = zoo.get(preset_name)
    preset = preset.with_train(mixed_precision=None if precision == "float32" else precision)
    recipe = preset.train
    with strategy.scope():
        model = zoo.build(preset, jit=jit, event_shape=data.event_shape(recipe.dataset))
    if strategy.num_replicas_in_sync > 1 or kind == "GPU":
        model.steps_per_execution = 1  # (Keras' multi-step loop: see zoo.train)
    dataset = split_dataset(recipe, "train").repeat()
    per_call = model.steps_per_execution
    warmup, steps = max(warmup, per_call), max(steps // per_call, 1) * per_call
    model.fit(dataset, steps_per_epoch=warmup, epochs=1, verbose=0, shuffle=False)
    start = time.perf_counter()
    history = model.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False).history
    seconds = time.perf_counter() - start
    loss = history.get("loss", history.get("d_loss", [float("nan")]))[-1]
    return {
        "images_per_second": steps * recipe.batch_size / seconds,
        "batch": recipe.batch_size,
        "steps": steps,
        "loss": float(loss),
        "jit": bool(model.jit_compile),
    }


def main(argv: list[str] | None = None) -> int:
    """Command line entry point (see the module docstring)."""
    import zoo

    parser = argparse.ArgumentParser(
        prog="python -m zoo.gpu_check", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--presets", nargs="+", default=None, help="default: every preset")
    parser.add_argument("--precisions", nargs="+", default=None)
    parser.add_argument("--steps", type=int, default=20, help="timed steps per preset")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps (tracing)")
    parser.add_argument("--jit", choices=("auto", "on", "off"), default="auto")
    args = parser.parse_args(argv)
    kind, count = devices()
    precisions = args.precisions or (
        ["float32", "mixed_bfloat16"] + (["mixed_float16"] if kind == "GPU" else [])
    )
    print(f"devices: {count} {kind}{'s' if count > 1 else ''}", flush=True)
    print("preset | precision | batch | steps | images/s | last loss | xla")
    for name in args.presets or zoo.list_presets():
        for precision in precisions:
            try:
                r = check(name, precision, args.steps, args.warmup, args.jit)
            except Exception as e:  # noqa: BLE001  (report the preset and go on)
                print(f"{name} | {precision} | failed: {type(e).__name__}: {str(e)[:200]}")
                continue
            print(
                f"{name} | {precision} | {r['batch']} | {r['steps']} | "
                f"{r['images_per_second']:.0f} | {r['loss']:.4g} | {r['jit']}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
