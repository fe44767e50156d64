"""Result records, generated tables, shipped weights and ``python -m zoo.reproduce``."""

import dataclasses
import json
import pathlib

import numpy as np
import pytest

import zoo
from zoo import pretrained, protocols, records, reproduce, tables

ROOT = pathlib.Path(__file__).resolve().parent.parent
RECORDS = records.all_records()


def test_results_md_tables_are_the_records():
    _, generated, _ = tables.split_results_md(tables.RESULTS_MD.read_text())
    assert generated == tables.generated_tables(), "run `python -m zoo.reproduce --tables-only`"


def test_every_preset_has_a_protocol():
    names = {protocols.protocol_of(zoo.get(n)) for n in zoo.list_presets()}
    assert names <= set(protocols.PROTOCOLS)
    assert protocols.protocol_of(zoo.get("vae_tutorial_fashion_mnist")) == "binary_static"
    assert protocols.protocol_of(zoo.get("pixelcnn_small_8bit_fashion_mnist")) == "8bit"
    assert protocols.seeds(zoo.get("dcgan_small_fashion_mnist")) == protocols.GAN_SEEDS
    assert protocols.slice_size(zoo.get("cvae_small_fashion_mnist")) == protocols.LATENT_SLICE
    assert protocols.slice_size(zoo.get("dcgan_small_fashion_mnist")) == protocols.SLICE


def test_summarize_is_mean_and_sample_std():
    runs = [{"fcd": 1.0, "score": 2.0}, {"fcd": 2.0}, {"fcd": 6.0}]
    assert records.summarize(runs) == {
        "fcd": {"mean": 3.0, "std": round(np.std([1, 2, 6], ddof=1), 4)}
    }


@pytest.mark.parametrize("name", sorted(RECORDS) or ["(none)"])
def test_record_is_consistent(name):
    if name == "(none)":
        pytest.skip("no result records in zoo/results yet")
    record = RECORDS[name]
    preset = zoo.get(name)
    assert record["protocol"] == protocols.protocol_of(preset)
    figures = {k: v["mean"] for k, v in record["figures"].items()}
    assert {k: preset.results[k] for k in figures} == figures  # presets quote their record
    recipe = json.loads(json.dumps(dataclasses.asdict(preset.train)))
    # the recipe the record was trained with is the preset's (its wall-clock budget aside)
    assert {**record["recipe"], "max_minutes": None} == {**recipe, "max_minutes": None}
    assert record.get("jit", "auto") == preset.jit  # records older than the field: "auto"
    weights = record["weights"]
    path = ROOT / weights["file"]
    assert path.stat().st_size == weights["bytes"] and records.sha256(path) == weights["sha256"]
    readme_row = [
        line
        for line in (ROOT / "README.md").read_text().splitlines()
        if line.startswith(f"| `{name}` |")
    ]
    assert readme_row and readme_row[0].endswith(f"| {tables.readme_cell(record)} |")


def test_readme_recorded_cells_are_the_records():
    text = tables.README.read_text()
    assert text == tables.readme_with_records(text), "run `python -m zoo.reproduce --tables-only`"
    fake = {"independent_bernoulli_binarized_fashion_mnist": {
        **RECORDS.get("independent_bernoulli_binarized_fashion_mnist", {}),
        "preset": "independent_bernoulli_binarized_fashion_mnist", "protocol": "binary",
        "training": {"seconds": 60, "epochs": 1}, "figures": {"nll": {"mean": 1.0, "std": 0}},
    }}  # fmt: skip
    changed = tables.readme_with_records(text, fake)
    assert changed != text and "**1.00** (1 epoch, 1.0 min;" in changed


def test_a_record_trained_with_xla_says_so():
    record = {"preset": "p", "protocol": "binary", "training": {"seconds": 90, "epochs": 3},
              "figures": {"nll": {"mean": 240.0, "std": 0.0}}}  # fmt: skip
    assert "(3 epochs, 1.5 min; record" in tables.readme_cell(record)
    assert "(3 epochs, 1.5 min with XLA; record" in tables.readme_cell({**record, "jit": "on"})


@pytest.mark.slow
@pytest.mark.parametrize("name", pretrained.shipped() or ["(none)"])
def test_shipped_weights_reproduce_their_slice(name):
    if name == "(none)":
        pytest.skip("no shipped weights yet")
    assert reproduce.check_shipped(name) == []


def test_pretrained_without_weights_is_one_line():
    missing = [n for n in zoo.list_presets() if n not in pretrained.shipped()]
    if not missing:
        pytest.skip("every preset ships weights")
    with pytest.raises(pretrained.WeightsNotShippedError, match=r"zoo\.reproduce .*shipped"):
        pretrained.load(missing[0])


