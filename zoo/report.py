"""What a person looks at after a run: ``curves.png`` and ``tfgen report WORKDIR``.

``write_curves`` plots every loss and metric of ``history.csv`` per epoch (training solid,
validation dashed, one panel per quantity); ``zoo.train`` calls it after every epoch.
``write_report`` writes one self-contained HTML page (images embedded): the curves, the last
sample grid, the recipe and the test figures.
"""

from __future__ import annotations

import base64
import csv
import glob
import html
import json
import math
import os

from tfgen.checkpoints import atomic_path
from zoo.workdir import HISTORY_FILE, METRICS_FILE, WorkdirError, read_run

CURVES_FILE, REPORT_FILE = "curves.png", "report.html"


def _history(workdir: str) -> dict[str, list[tuple[int, float]]]:
    """``{quantity: [(epoch, value), ...]}`` of ``history.csv`` (empty without one)."""
    path = os.path.join(workdir, HISTORY_FILE)
    if not os.path.isfile(path):
        return {}
    series: dict[str, list[tuple[int, float]]] = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            epoch = int(float(row["epoch"])) + 1
            for key, text in row.items():
                if key in ("epoch", "steps") or text in ("", None):
                    continue
                series.setdefault(key, []).append((epoch, float(text)))
    return series


def write_curves(workdir: str) -> str | None:
    """Plots ``history.csv`` as ``curves.png`` in ``workdir``; None when nothing was trained yet.

    Example:
        >>> import tempfile
        >>> from zoo.report import write_curves
        >>> work = tempfile.mkdtemp()
        >>> with open(os.path.join(work, "history.csv"), "w") as f:
        ...     _ = f.write("epoch,steps,loss,val_loss\\n0,10,3.0,3.5\\n1,20,2.0,2.6\\n")
        >>> os.path.basename(write_curves(work)), os.path.getsize(write_curves(work)) > 0
        ('curves.png', True)
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    series = _history(workdir)
    names = sorted(k for k in series if not k.startswith("val_"))
    names += sorted(k[4:] for k in series if k.startswith("val_") and k[4:] not in names)
    if not names:
        return None
    cols = min(3, len(names))
    rows = math.ceil(len(names) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        for key, style, label in ((name, "-o", "train"), (f"val_{name}", "--s", "validation")):
            if key in series:
                epochs, values = zip(*series[key], strict=True)
                ax.plot(epochs, values, style, label=label, markersize=3)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    fig.tight_layout()
    path = os.path.join(workdir, CURVES_FILE)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=80)
    plt.close(fig)
    return path


def _embedded_png(path: str, alt: str) -> str:
    with open(path, "rb") as f:
        data = base64.b64encode(f.read()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _table(rows: dict) -> str:
    cells = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in rows.items()
    )
    return f"<table>{cells}</table>"


def write_report(workdir: str, out: str | None = None) -> str:
    """One HTML page of a run: curves, last sample grid, recipe, test figures (images inline).

    Args:
        workdir: a work directory written by ``tfgen train``.
        out: the HTML path (default ``WORKDIR/report.html``).

    Returns:
        The path written.

    Raises:
        WorkdirError: ``workdir`` holds no run.
    """
    run = read_run(workdir)
    curves = write_curves(workdir)
    grids = sorted(glob.glob(os.path.join(workdir, "samples", "*.png")))
    metrics_path = os.path.join(workdir, METRICS_FILE)
    metrics = {}
    if os.path.isfile(metrics_path):
        with open(metrics_path) as f:
            metrics = json.load(f)
    figures = {f"test {k}": v for k, v in metrics.get("test", {}).items()}
    figures.update({k: metrics[k] for k in ("epochs", "steps", "stopped_by") if k in metrics})
    figures.update({f"evaluate {k}": v for k, v in metrics.get("evaluate", {}).items()})
    parts = [
        f"<h1>{html.escape(run['preset'])}</h1>",
        f"<p>work directory <code>{html.escape(os.path.abspath(workdir))}</code></p>",
        "<h2>Test figures</h2>",
        _table(figures) if figures else "<p>no finished epoch yet</p>",
        "<h2>Curves</h2>",
        _embedded_png(curves, "curves") if curves else "<p>no history yet</p>",
    ]
    if grids:
        name = os.path.basename(grids[-1])
        parts += [f"<h2>Samples ({html.escape(name)})</h2>", _embedded_png(grids[-1], name)]
    parts += ["<h2>Recipe</h2>", _table(run["train"])]
    page = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>tfgen report</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:auto}"
        "th{text-align:left;padding-right:1em}</style></head><body>"
        + "\n".join(parts)
        + "</body></html>\n"
    )
    out = out or os.path.join(workdir, REPORT_FILE)
    with atomic_path(out) as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.write(page)
    return out


__all__ = ["CURVES_FILE", "REPORT_FILE", "WorkdirError", "write_curves", "write_report"]
