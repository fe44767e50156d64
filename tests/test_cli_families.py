"""`tfgen evaluate` and `tfgen sample` for every family: each reports its own figures, options
that do not apply are refused before any work, conditional models sample any count and labels."""

import json
import os

import numpy as np
import pytest
from PIL import Image

import zoo
from zoo import cli
from zoo import train as runner

# Untrained models are saved before their optimizer is built; Keras says so when loading them.
pytestmark = pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")


def fake_run(tmp_path, preset):
    """A work directory with a run.json and no model: anything that loads a model would fail."""
    work = tmp_path / preset
    work.mkdir()
    recipe = zoo.get(preset).with_train(dataset="digits").train
    (work / "run.json").write_text(
        json.dumps({"preset": preset, "train": {**recipe.__dict__, "scale": list(recipe.scale)}})
    )
    return str(work)


@pytest.mark.parametrize(
    "preset",
    ["nade_fast_binarized_fashion_mnist", "dcgan_small_fashion_mnist", "aae_mog_fashion_mnist"],
)
def test_importance_samples_refused_before_any_work(tmp_path, capsys, preset):
    work = fake_run(tmp_path, preset)
    assert cli.main(["evaluate", work, "--importance-samples", "5"]) == 2
    err = capsys.readouterr().err
    assert "--importance-samples applies to latent models" in err and len(err.splitlines()) == 1
    assert cli.main(["evaluate", work]) == 2  # without it the model is needed
    assert "has no model.keras yet" in capsys.readouterr().err


def test_labels_refused_for_unconditional_and_out_of_range(tmp_path, capsys):
    work = fake_run(tmp_path, "vae_tutorial_mnist")
    assert cli.main(["sample", work, "--labels", "1,2", "--out", str(tmp_path / "a.png")]) == 2
    assert "labels apply to conditional models" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli._parser().parse_args(["sample", work, "--labels", "a", "--out", "x.png"])


def untrained_run(tmp_path, preset):
    """A work directory holding the preset's freshly built model (evaluation needs no training)."""
    work = fake_run(tmp_path, preset)
    model = zoo.build(zoo.get(preset).with_train(dataset="digits"), event_shape=(8, 8, 1))
    model.save(os.path.join(work, "model.keras"))
    return work


@pytest.mark.slow
def test_exact_density_reports_nll(tmp_path):
    work = untrained_run(tmp_path, "independent_bernoulli_binarized_fashion_mnist")
    result = runner.evaluate(work, max_examples=100)
    assert result["num_examples"] == 100 and result["nll"] > 0
    assert result["bits_per_dim"] == pytest.approx(result["nll"] / (64 * np.log(2)), rel=1e-4)


@pytest.mark.slow
def test_gan_reports_fcd_and_classifier_score(tmp_path, monkeypatch):
    monkeypatch.setenv("TFGEN_CACHE_DIR", str(tmp_path / "cache"))
    work = untrained_run(tmp_path, "dcgan_small_fashion_mnist")
    result = runner.evaluate(work, max_examples=200)
    assert result["fcd"] > 0 and 1.0 <= result["classifier_score"] <= 10.0
    assert result["num_examples"] == 200
    saved = json.load(open(os.path.join(work, "metrics.json")))["evaluate"]
    assert saved["fcd"] == result["fcd"]


@pytest.mark.slow
def test_aae_reports_prior_match(tmp_path):
    work = untrained_run(tmp_path, "aae_mog_fashion_mnist")
    result = runner.evaluate(work)
    assert np.isfinite(result["prior_mmd"]) and 0.0 <= result["prior_in_hdr95"] <= 1.0


@pytest.mark.slow
def test_conditional_sample_any_count_and_labels(tmp_path):
    work = untrained_run(tmp_path, "cvae_small_fashion_mnist")
    png = str(tmp_path / "grid.png")
    runner.sample(work, 10, png, labels=[3])
    assert Image.open(png).size[0] > 0
    runner.sample(work, 7, png)  # classes in turn, not a multiple of 10
    with pytest.raises(ValueError, match=r"labels must be in \[0, 10\); got \[12\]"):
        runner.sample(work, 4, png, labels=[12])
    result = runner.evaluate(work, importance_samples=4, max_examples=50)
    assert result["iwae_nll_k4"] <= -result["elbo"] + 1.0  # IWAE bound above the ELBO


@pytest.mark.slow
def test_conditional_gated_pixelcnn_samples_16_with_labels(tmp_path, capsys):
    work = untrained_run(tmp_path, "gated_pixelcnn_conditional_binarized_fashion_mnist")
    png = str(tmp_path / "grid.png")
    assert cli.main(["sample", work, "--num-samples", "16", "--labels", "1,2", "--out", png]) == 0
    assert capsys.readouterr().out.strip() == png and Image.open(png).size[0] > 0


@pytest.mark.slow
def test_autoencoder_trains_evaluates_and_refuses_to_sample(tmp_path, capsys):
    work = str(tmp_path / "ae")
    args = ["train", "autoencoder_conv_fashion_mnist", "--dataset", "digits", "--epochs", "1"]
    assert cli.main([*args, "--batch-size", "128", "--workdir", work]) == 0
    assert not os.path.exists(os.path.join(work, "samples"))  # autoencoders draw no grids
    assert '"stopped_by": "epochs"' in capsys.readouterr().out
    assert cli.main(["evaluate", work, "--max-examples", "50"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["num_examples"] == 50 and np.isfinite(result["reconstruction"])
    assert cli.main(["sample", work, "--out", str(tmp_path / "a.png")]) == 2
    assert "does not sample" in capsys.readouterr().err