@pytest.mark.slow
def test_reproduce_trains_records_and_reloads(tmp_path, monkeypatch):
    monkeypatch.setattr(records, "RESULTS_DIR", tmp_path / "results")
    monkeypatch.setattr(records, "WEIGHTS_DIR", tmp_path / "weights")
    name = "independent_bernoulli_binarized_fashion_mnist"
    record = reproduce.train_and_record(name, budget_minutes=0.2, root=str(tmp_path / "runs"))
    on_disk = json.loads((tmp_path / "results" / f"{name}.json").read_text())
    assert on_disk == json.loads(json.dumps(record))
    assert record["protocol"] == "binary" and record["seeds"] == [zoo.get(name).train.seed]
    nll = record["figures"]["nll"]["mean"]
    assert 150.0 < nll < 700.0 and record["figures"]["nll"]["std"] == 0.0
    assert record["figures"]["bits_per_dim"]["mean"] == pytest.approx(nll / (784 * np.log(2)), 1e-3)
    assert records.sha256(records.weights_path(name)) == record["weights"]["sha256"]
    assert reproduce.check_shipped(name) == []
    # a damaged weight file is refused, not silently loaded
    path = records.weights_path(name)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="does not match its record"):
        pretrained.load(name)
    row = [r for r in tables.generated_tables().splitlines() if f"`{name}`" in r]
    assert row and f"{nll:.2f}" in row[0]


@pytest.mark.slow
def test_reproduce_completes_a_run_a_wall_clock_budget_cut(tmp_path, monkeypatch):
    from zoo import train as runner

    monkeypatch.setattr(records, "RESULTS_DIR", tmp_path / "results")
    monkeypatch.setattr(records, "WEIGHTS_DIR", tmp_path / "weights")
    name = "independent_bernoulli_binarized_fashion_mnist"
    workdir = tmp_path / "runs" / name / "seed0"
    cut = runner.train(name, str(workdir), max_minutes=1e-6, verbose=0)
    assert (cut["stopped_by"], cut["steps"]) == ("budget", 1)
    record = reproduce.train_and_record(name, root=str(tmp_path / "runs"))
    training, epochs = record["training"], zoo.get(name).train.epochs
    assert (training["stopped_by"], training["epochs"]) == ("epochs", epochs)
    assert training["steps"] == epochs * zoo.presets.steps_per_epoch(zoo.get(name).train)
    assert record["recipe"]["max_minutes"] is None and training["evaluation_seconds"] > 0


def test_a_run_of_another_recipe_is_named_stale(tmp_path):
    from zoo.workdir import write_run

    name = "gated_pixelcnn_small_binarized_fashion_mnist"
    preset = zoo.get(name)
    assert reproduce._stale_run(name, str(tmp_path), None) == ""  # no run there
    recipe = dataclasses.asdict(preset.with_train(max_minutes=None).train)
    write_run(str(tmp_path), {"preset": name, "train": recipe, "jit": preset.jit})
    assert reproduce._stale_run(name, str(tmp_path), None) == ""
    assert reproduce._stale_run(name, str(tmp_path), 1) == "seed 0 != 1"  # a later seed's dir
    write_run(str(tmp_path), {"preset": name, "train": {**recipe, "epochs": 1}, "jit": "auto"})
    assert reproduce._stale_run(name, str(tmp_path), None) == "epochs 1 != 3, jit 'auto' != 'on'"
    write_run(str(tmp_path), {"preset": name, "train": {**recipe, "max_minutes": 5.0}, "jit": "on"})
    assert reproduce._stale_run(name, str(tmp_path), None) == ""  # a budget is not the recipe


def test_cli_samples_and_evaluates_a_shipped_preset(tmp_path, capsys):
    from zoo import cli

    samplers = [n for n in pretrained.shipped() if not zoo.get(n).model_class.endswith("encoder")]
    if not samplers:
        pytest.skip("no shipped weights of a model that samples yet")
    name, out = samplers[0], tmp_path / "grid.png"
    assert cli.main(["sample", name, "--num-samples", "4", "--out", str(out)]) == 0
    assert out.stat().st_size > 0
    on_slice = RECORDS[name]["slice"]  # the record's slice of the test set
    assert cli.main(["evaluate", name, "--max-examples", str(on_slice["num_examples"])]) == 0
    printed = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    expected = on_slice["figures"]
    assert printed["loss"] == pytest.approx(expected["loss"], rel=reproduce.TOLERANCE)


def test_cli_refuses_a_preset_without_weights_in_one_line(capsys):
    from zoo import cli

    missing = [n for n in zoo.list_presets() if n not in pretrained.shipped()]
    if not missing:
        pytest.skip("every preset ships weights")
    assert cli.main(["evaluate", missing[0]]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "zoo.reproduce" in err
