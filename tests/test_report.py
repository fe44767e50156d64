"""Run reports: curves.png from history.csv and the one-page HTML report (zoo.report)."""

import base64
import io
import json
import re

import numpy as np
from PIL import Image

from zoo import cli, report


def make_run(work, epochs=3):
    work.mkdir()
    (work / "run.json").write_text(json.dumps({"preset": "demo", "train": {"batch_size": 8}}))
    rows = ["epoch,steps,loss,kl,val_loss,val_kl"]
    rows += [f"{e},{10 * (e + 1)},{3 - e},{0.5 + e},{3.5 - e},{0.6 + e}" for e in range(epochs)]
    (work / "history.csv").write_text("\n".join(rows) + "\n")
    (work / "metrics.json").write_text(json.dumps({"test": {"loss": 1.5}, "epochs": epochs}))
    (work / "samples").mkdir()
    Image.fromarray(np.full((6, 6), 200, np.uint8)).save(work / "samples" / "samples_001.png")


def test_curves_have_one_panel_per_quantity(tmp_path):
    make_run(tmp_path / "run")
    path = report.write_curves(str(tmp_path / "run"))
    image = np.asarray(Image.open(path).convert("L"))
    assert image.shape[1] > image.shape[0] > 100  # two panels side by side: loss and kl
    assert (image < 128).mean() > 0.01  # something is drawn


def test_curves_need_a_history(tmp_path):
    (tmp_path / "run").mkdir()
    assert report.write_curves(str(tmp_path / "run")) is None


def test_report_embeds_curves_samples_recipe_and_figures(tmp_path, capsys):
    make_run(tmp_path / "run")
    assert cli.main(["report", str(tmp_path / "run"), "--out", str(tmp_path / "r.html")]) == 0
    page = (tmp_path / "r.html").read_text()
    assert "<h1>demo</h1>" in page and "test loss" in page and "batch_size" in page
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 2  # curves and the last sample grid
    grid = Image.open(io.BytesIO(base64.b64decode(images[1])))
    assert grid.size == (6, 6)
    assert cli.main(["report", str(tmp_path / "missing")]) == 2
