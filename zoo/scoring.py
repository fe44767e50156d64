"""`tfgen score`: how well a trained model's anomaly scores separate its test set from others.

Loads a work directory's model (and a background model for the likelihood ratio), scores the
in-distribution set and each out-of-distribution set with each method of
:mod:`tfgen.anomaly`, prints AUROC / AUPRC / FPR at 95% TPR per method and set, and writes a
histogram PNG of the scores. The OOD sets follow the run's binarization protocol.

Out-of-distribution names: ``digits`` (scikit-learn's digits in 28x28), the corruptions of the
in-distribution images ``noise``, ``inverted``, ``rotated``, ``blurred``, ``constant``, and
``fashion_mnist_class_K`` (the test images of class K; the in-distribution set then leaves class K
out: the novelty case of a model trained without it).
"""

from __future__ import annotations

import os
import re

import numpy as np

OOD_SETS = ("digits", "noise", "inverted", "rotated", "blurred", "constant")
_CLASS = re.compile(r"^(fashion_mnist|mnist|digits)_class_(\d)$")


def check_ood_name(name: str) -> str:
    """``name`` if it is an out-of-distribution set this module builds, else a ValueError.

    Example:
        >>> check_ood_name("fashion_mnist_class_9")
        'fashion_mnist_class_9'
    """
    if name in OOD_SETS or _CLASS.match(name):
        return name
    allowed = ", ".join(OOD_SETS) + ", fashion_mnist_class_K"
    raise ValueError(f"out-of-distribution set must be one of {allowed}; got {name!r}")


def parse_in_spec(spec: str) -> tuple[str, str]:
    """``"fashion_mnist:test"`` -> ``("fashion_mnist", "test")`` (split defaults to test).

    Example:
        >>> parse_in_spec("digits")
        ('digits', 'test')
    """
    from tfgen import data

    name, _, split = spec.partition(":")
    split = split or "test"
    if name not in data.DATASETS or split not in data.SPLITS:
        raise ValueError(
            f"--in must be DATASET:SPLIT with DATASET in {list(data.DATASETS)} and SPLIT in "
            f"{list(data.SPLITS)}; got {spec!r}"
        )
    return name, split


