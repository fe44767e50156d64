"""Benchmark: PixelRNN's skewed diagonal scan, training throughput and cached sampling.

Three measurements, each printed as JSON lines, all in one process:

* ``scan``: one training step (forward and backward) of a Diagonal BiLSTM layer on 28x28 feature
  maps at batch 64: the skewed scan (``W + H - 1 = 2N - 1`` sequential steps) against the
  reference that runs the same cells pixel by pixel (``H * W`` steps), same weights; the largest
  difference of their outputs and the sequential step counts (the lengths of the two loops).
* ``train``: training images/s of the two PixelRNN presets' networks next to the PixelCNN preset
  (``pixelcnn_small_binarized_fashion_mnist``), on the same batch of binarized Fashion-MNIST.
* ``sample``: 16 images of 28x28, cached (LSTM states carried along) vs naive (a full network pass
  per pixel), for each kind; both draw from the same seed and must give the same images.

Weights are the presets' random initialisation (seed 0): time does not depend on their values.
Each function is traced once off the clock. Run::

    python -m zoo.bench.pixelrnn                  # everything
    python -m zoo.bench.pixelrnn --only scan train
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

PRESETS = {
    "row_lstm": "pixelrnn_row_lstm_binarized_fashion_mnist",
    "diagonal_bilstm": "pixelrnn_diagonal_bilstm_binarized_fashion_mnist",
    "pixelcnn": "pixelcnn_small_binarized_fashion_mnist",
}


def _seconds(fn, repeats: int) -> float:
    """Median seconds of ``repeats`` calls of ``fn`` after one untimed call."""
    np.asarray(fn())
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        np.asarray(fn())
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def scan(size: int = 28, batch: int = 64, units: int = 32, repeats: int = 3) -> dict:
    """Skewed scan vs pixel-by-pixel reference: one training step each, same weights."""
    import tensorflow as tf

    from tfgen.layers.pixel_lstm import DiagonalBiLSTM, skew

    layer = DiagonalBiLSTM(units, name="bench")
    x = tf.random.stateless_normal([batch, size, size, 2 * units], [0, 1])
    image = tf.cast(tf.random.stateless_uniform([batch, size, size, 1], [0, 2]) < 0.5, tf.float32)
    layer(x, image)

    def step(method):
        @tf.function
        def train_step():
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(tf.square(method(x, image)))
            grads = tape.gradient(loss, layer.trainable_weights)
            return tf.add_n([tf.reduce_sum(g) for g in grads])

        return train_step

    fast, reference = layer(x, image), layer.call_reference(x, image)
    t_scan = _seconds(step(layer.__call__), repeats)
    t_ref = _seconds(step(layer.call_reference), max(1, repeats // 2))
    return {
        "bench": "scan",
        "shape": [batch, size, size],
        "units": units,
        "steps_scan": int(skew(x[:1, ..., :1]).shape[2]),  # the columns tf.scan runs over
        "steps_reference": size * size,
        "max_abs_diff": float(tf.reduce_max(tf.abs(fast - reference))),
        "train_step_s_scan": round(t_scan, 3),
        "train_step_s_reference": round(t_ref, 3),
        "speedup": round(t_ref / t_scan, 1),
    }


def train(batch: int = 64, repeats: int = 5) -> list[dict]:
    """Training images/s of the presets' networks (same batch, same process)."""
    from tfgen import data
    from zoo import presets

    x = next(iter(data.load("fashion_mnist", "train", batch_size=batch, binarize="static")))
    rows = []
    for name in PRESETS.values():
        model = presets.build(name)
        seconds = _seconds(lambda model=model: model.train_on_batch(x)[0], repeats)
        rows.append({
            "bench": "train", "preset": name, "params": model.count_params(), "batch": batch,
            "images_per_s": round(batch / seconds, 1),
        })  # fmt: skip
    return rows


def sample(num_samples: int = 16, seed: int = 0) -> list[dict]:
    """Cached vs naive sampling of ``num_samples`` 28x28 images per kind, same seed."""
    from zoo import presets

    rows = []
    for kind in ("row_lstm", "diagonal_bilstm"):
        model = presets.build(PRESETS[kind])
        times, images = {}, {}
        for method in ("cached", "naive"):
            model.sample(1, seed=seed, method=method)  # trace off the clock
            start = time.perf_counter()
            images[method] = model.sample(num_samples, seed=seed, method=method).numpy()
            times[method] = time.perf_counter() - start
        rows.append({
            "bench": "sample", "kind": kind, "num_samples": num_samples,
            "cached_s": round(times["cached"], 2), "naive_s": round(times["naive"], 2),
            "speedup": round(times["naive"] / times["cached"], 1),
            "differing_pixels": int((images["cached"] != images["naive"]).sum()),
        })  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> None:
    """Runs the chosen benchmarks and prints one JSON line per measurement."""
    parser = argparse.ArgumentParser(
        prog="python -m zoo.bench.pixelrnn",
        description="PixelRNN: skewed scan vs per-pixel reference, training throughput next to "
        "PixelCNN, cached vs naive sampling",
    )
    parser.add_argument("--only", nargs="+", choices=["scan", "train", "sample"],
                        default=["scan", "train", "sample"])  # fmt: skip
    parser.add_argument("--size", type=int, default=28, help="image side of the scan benchmark")
    parser.add_argument("--num-samples", type=int, default=16)
    args = parser.parse_args(argv)
    if "scan" in args.only:
        print(json.dumps(scan(args.size)), flush=True)
    if "train" in args.only:
        for row in train():
            print(json.dumps(row), flush=True)
    if "sample" in args.only:
        for row in sample(args.num_samples):
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
