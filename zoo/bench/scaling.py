"""Scaling out on one machine: one process against two workers, and bfloat16 against float32.

Two parts:

* ``workers``: for each preset (default: the VAE and PixelCNN presets), ``--steps`` training steps
  at the recipe's global batch in one process (default strategy), then in two worker processes
  on 127.0.0.1 (``MultiWorkerMirroredStrategy``, ``TF_CONFIG``; each worker computes half of the
  batch). Printed: images/s, and the milliseconds one all-reduce of tensors of the model's
  gradient shapes takes between the two workers (what every step adds to its own compute). On
  one machine two workers share its cores, so they cannot be faster than one process: the
  figures measure the overhead per step, from which scaling over machines can be predicted
  (step time on N machines ~ compute of batch/N + the all-reduce).
* ``precision``: PixelCNN and DCGAN presets trained by the recipe runner for the same
  ``--minutes`` in float32 and in ``mixed_bfloat16``. Printed: images/s (steps x batch / training
  seconds) and the final test quality (bits/dim; for DCGAN the Frechet classifier distance).

Run from the repository root (figures in zoo/RESULTS.md)::

    python -m zoo.bench.scaling workers --steps 30
    python -m zoo.bench.scaling precision --minutes 3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

WORKER_PRESETS = ("vae_fast_fashion_mnist", "pixelcnn_small_binarized_fashion_mnist")
PRECISION_PRESETS = ("pixelcnn_small_binarized_fashion_mnist", "dcgan_small_fashion_mnist")


def measure(preset_name: str, strategy_name: str, steps: int, warmup: int = 3) -> dict:
    """Trains ``steps`` steps (after ``warmup``) under a strategy; images/s and all-reduce ms."""
    from tfgen import distribute

    strategy = distribute.make_strategy(strategy_name)  # first, before other TensorFlow ops
    import tensorflow as tf

    import zoo
    from tfgen import data
    from zoo.workdir import split_dataset

    preset = zoo.get(preset_name)
    recipe = preset.train
    with strategy.scope():
        model = zoo.build(preset, event_shape=data.event_shape(recipe.dataset))
    model.steps_per_execution = 1  # the same for both (Keras' multi-step loop: see zoo.train)
    dataset = split_dataset(recipe, "train").repeat()
    model.fit(dataset, steps_per_epoch=warmup, epochs=1, verbose=0, shuffle=False)
    start = time.perf_counter()
    model.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)
    seconds = time.perf_counter() - start
    shapes = [tf.zeros(v.shape, tf.float32) for v in model.trainable_variables]

    @tf.function
    def all_reduce():
        return strategy.run(lambda: tf.distribute.get_replica_context().all_reduce("SUM", shapes))

    all_reduce()
    start = time.perf_counter()
    for _ in range(steps):
        all_reduce()
    reduce_ms = 1000 * (time.perf_counter() - start) / steps
    parameters = sum(int(tf.size(v)) for v in model.trainable_variables)
    return {
        "preset": preset_name,
        "strategy": strategy_name,
        "replicas": strategy.num_replicas_in_sync,
        "global_batch": recipe.batch_size,
        "images_per_second": round(steps * recipe.batch_size / seconds, 1),
        "step_ms": round(1000 * seconds / steps, 1),
        "all_reduce_ms": round(reduce_ms, 2) if strategy.num_replicas_in_sync > 1 else 0.0,
        "parameters": parameters,
    }


def _run_processes(preset: str, steps: int, workers: int) -> dict:
    command = [sys.executable, "-m", "zoo.bench.scaling", "_measure", preset, str(steps)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    if workers == 1:
        out = subprocess.run(command + ["default"], env=env, capture_output=True, text=True)
        return json.loads(out.stdout.strip().splitlines()[-1])
    from tfgen.distribute import free_ports

    addresses = [f"127.0.0.1:{p}" for p in free_ports(workers)]
    procs = []
    try:
        for index in range(workers):
            config = {"cluster": {"worker": addresses}, "task": {"type": "worker", "index": index}}
            procs.append(
                subprocess.Popen(
                    command + ["multi_worker"],
                    env={**env, "TF_CONFIG": json.dumps(config)},
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    text=True,
                )
            )
        outputs = [p.communicate(timeout=1800)[0] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    return json.loads(outputs[0].strip().splitlines()[-1])  # the chief's figures


def part_workers(presets, steps: int) -> None:
    print("preset | processes | global batch | images/s | ms/step | all-reduce ms | parameters")
    for preset in presets:
        for workers in (1, 2):
            r = _run_processes(preset, steps, workers)
            print(
                f"{preset} | {workers} | {r['global_batch']} | {r['images_per_second']} | "
                f"{r['step_ms']} | {r['all_reduce_ms']} | {r['parameters']}",
                flush=True,
            )


def part_precision(presets, minutes: float) -> None:
    from zoo import train as runner

    print("preset | precision | steps | images/s | test quality")
    for preset in presets:
        for precision in ("float32", "mixed_bfloat16"):
            workdir = tempfile.mkdtemp(prefix="scaling-")
            metrics = runner.train(
                preset, workdir, max_minutes=minutes, precision=precision, verbose=0
            )
            result = runner.evaluate(workdir)
            quality = {k: v for k, v in result.items() if k in ("bits_per_dim", "fid", "fcd")}
            rate = metrics["steps"] * runner.read_run(workdir)["train"]["batch_size"]
            rate /= max(metrics["train_seconds"], 1e-9)
            print(
                f"{preset} | {precision} | {metrics['steps']} | {rate:.0f} | "
                f"{json.dumps(quality or result)}",
                flush=True,
            )


def main(argv: list[str] | None = None) -> None:
    """Command line entry point (see the module docstring)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_measure":  # one process of the ``workers`` part
        print(json.dumps(measure(argv[1], argv[3], int(argv[2]))))
        return
    parser = argparse.ArgumentParser(
        prog="python -m zoo.bench.scaling", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="part", required=True)
    workers = sub.add_parser("workers", help="one process against two workers")
    workers.add_argument("--presets", nargs="+", default=list(WORKER_PRESETS))
    workers.add_argument("--steps", type=int, default=30)
    precision = sub.add_parser("precision", help="mixed_bfloat16 against float32")
    precision.add_argument("--presets", nargs="+", default=list(PRECISION_PRESETS))
    precision.add_argument("--minutes", type=float, default=3.0)
    args = parser.parse_args(argv)
    if args.part == "workers":
        part_workers(args.presets, args.steps)
    else:
        part_precision(args.presets, args.minutes)


if __name__ == "__main__":
    main()