def build_sets(
    in_spec: str, ood_names, binarize, *, max_examples: int | None = None, seed: int = 0
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The in-distribution images and ``{name: images}`` of each OOD set, as model input.

    Args:
        in_spec: ``DATASET:SPLIT``.
        ood_names: names from ``OOD_SETS`` or ``<dataset>_class_K``.
        binarize: the model's protocol (None, ``"static"``, ``"dynamic"``).
        max_examples: use at most this many images per set.
        seed: seed of the corruptions and of dynamic binarization.
    """
    from tfgen import data
    from tfgen.ood_data import digits_28, held_out_class, out_of_distribution_set, to_model_input

    name, split = parse_in_spec(in_spec)
    names = [check_ood_name(n) for n in ood_names]
    held = [int(m.group(2)) for m in map(_CLASS.match, names) if m]
    x_in, y_in = data.load_arrays(name, split)
    keep = ~np.isin(y_in, held)
    limit = slice(None, max_examples)
    reference = x_in[keep][limit]
    sets = {}
    for i, ood in enumerate(names):
        match = _CLASS.match(ood)
        if match:
            images = held_out_class(match.group(1), split, int(match.group(2)))[2]
        elif ood == "digits":
            side = reference.shape[1]
            images = digits_28(size=side, box=max(8, min(side, round(side * 20 / 28))))
        else:
            images = out_of_distribution_set(ood, reference, seed=seed + i)
        sets[ood] = to_model_input(images[limit], binarize, seed=seed + 1 + i)
    return to_model_input(reference, binarize, seed=seed), sets


def evaluate_scores(in_scores, out_scores: dict) -> dict[str, dict[str, float]]:
    """``{set: {auroc, auprc, fpr_at_95_tpr}}`` of the score arrays (OOD positive).

    Example:
        >>> evaluate_scores([0.0, 1.0], {"far": [2.0, 3.0]})["far"]["auroc"]
        1.0
    """
    from tfgen.metrics import auprc, auroc, fpr_at_tpr

    return {
        name: {
            "auroc": auroc(in_scores, s),
            "auprc": auprc(in_scores, s),
            "fpr_at_95_tpr": fpr_at_tpr(in_scores, s, 0.95),
        }
        for name, s in out_scores.items()
    }


def score_all(scorers: dict, x_in: np.ndarray, sets: dict) -> dict[str, dict]:
    """``{method: {"in": scores, set: scores}}``: every scorer on every set (a typicality scorer
    scores consecutive groups of its ``group_size``; a set's remainder is dropped)."""
    out = {}
    for method, scorer in scorers.items():
        m = scorer.group_size
        out[method] = {
            name: scorer.score(x[: len(x) // m * m]) for name, x in {"in": x_in, **sets}.items()
        }
    return out


def format_table(results: dict[str, dict], metric: str = "auroc") -> str:
    """A markdown table: one row per method, one column per OOD set, ``metric`` values.

    Example:
        >>> print(format_table({"nll": {"digits": {"auroc": 0.25}}}))
        | method | digits |
        | --- | --- |
        | nll | 0.250 |
    """
    methods = list(results)
    sets = list(results[methods[0]]) if methods else []
    lines = ["| method | " + " | ".join(sets) + " |", "| --- |" + " --- |" * len(sets)]
    for method in methods:
        cells = [f"{results[method][s][metric]:.3f}" for s in sets]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_histograms(scores: dict[str, dict], path: str) -> str:
    """One panel per method: histograms of the in-distribution and each OOD set's scores."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tfgen.callbacks import atomic_path

    fig, axes = plt.subplots(1, len(scores), figsize=(4.5 * len(scores), 3.4), squeeze=False)
    for ax, (method, sets) in zip(axes[0], scores.items(), strict=True):
        values = np.concatenate(list(sets.values()))
        bins = np.linspace(np.percentile(values, 0.5), np.percentile(values, 99.5), 50)
        for name, s in sets.items():
            ax.hist(np.clip(s, bins[0], bins[-1]), bins=bins, alpha=0.45, density=True, label=name)
        ax.set_title(method)
        ax.set_xlabel("anomaly score (higher: more anomalous)")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    plt.close(fig)
    return path


def _load(path: str):
    """A model from a work directory or a ``.keras`` file."""
    if os.path.isfile(path):
        import keras

        import tfgen  # noqa: F401  (registers the classes)

        return keras.models.load_model(path)
    from zoo.workdir import load_run_model

    return load_run_model(path)


def score(
    workdir: str,
    *,
    in_spec: str = "fashion_mnist:test",
    ood_names=("digits",),
    methods=("nll", "complexity"),
    background: str | None = None,
    histogram: str | None = None,
    max_examples: int | None = 2000,
    importance_samples: int = 100,
    group_size: int = 10,
    seed: int = 0,
) -> dict:
    """Scores a work directory's model (or a preset's shipped one) on ``in_spec`` vs each OOD
    set with each method.

    Returns ``{"table": markdown AUROC table, "results": {method: {set: metrics}},
    "histogram": path}``; typicality needs the training split (its entropy estimate) and is
    evaluated on groups of ``group_size`` inputs.

    Raises:
        ValueError: a method or set name not known, ``likelihood_ratio`` without
            ``background``, or a background model with a different event shape.
    """
    from tfgen import anomaly
    from tfgen.ood_data import to_model_input

    for method in methods:
        if method not in anomaly.METHODS:
            raise ValueError(f"--method must be one of {list(anomaly.METHODS)}; got {method!r}")
    if "likelihood_ratio" in methods and background is None:
        raise ValueError("--method likelihood_ratio needs --background (a work dir or .keras)")
    from zoo.evaluation import source

    src = source(workdir)  # a work directory, or a preset's shipped weights
    binarize = src.recipe.binarize
    model = src.load()
    bg = _load(background) if background and "likelihood_ratio" in methods else None
    x_in, sets = build_sets(in_spec, ood_names, binarize, max_examples=max_examples, seed=seed)
    common = dict(importance_samples=importance_samples, seed=seed)
    scorers = {}
    for method in methods:
        extra = {"group_size": group_size} if method == "typicality" else {}
        if method == "complexity":
            extra = {"bit_depth": 1 if binarize else 8}
        scorers[method] = anomaly.make_scorer(
            method, model, bg if method == "likelihood_ratio" else None, **common, **extra
        )
        if method == "typicality":
            from tfgen import data

            train, _ = data.load_arrays(parse_in_spec(in_spec)[0], "train")
            scorers[method].fit(to_model_input(train[: max_examples or 5000], binarize, seed))
    scores = score_all(scorers, x_in, sets)
    results = {
        m: evaluate_scores(s["in"], {k: v for k, v in s.items() if k != "in"})
        for m, s in scores.items()
    }
    default = os.path.join(src.workdir, "scores.png") if src.workdir else f"{workdir}_scores.png"
    path = write_histograms(scores, histogram or default)
    return {"table": format_table(results), "results": results, "histogram": path}


def add_parser(sub):
    """Adds the ``score`` command to the `tfgen` CLI's subparsers; returns its parser."""
    sc = sub.add_parser(
        "score",
        help="anomaly scores of a trained model: AUROC table and a histogram PNG",
        description="Score the in-distribution set and each out-of-distribution set with each "
        "method; print AUROC (and AUPRC, FPR at 95% TPR with --all-metrics); write a "
        "histogram PNG of the scores.",
    )
    sc.add_argument(
        "workdir",
        help="a work directory written by `tfgen train`, or a preset that ships trained weights",
    )
    sc.add_argument("--in", dest="in_spec", default="fashion_mnist:test", help="DATASET:SPLIT")
    sc.add_argument(
        "--out-of-distribution",
        nargs="+",
        default=["digits"],
        metavar="NAME",
        help=f"sets: {', '.join(OOD_SETS)}, fashion_mnist_class_K (default: digits)",
    )
    sc.add_argument(
        "--method",
        nargs="+",
        default=["nll", "complexity"],
        metavar="METHOD",
        help="nll, bits_per_dim, likelihood_ratio, complexity, typicality "
        "(default: nll complexity)",
    )
    sc.add_argument(
        "--background", help="background model for likelihood_ratio: a work dir or .keras file"
    )
    sc.add_argument(
        "--histogram", help="PNG path (default WORKDIR/scores.png, or PRESET_scores.png)"
    )
    sc.add_argument("--max-examples", type=int, default=2000, help="images per set (2000)")
    sc.add_argument("--importance-samples", type=int, default=100, help="k of latent models")
    sc.add_argument("--group-size", type=int, default=10, help="M of the typicality test")
    sc.add_argument("--seed", type=int, default=0, help="seed of corruptions and binarization")
    sc.add_argument("--all-metrics", action="store_true", help="also print AUPRC and FPR@95")
    return sc


def run(args) -> None:
    """Runs the parsed ``score`` command and prints its tables."""
    out = score(
        args.workdir,
        in_spec=args.in_spec,
        ood_names=args.out_of_distribution,
        methods=args.method,
        background=args.background,
        histogram=args.histogram,
        max_examples=args.max_examples,
        importance_samples=args.importance_samples,
        group_size=args.group_size,
        seed=args.seed,
    )
    print("AUROC (out-of-distribution positive; 0.5 = chance)")
    print(out["table"])
    if args.all_metrics:
        for metric in ("auprc", "fpr_at_95_tpr"):
            print(f"\n{metric}\n" + format_table(out["results"], metric))
    print(f"\nhistogram: {out['histogram']}")
