"""Result records: one JSON file per preset under ``zoo/results/``, written by ``zoo.reproduce``.

A record holds everything a reader needs to trust a figure: the figures themselves (mean and
standard deviation over seeds where there are several), the protocol they follow, the recipe,
training time and steps, package versions, the CPU, the command that made them and the
checksum of the shipped weights. The tables of ``zoo/RESULTS.md`` and the presets' ``results``
are generated from these files (:mod:`zoo.tables`), never typed by hand.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import platform
import statistics
from typing import Any

RESULTS_DIR = pathlib.Path(__file__).parent / "results"
WEIGHTS_DIR = pathlib.Path(__file__).parent / "weights"


def record_path(name: str) -> pathlib.Path:
    """Path of a preset's record (``zoo/results/<name>.json``)."""
    return RESULTS_DIR / f"{name}.json"


def weights_path(name: str) -> pathlib.Path:
    """Path of a preset's shipped weights (``zoo/weights/<name>.weights.h5``)."""
    return WEIGHTS_DIR / f"{name}.weights.h5"


def read_record(name: str) -> dict[str, Any] | None:
    """A preset's record, or None when it has none.

    Example:
        >>> from zoo.records import read_record
        >>> read_record("no_such_preset") is None
        True
    """
    path = record_path(name)
    if not path.is_file():
        return None
    with open(path) as f:
        return json.load(f)


def all_records() -> dict[str, dict[str, Any]]:
    """Every record in ``zoo/results/``, by preset name (sorted)."""
    if not RESULTS_DIR.is_dir():
        return {}
    return {p.stem: read_record(p.stem) for p in sorted(RESULTS_DIR.glob("*.json"))}


def write_record(record: dict[str, Any]) -> pathlib.Path:
    """Writes ``record`` (atomically, keys sorted) as ``zoo/results/<record["preset"]>.json``."""
    from tfgen.checkpoints import write_json  # imports Keras: only when writing

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = record_path(record["preset"])
    write_json(str(path), record)
    return path


def sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file (the shipped weights' checksum)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def summarize(per_seed: list[dict[str, float]], ndigits: int = 4) -> dict[str, dict[str, float]]:
    """``{figure: {"mean", "std"}}`` over the runs of several seeds (std 0.0 for one run).

    Only keys every run reports are summarized; ``std`` is the sample standard deviation.

    Example:
        >>> from zoo.records import summarize
        >>> summarize([{"fcd": 10.0}, {"fcd": 12.0}, {"fcd": 14.0}])
        {'fcd': {'mean': 12.0, 'std': 2.0}}
    """
    keys = [k for k in per_seed[0] if all(k in run for run in per_seed)]
    out = {}
    for k in keys:
        values = [float(run[k]) for run in per_seed]
        std = statistics.stdev(values) if len(values) > 1 else 0.0
        out[k] = {"mean": round(statistics.fmean(values), ndigits), "std": round(std, ndigits)}
    return out


def environment() -> dict[str, Any]:
    """Package versions, Python, the CPU model of this machine and its load average when the
    record is written (1, 5 and 15 minutes: other jobs sharing the CPU slow the recorded
    training time, not the figures).

    Example:
        >>> from zoo.records import environment
        >>> sorted(environment())[:3]
        ['cpu', 'cpu_count', 'keras']
    """
    import keras
    import numpy as np
    import tensorflow as tf
    import tensorflow_probability as tfp

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "load_average": [round(v, 2) for v in os.getloadavg()],
        "keras": keras.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "tensorflow_probability": tfp.__version__,
    }


__all__ = [
    "RESULTS_DIR",
    "WEIGHTS_DIR",
    "all_records",
    "environment",
    "read_record",
    "record_path",
    "sha256",
    "summarize",
    "weights_path",
    "write_record",
]
