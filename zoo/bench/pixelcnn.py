"""Benchmark: cached vs naive PixelCNN sampling, side by side in one process.

The model is issue 5's reference: a 6-layer, 32-filter gated PixelCNN (Bernoulli pixels). Its
weights are a fixed random initialisation (seed 0): sampling time does not depend on the weight
values, and both methods read the same weights. For every image size, each method is traced
once (a 1-sample warm-up off the clock), then timed on 16 samples with the same seed; the script
also counts the pixels where the two methods' images differ (they draw from the same conditionals
with the same random numbers, so only float rounding can make one flip).

Run on an otherwise idle CPU (timings are the machine's)::

    python -m zoo.bench.pixelcnn                    # 28x28, then the size sweep
    python -m zoo.bench.pixelcnn --sizes 8 16 28 --naive-max 28
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def _time(fn) -> tuple[float, np.ndarray]:
    """Seconds of one call of ``fn`` and its output as numpy."""
    start = time.perf_counter()
    out = np.asarray(fn())
    return time.perf_counter() - start, out


def run(sizes, naive_max: int, num_samples: int = 16, repeats: int = 3, seed: int = 0) -> list:
    """Times both methods per image size; returns one dict per size."""
    from tfgen.models import GatedPixelCNN

    rows = []
    for size in sizes:
        model = GatedPixelCNN((size, size, 1), num_layers=6, filters=32, seed=0)
        methods = ["cached"] + (["naive"] if size <= naive_max else [])
        for method in methods:  # trace each sampler off the clock
            model.sample(1, seed=seed, method=method)
        cached_times, images = [], {}
        for i in range(repeats):  # cached runs interleaved around the naive one
            seconds, images["cached"] = _time(lambda m=model: m.sample(num_samples, seed=seed))
            cached_times.append(seconds)
            if i == 0 and "naive" in methods:
                naive_seconds, images["naive"] = _time(
                    lambda m=model: m.sample(num_samples, seed=seed, method="naive")
                )
        row = {"size": size, "cached_s": float(np.median(cached_times))}
        if "naive" in images:
            row["naive_s"] = naive_seconds
            row["speedup"] = naive_seconds / row["cached_s"]
            row["differing_pixels"] = int((images["cached"] != images["naive"]).sum())
        rows.append(row)
        print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}),
              flush=True)  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> None:
    """Times both samplers for each ``--sizes`` and prints the table."""
    parser = argparse.ArgumentParser(
        prog="python -m zoo.bench.pixelcnn", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[28, 8, 16, 40, 56])
    parser.add_argument("--naive-max", type=int, default=28, help="largest size timed naively")
    parser.add_argument("--num-samples", type=int, default=16)
    args = parser.parse_args(argv)
    rows = run(args.sizes, args.naive_max, args.num_samples)
    print(f"\n{args.num_samples} samples, gated PixelCNN 6 layers x 32 filters")
    print(f"{'size':>6} {'pixels':>7} {'cached s':>9} {'naive s':>9} {'speedup':>8} {'diff px':>8}")
    for r in sorted(rows, key=lambda r: r["size"]):
        naive = f"{r['naive_s']:9.2f} {r['speedup']:7.1f}x {r['differing_pixels']:8d}" if (
            "naive_s" in r) else f"{'-':>9} {'-':>8} {'-':>8}"  # fmt: skip
        print(f"{r['size']:>6} {r['size'] ** 2:>7} {r['cached_s']:9.3f} {naive}")


if __name__ == "__main__":
    main()
