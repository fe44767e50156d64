"""Reproduce the zoo's results: train (or load) each preset, evaluate it, record, ship weights.

Usage::

    python -m zoo.reproduce [PRESET ...] [--budget-minutes M] [--seeds N]
    python -m zoo.reproduce --evaluate-only [PRESET ...]   # from the shipped weights, minutes
    python -m zoo.reproduce --evaluate-only --full-test-set  # every recorded figure again
    python -m zoo.reproduce --tables-only                  # regenerate RESULTS.md's tables

A training run writes ``zoo/results/<preset>.json`` (figures under the preset's protocol, see
:mod:`zoo.protocols`; recipe; training time and steps; package versions; CPU; the command) and
``zoo/weights/<preset>.weights.h5`` (the first seed's trained weights, no optimizer state), then
regenerates the tables of zoo/RESULTS.md from every record. ``--evaluate-only`` loads the shipped
weights, re-measures the record's figures on its slice of the test set (the first
``protocols.slice_size(preset)`` images; all of
them with ``--full-test-set``), exits 1 when one differs from its record by more than
``TOLERANCE`` (relative) and writes no record.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import sys
import time

import numpy as np

from zoo import presets, protocols, records, tables

TOLERANCE = 1e-3  # relative difference allowed between a re-measured figure and its record
# figures of the tfgen classifier (trained once per machine), not re-measured on the slice
CLASSIFIER_FIGURES = frozenset(
    {"fcd", "classifier_score", "classifier_test_accuracy", "sample_class_accuracy"}
)


def _numeric(figures: dict) -> dict[str, float]:
    """The measured figures (counts such as ``num_examples`` are not figures)."""
    return {
        k: float(v)
        for k, v in figures.items()
        if isinstance(v, (int, float, np.floating)) and k != "num_examples"
    }


def _evaluate(model, preset, max_examples=None, classifier=True) -> dict[str, float]:
    from zoo.evaluation import evaluate_model

    options = protocols.evaluation_options(preset)
    figures = _numeric(
        evaluate_model(
            model, preset.train, max_examples=max_examples, classifier=classifier, **options
        )
    )
    if "nll" in figures and "bits_per_dim" not in figures:
        from tfgen.metrics import nats_to_bits_per_dim

        figures["bits_per_dim"] = float(nats_to_bits_per_dim(figures["nll"], model.num_dims))
    return figures


def _command(name: str, budget_minutes: float | None, seeds: int | None) -> str:
    parts = ["python -m zoo.reproduce", name]
    if budget_minutes is not None:
        parts.append(f"--budget-minutes {budget_minutes:g}")
    if seeds is not None:
        parts.append(f"--seeds {seeds}")
    return " ".join(parts)


def train_and_record(
    name: str,
    budget_minutes: float | None = None,
    seeds: int | None = None,
    root: str = os.path.join("runs", "reproduce"),
) -> dict:
    """Trains ``name`` (``seeds`` runs, default the protocol's), evaluates, records, ships weights.

    Each seed trains in its work directory ``<root>/<name>/seed<s>``: a finished run there is
    evaluated as it is, a killed one resumed, so a reproduction continues where it stopped.
    Without ``budget_minutes`` every run trains the recipe's epochs to the end, whatever the
    recipe's wall-clock ``max_minutes`` (a record's figures must not depend on the CPU's load;
    the record states the time taken); a run such a budget stopped is trained again.

    Returns:
        The record written to ``zoo/results/<name>.json``.
    """
    from zoo.workdir import load_run_model, read_run

    preset = presets.get(name)
    count = seeds or protocols.seeds(preset)
    per_seed, runs, weights = [], [], None
    seed_list = [preset.train.seed + i for i in range(count)]  # the recipe's seed first
    for i, seed in enumerate(seed_list):
        workdir = os.path.join(root, name, f"seed{seed}")
        metrics = seed_run(name, workdir, seed if i else None, budget_minutes)
        model = load_run_model(workdir)
        start = time.perf_counter()
        per_seed.append(_evaluate(model, preset))
        runs.append({k: metrics[k] for k in ("epochs", "steps", "stopped_by", "train_seconds")})
        runs[-1]["evaluation_seconds"] = round(time.perf_counter() - start, 1)
        if i == 0:
            weights = _ship_weights(name, model)
            slice_figures = _evaluate(model, preset, max_examples=protocols.slice_size(preset))
    record = {
        "preset": name,
        "protocol": protocols.protocol_of(preset),
        "figures": records.summarize(per_seed),
        "per_seed": per_seed,
        "seeds": seed_list,
        "slice": {"num_examples": protocols.slice_size(preset), "figures": slice_figures},
        "recipe": dataclasses.asdict(preset.with_train(max_minutes=budget_minutes).train),
        "jit": read_run(os.path.join(root, name, f"seed{seed_list[0]}")).get("jit", "auto"),
        "training": {
            "budget_minutes": budget_minutes,
            "epochs": runs[0]["epochs"],
            "steps": runs[0]["steps"],
            "stopped_by": runs[0]["stopped_by"],
            "seconds": round(float(np.mean([r["train_seconds"] for r in runs])), 1),
            "evaluation_seconds": round(float(np.mean([r["evaluation_seconds"] for r in runs])), 1),
            "runs": runs,
        },
        "environment": records.environment(),
        "command": _command(name, budget_minutes, seeds),
        "weights": weights,
    }
    records.write_record(record)
    return record


def seed_run(
    name: str, workdir: str, seed: int | None = None, budget_minutes: float | None = None
) -> dict:
    """The ``metrics.json`` of ``name``'s run in ``workdir``: a finished run as it is, a killed
    one resumed, else a new one (``seed`` None: the recipe's). Without ``budget_minutes`` the
    recipe's epochs are trained to the end, and a run a time budget cut is trained again."""
    from zoo import train as runner
    from zoo.workdir import RUN_FILE

    stale = _stale_run(name, workdir, seed)
    if stale:  # a run of an earlier recipe is not this preset's: trained again from the start
        print(f"{name}: {workdir} holds a run of another recipe ({stale}); training again",
              file=sys.stderr)  # fmt: skip
        shutil.rmtree(workdir)
    metrics = _finished_run(workdir)
    if metrics and metrics["stopped_by"] == "budget" and not budget_minutes:
        # a run a wall-clock budget cut is not the recipe's (resuming it would count its
        # partial epoch as a whole one): trained again from the start
        print(f"{name}: {workdir} was cut by a time budget; training again", file=sys.stderr)
        shutil.rmtree(workdir)
        metrics = None
    if metrics is not None:
        return metrics
    resume = os.path.exists(os.path.join(workdir, RUN_FILE))  # the rest of a killed run
    options = {"seed": seed} if seed is not None and not resume else {}
    return runner.train(
        name,
        workdir,
        max_minutes=budget_minutes,
        no_budget=not budget_minutes,
        resume=resume,
        verbose=0,
        **options,
    )


def _stale_run(name: str, workdir: str, seed: int | None) -> str:
    """What differs between the run in ``workdir`` and ``name``'s recipe (its wall-clock budget
    aside) and XLA mode; empty when they agree or there is no run. The model's constructor
    arguments are not compared: a preset whose architecture changes needs its runs removed
    (loading its shipped weights then fails loudly, see ``zoo.pretrained``)."""
    from zoo.workdir import RUN_FILE, read_run, recipe_from_json

    if not os.path.exists(os.path.join(workdir, RUN_FILE)):
        return ""
    preset = presets.get(name)
    run = read_run(workdir)
    seed = preset.train.seed if seed is None else seed
    want = {**dataclasses.asdict(preset.with_train(seed=seed, max_minutes=None).train)}
    # fields a run older than them lacks take their defaults, as when its run is resumed
    have = dataclasses.asdict(recipe_from_json({**run["train"], "max_minutes": None}))
    want["jit"], have["jit"] = preset.jit, run.get("jit", "auto")
    return ", ".join(f"{k} {have[k]!r} != {v!r}" for k, v in want.items() if have[k] != v)


def _finished_run(workdir: str) -> dict | None:
    """The ``metrics.json`` of a run that ended (epochs or budget), else None."""
    import json

    from zoo.workdir import METRICS_FILE

    path = os.path.join(workdir, METRICS_FILE)
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        metrics = json.load(f)
    return metrics if "stopped_by" in metrics else None


def _ship_weights(name: str, model) -> dict:
    """Saves the model's weights (no optimizer state) as the preset's shipped weights."""
    from tfgen.checkpoints import atomic_path

    path = records.weights_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    weights_only = type(model).from_config(model.get_config())  # uncompiled: no optimizer
    weights_only.set_weights(model.get_weights())
    if not _same_weights_on_disk(weights_only, path):  # HDF5 files differ byte-wise per save
        with atomic_path(str(path)) as tmp:
            weights_only.save_weights(tmp)
    rel = os.path.relpath(path, records.RESULTS_DIR.parent.parent)
    return {"file": rel, "sha256": records.sha256(path), "bytes": path.stat().st_size}


def _same_weights_on_disk(model, path) -> bool:
    """Whether ``path`` already holds exactly ``model``'s weights (a re-evaluated record then
    keeps its file and checksum)."""
    if not path.is_file():
        return False
    on_disk = type(model).from_config(model.get_config())
    try:
        on_disk.load_weights(str(path))
    except (ValueError, OSError):
        return False
    pairs = zip(on_disk.get_weights(), model.get_weights(), strict=True)
    return all(a.shape == b.shape and np.array_equal(a, b) for a, b in pairs)


def check_shipped(name: str, full_test_set: bool = False) -> list[str]:
    """Re-measures a preset's recorded figures from its shipped weights.

    Args:
        name: a preset with a record and shipped weights.
        full_test_set: False compares the record's slice figures (the first
            ``record["slice"]["num_examples"]`` test images; what the tests do), except the
            figures of the tfgen classifier (``CLASSIFIER_FIGURES``), which depend on the
            classifier each machine trains on first use; True compares the full-test-set
            figures of seed 0.

    Returns:
        One line per figure that differs from the record by more than ``TOLERANCE`` (relative).
    """
    from zoo import pretrained

    record = records.read_record(name)
    on_slice = not full_test_set
    expected = record["slice"]["figures"] if on_slice else record["per_seed"][0]
    max_examples = record["slice"]["num_examples"] if on_slice else None
    model, preset = pretrained.load(name), presets.get(name)
    # the slice leaves out the classifier's figures: each machine trains its classifier once
    measured = _evaluate(model, preset, max_examples=max_examples, classifier=not on_slice)
    problems, compared = [], 0
    for key, want in expected.items():
        if on_slice and key in CLASSIFIER_FIGURES:
            continue
        compared += 1
        got = measured.get(key)
        if got is None or abs(got - want) > TOLERANCE * max(1.0, abs(want)):
            problems.append(f"{name}: {key} re-measured {got} vs recorded {want}")
    if not compared:  # a check that compares nothing cannot fail
        problems.append(f"{name}: its record has no figure this check compares")
    return problems


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m zoo.reproduce", description=__doc__.split("\n")[0])
    p.add_argument("presets", nargs="*", help="preset names (default: every preset)")
    p.add_argument("--budget-minutes", type=float, help="training budget per run (minutes)")
    p.add_argument("--seeds", type=int, help="training seeds (default: the protocol's)")
    p.add_argument("--root", default=os.path.join("runs", "reproduce"), help="work directories")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--evaluate-only",
        action="store_true",
        help="re-measure the shipped weights on the slice of the test set their record names",
    )
    p.add_argument(
        "--full-test-set",
        action="store_true",
        help="with --evaluate-only: re-measure on the whole test set (IWAE k=1000 takes long)",
    )
    mode.add_argument("--tables-only", action="store_true", help="regenerate RESULTS.md tables")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code (1 when ``--evaluate-only`` finds a difference)."""
    parser = _parser()
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow is imported after this
    for name in args.presets:
        if name not in presets.PRESETS:
            parser.error(f"unknown preset {name!r}; `tfgen list` shows them")
    if args.seeds is not None and args.seeds < 1:
        parser.error(f"--seeds must be a positive int; got {args.seeds}")
    status = 0
    if args.evaluate_only:
        from zoo import pretrained

        names = args.presets or pretrained.shipped()
        for name in names:
            start = time.perf_counter()
            problems = check_shipped(name, full_test_set=args.full_test_set)
            took = time.perf_counter() - start
            print(f"{name}: {'OK' if not problems else 'DIFFERS'} ({took:.0f} s)")
            for line in problems:
                print("  " + line, file=sys.stderr)
            status |= bool(problems)
    elif not args.tables_only:
        for name in args.presets or presets.list_presets():
            record = train_and_record(name, args.budget_minutes, args.seeds, args.root)
            print(f"{name}: {protocols.headline(record)}")
    changed = tables.write_tables()
    print(f"{tables.RESULTS_MD.name} and README tables: {'updated' if changed else 'unchanged'}")
    return status


if __name__ == "__main__":
    sys.exit(main())
