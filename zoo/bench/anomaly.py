"""Anomaly / out-of-distribution benchmark: model x scorer x OOD set AUROC, and throughput.

Trains (once; cached in ``--cache``) each benchmark model of :mod:`zoo.bench.anomaly_models`
with its stated budget, plus its background model for the likelihood ratio, then scores the
Fashion-MNIST test set against scikit-learn's digits and five corruptions with every scorer of
:mod:`tfgen.anomaly`, the held-out-class (novelty) case with NADE, and times each scorer on 10,000
test images. Prints markdown tables (the ones in zoo/RESULTS.md) and writes them as JSON.

Run: ``python -m zoo.bench.anomaly --cache runs/anomaly_bench``
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

SCORERS = ("nll", "likelihood_ratio", "complexity", "complexity_png", "typicality")
OOD_ORDER = ("fashion_mnist_class_9", "digits", "noise", "inverted", "rotated", "blurred")


def _ordered(names, preferred) -> list[str]:
    """``names`` with those in ``preferred`` first, in its order (JSON files sort keys)."""
    return [n for n in preferred if n in names] + [n for n in names if n not in preferred]


def _scorers(model, background, binarize, k: int, group_size: int, train_examples: int):
    from tfgen import anomaly, data
    from tfgen.ood_data import to_model_input

    common = dict(importance_samples=k, seed=0, batch_size=250)
    typical = anomaly.Typicality(model, group_size=group_size, **common)
    train, _ = data.load_arrays("fashion_mnist", "train")
    typical.fit(to_model_input(train[:train_examples], binarize, seed=3))
    depth = 1 if binarize else 8
    scorers = {
        "nll": anomaly.NegativeLogLikelihood(model, **common),
        "likelihood_ratio": anomaly.LikelihoodRatio(model, background, **common),
        "complexity": anomaly.InputComplexity(model, bit_depth=depth, **common),
        "typicality": typical,
    }
    if binarize:  # the default code of binary images is JBIG's context model; PNG beside it
        scorers["complexity_png"] = anomaly.InputComplexity(
            model, bit_depth=1, compressor="png", **common
        )
    return scorers


def _throughput(scorers: dict, x: np.ndarray) -> dict[str, float]:
    """Images per second of each scorer on ``x`` (after one warm-up batch)."""
    out = {}
    for name, scorer in scorers.items():
        m = scorer.group_size
        scorer.score(x[: scorer.batch_size // m * m])  # trace
        start = time.perf_counter()
        scorer.score(x[: len(x) // m * m])
        out[name] = round(len(x) / (time.perf_counter() - start), 1)
    return out


def bench_model(key: str, args) -> dict:
    """AUROC of every scorer and OOD set, held-out class for NADE, and throughput for ``key``."""
    from zoo.bench.anomaly_models import HELD_OUT, get_models, preset_for, variant_name
    from zoo.scoring import build_sets, evaluate_scores, score_all

    binarize = preset_for(key).train.binarize
    k = args.importance_samples if key == "vae" else 1
    variants = ("in", "background", "novelty") if key in args.novelty else ("in", "background")
    models = get_models(key, args.cache, variants, args.minutes_scale, args.mutation_rate, args.l2)
    scorers = _scorers(
        models["in"], models["background"], binarize, k, args.group_size, args.max_examples
    )
    x_in, sets = build_sets(
        "fashion_mnist:test", args.ood, binarize, max_examples=args.max_examples
    )
    scores = score_all(scorers, x_in, sets)
    results = {
        m: evaluate_scores(s["in"], {n: v for n, v in s.items() if n != "in"})
        for m, s in scores.items()
    }
    out = {
        "results": results,
        "background": variant_name(key, "background", args.mutation_rate, args.l2),
        "in_nll": float(np.mean(scores["nll"]["in"])),
        "digits_nll": float(np.mean(scores["nll"]["digits"])) if "digits" in sets else None,
    }
    if "novelty" in models:
        novel = f"fashion_mnist_class_{HELD_OUT}"
        x_keep, novel_sets = build_sets(
            "fashion_mnist:test", [novel, "digits"], binarize, max_examples=args.max_examples
        )
        nov = _scorers(
            models["novelty"], models["background"], binarize, k, args.group_size,
            args.max_examples,
        )  # fmt: skip
        nov_scores = score_all(nov, x_keep, novel_sets)
        out["novelty"] = {
            m: evaluate_scores(s["in"], {n: v for n, v in s.items() if n != "in"})
            for m, s in nov_scores.items()
        }
    if args.throughput:
        from tfgen import data
        from tfgen.ood_data import to_model_input

        x_test, _ = data.load_arrays("fashion_mnist", "test")
        out["throughput"] = _throughput(scorers, to_model_input(x_test, binarize, seed=0))
    return out


def tables(report: dict, records: dict) -> str:
    """The markdown tables of a report: AUROC per model x scorer x set, novelty, throughput."""
    lines = []
    first = next(iter(report.values()))["results"]
    sets = _ordered(next(iter(first.values())), OOD_ORDER)
    lines.append("| model (training) | scorer | " + " | ".join(sets) + " |")
    lines.append("| --- | --- |" + " --- |" * len(sets))
    for key, out in report.items():
        rec = records.get(f"{key}_in", {})
        bg = records.get(out["background"], {})
        source = "shipped, " if rec.get("shipped") else ""
        budget = (
            f"{key} ({source}{rec.get('train_minutes', '?')} min, {rec.get('epochs', '?')} ep; "
            f"bg {bg.get('train_minutes', '?')} min)"
        )
        for method in _ordered(out["results"], SCORERS):
            by_set = out["results"][method]
            cells = [f"{by_set[s]['auroc']:.3f}" for s in sets]
            lines.append(f"| {budget} | {method} | " + " | ".join(cells) + " |")
            budget = ""
    novelty = {k: v["novelty"] for k, v in report.items() if "novelty" in v}
    for key, res in novelty.items():
        rec = records.get(f"{key}_novelty", {})
        lines.append(f"\nNovelty, {key} trained without class 9 ({rec.get('train_minutes')} min)")
        names = _ordered(next(iter(res.values())), OOD_ORDER)
        lines.append("| scorer | " + " | ".join(names) + " |")
        lines.append("| --- |" + " --- |" * len(names))
        for method in _ordered(res, SCORERS):
            by_set = res[method]
            lines.append(
                f"| {method} | " + " | ".join(f"{by_set[n]['auroc']:.3f}" for n in names) + " |"
            )
    through = {k: v["throughput"] for k, v in report.items() if "throughput" in v}
    if through:
        lines.append("\nScoring throughput, images/s on 10,000 test images")
        lines.append("| model | " + " | ".join(SCORERS) + " |")
        lines.append("| --- |" + " --- |" * len(SCORERS))
        for key, t in through.items():
            cells = [f"{t[s]:,.0f}" if s in t else "—" for s in SCORERS]
            lines.append(f"| {key} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> None:
    """Command-line entry point (``python -m zoo.bench.anomaly --help``)."""
    from zoo.bench.anomaly_models import L2, MODELS, MUTATION_RATE, training_records

    parser = argparse.ArgumentParser(
        prog="python -m zoo.bench.anomaly", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--cache", default="runs/anomaly_bench", help="trained models' folder")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--novelty", nargs="*", default=["nade"], help="models with a novelty run")
    parser.add_argument(
        "--ood",
        nargs="+",
        default=["digits", "noise", "inverted", "rotated", "blurred", "constant"],
    )
    parser.add_argument("--max-examples", type=int, default=2000, help="images per set")
    parser.add_argument("--importance-samples", type=int, default=16, help="k of the VAE")
    parser.add_argument("--group-size", type=int, default=10, help="M of the typicality test")
    parser.add_argument(
        "--minutes-scale", type=float, default=1.0, help="multiply every training budget"
    )
    parser.add_argument("--mutation-rate", type=float, default=MUTATION_RATE, help="background")
    parser.add_argument("--l2", type=float, default=L2, help="background models' L2 weight")
    parser.add_argument("--no-throughput", dest="throughput", action="store_false")
    parser.add_argument("--out", help="JSON report path (default CACHE/report.json)")
    parser.add_argument(
        "--resume", action="store_true", help="keep the models in the report, score the rest"
    )
    args = parser.parse_args(argv)
    from tfgen.callbacks import write_json

    path = args.out or os.path.join(args.cache, "report.json")
    report = {}
    if args.resume and os.path.exists(path):
        with open(path) as f:
            report = {k: v for k, v in json.load(f).items() if k in args.models}
    for key in args.models:
        if key not in report:
            report[key] = bench_model(key, args)
            write_json(path, report)  # after every model: a crash keeps what was measured
        print(f"{key}: done", flush=True)
    print(tables({k: report[k] for k in args.models}, training_records(args.cache)))


if __name__ == "__main__":
    main()
