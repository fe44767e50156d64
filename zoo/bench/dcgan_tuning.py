"""Tuning the DCGAN presets under the GAN protocol (zoo/RESULTS.md, "Weak results raised").

Each variant is a DCGAN preset (``--base``: ``dcgan_small_fashion_mnist`` by default, or
``dcgan_conditional_fashion_mnist``) with some model arguments changed (``VARIANTS``; for the
unconditional preset ``baseline`` is the preset before tuning, ``minibatch`` the preset since),
trained for the recipe's epochs to the end with ``--seeds`` training seeds (the recipe's seed,
then the next ones, as ``zoo.reproduce`` does) and evaluated as its records are
(``zoo.evaluation.evaluate_model``: FCD and classifier score of 10,000 samples against the test
set, label accuracy for the conditional model; seed 0). Printed: mean and sample standard
deviation over the seeds, and each seed's FCD.

A finished run in ``<root>/<base>/<variant>/seed<s>`` is evaluated as it is, so variants can be
run in separate invocations and a killed one continued.

Usage (from the repository root)::

    python -m zoo.bench.dcgan_tuning --variants baseline minibatch smoothing --seeds 1
    python -m zoo.bench.dcgan_tuning --variants baseline --seeds 3
    python -m zoo.bench.dcgan_tuning --base dcgan_conditional_fashion_mnist \
        --variants baseline minibatch --seeds 1
"""

from __future__ import annotations

import argparse
import dataclasses
import os

import numpy as np

BASE = "dcgan_small_fashion_mnist"
BASES = (BASE, "dcgan_conditional_fashion_mnist")
VARIANTS = {  # model arguments changed from the preset's
    # the preset before tuning: Radford et al.'s DCGAN
    "baseline": {"minibatch_kernels": 0},
    # minibatch discrimination (Salimans et al. 2016): D sees how alike the batch's samples are;
    # the preset since tuning
    "minibatch": {"minibatch_kernels": 8, "minibatch_kernel_dim": 4},
    # one-sided label smoothing of the real target (Salimans et al. 2016)
    "smoothing": {"minibatch_kernels": 0, "label_smoothing": 0.1},
    # a wider generator (the discriminator unchanged)
    "wide_generator": {"minibatch_kernels": 0, "generator_filters": (256, 128)},
}


def variant_preset(variant: str, base_name: str = BASE):
    """The preset of ``variant`` of ``base_name``, registered as ``<base>+<variant>`` (once)."""
    from zoo import presets

    name = f"{base_name}+{variant}"
    if name not in presets.PRESETS:
        base = presets.get(base_name)
        model = {**base.model, **VARIANTS[variant]}
        presets.register(dataclasses.replace(base, name=name, model=model, results={}))
    return presets.get(name)


def run_variant(variant: str, seeds: int, root: str, base_name: str = BASE) -> list[dict]:
    """Trains (or reuses) ``seeds`` runs of ``variant``; their figures and training seconds."""
    from zoo.evaluation import evaluate_model
    from zoo.reproduce import seed_run
    from zoo.workdir import load_run_model

    preset = variant_preset(variant, base_name)
    out = []
    for i in range(seeds):
        seed = preset.train.seed + i
        workdir = os.path.join(root, base_name, variant, f"seed{seed}")
        metrics = seed_run(preset.name, workdir, seed if i else None)
        figures = evaluate_model(load_run_model(workdir), preset.train)
        out.append(
            {
                "seed": seed,
                "fcd": figures["fcd"],
                "classifier_score": figures["classifier_score"],
                **{k: figures[k] for k in ("sample_class_accuracy",) if k in figures},
                "train_seconds": metrics["train_seconds"],
            }
        )
        print(f"{variant} seed {seed}: {out[-1]}", flush=True)
    return out


def _mean_std(values, digits: int = 2) -> str:
    values = np.asarray(values, float)
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{values.mean():.{digits}f} ± {values.std(ddof=1):.{digits}f}"


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m zoo.bench.dcgan_tuning", description=__doc__)
    p.add_argument("--base", choices=BASES, default=BASE, help="the preset the variants change")
    p.add_argument("--variants", nargs="+", choices=sorted(VARIANTS), default=["baseline"])
    p.add_argument("--seeds", type=int, default=3, help="training seeds per variant")
    p.add_argument("--root", default=os.path.join("runs", "dcgan_tuning"))
    args = p.parse_args(argv)
    if args.seeds < 1:
        p.error(f"--seeds must be a positive int; got {args.seeds}")
    rows = {v: run_variant(v, args.seeds, args.root, args.base) for v in args.variants}
    print(f"\n{args.base}, {args.seeds} seed(s), 10,000 samples vs the test set")
    print("| variant | model arguments | FCD | classifier score | label accuracy | FCD per seed "
          "| train s |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for v, runs in rows.items():
        fcd = [r["fcd"] for r in runs]
        accuracy = [r["sample_class_accuracy"] for r in runs if "sample_class_accuracy" in r]
        print(
            f"| {v} | {VARIANTS[v] or 'the preset'} | {_mean_std(fcd)} | "
            f"{_mean_std([r['classifier_score'] for r in runs])} | "
            f"{_mean_std(accuracy, 3) if accuracy else '-'} | "
            f"{', '.join(f'{x:.2f}' for x in fcd)} | "
            f"{np.mean([r['train_seconds'] for r in runs]):.0f} |"
        )


if __name__ == "__main__":
    main()
