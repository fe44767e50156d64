"""Detection metrics against scikit-learn, the out-of-distribution sets, and `tfgen score`."""

import os

import numpy as np
import pytest
from sklearn import metrics as skm

from tfgen import data, metrics, ood_data


@pytest.mark.parametrize("seed", range(5))
def test_detection_metrics_match_scikit_learn_on_random_scores(seed):
    rng = np.random.default_rng(seed)
    for _ in range(40):
        n, m = rng.integers(1, 60, size=2)
        rounding = int(rng.integers(0, 3))  # coarse scores give ties
        a = np.round(rng.normal(size=n), rounding)
        b = np.round(rng.normal(0.7, 1.3, size=m), rounding)
        y, s = np.r_[np.zeros(n), np.ones(m)], np.r_[a, b]
        assert metrics.auroc(a, b) == pytest.approx(skm.roc_auc_score(y, s), abs=1e-12)
        assert metrics.auprc(a, b) == pytest.approx(skm.average_precision_score(y, s), abs=1e-12)
        fpr, tpr, _ = skm.roc_curve(y, s, drop_intermediate=False)
        expected = fpr[np.searchsorted(tpr, 0.95 - 1e-12, side="left")]
        assert metrics.fpr_at_tpr(a, b, 0.95) == pytest.approx(expected, abs=1e-12)


def test_detection_metrics_closed_forms_and_errors():
    assert metrics.auroc([0, 1], [2, 3]) == 1.0 and metrics.auroc([2, 3], [0, 1]) == 0.0
    assert metrics.auroc([1, 1], [1, 1]) == 0.5  # all tied: chance
    assert metrics.fpr_at_tpr([0, 1, 2, 3], [1.5, 2.5, 3.5], tpr=1.0) == 0.5
    with pytest.raises(ValueError, match="^out_scores must be a non-empty array"):
        metrics.auroc([1.0], [])
    with pytest.raises(ValueError, match="^in_scores must be a non-empty array of finite"):
        metrics.auprc([np.nan], [1.0])
    with pytest.raises(ValueError, match=r"^tpr must be a number in \(0, 1\]"):
        metrics.fpr_at_tpr([0.0], [1.0], tpr=0.0)


def test_digits_28_are_the_bundled_digits_centred_in_a_20_pixel_box():
    x = ood_data.digits_28()
    assert x.shape == (1797, 28, 28, 1) and x.dtype == np.uint8
    assert x[:, :4].max() == 0 and x[:, 24:].max() == 0 and x[:, :, :4].max() == 0
    small, _ = data.load_arrays("digits", "train")
    same = ood_data.digits_28(size=8, box=8)[: len(small)]
    np.testing.assert_array_equal(same, small)  # box 8: the images themselves
    with pytest.raises(ValueError, match="^box must be an int <= size"):
        ood_data.digits_28(size=8, box=20)


def test_corruptions():
    x, _ = data.load_arrays("digits", "test")
    np.testing.assert_array_equal(ood_data.corrupt(x, "inverted"), 255 - x)
    np.testing.assert_array_equal(
        ood_data.corrupt(x, "rotated")[:, :, :, 0], np.rot90(x[..., 0], 1, (1, 2))
    )
    constant = ood_data.corrupt(x, "constant", seed=1).reshape(len(x), -1)
    assert np.all(constant == constant[:, :1]) and len(np.unique(constant[:, 0])) > 50
    noisy = ood_data.corrupt(x, "noise", seed=2, noise_rate=0.3)
    assert 0.2 < np.mean(noisy != x) < 0.3  # 30% replaced, 1/256 of those by the same level
    point = np.zeros([1, 9, 9, 1], np.uint8)
    point[0, 4, 4] = 243  # two 3x3 box blurs: a 5x5 tent, (1, 2, 3, 2, 1)^2 / 81
    blurred = ood_data.corrupt(point, "blurred")[0, :, :, 0].astype(int)
    tent = np.outer([1, 2, 3, 2, 1], [1, 2, 3, 2, 1]) * 3
    np.testing.assert_array_equal(blurred[2:7, 2:7], tent)
    assert blurred.sum() == 243
    with pytest.raises(ValueError, match="^kind must be one of"):
        ood_data.corrupt(x, "jpeg")
    with pytest.raises(ValueError, match="^x must be uint8 images"):
        ood_data.corrupt(x / 255.0, "inverted")


def test_held_out_class_and_model_input_protocols():
    kept, labels, novel = ood_data.held_out_class("digits", "train", held_out=3)
    x, y = data.load_arrays("digits", "train")
    assert len(kept) == np.sum(y != 3) and np.all(labels != 3) and len(novel) == np.sum(y == 3)
    with pytest.raises(ValueError, match="^held_out must be a class id < 10"):
        ood_data.held_out_class("digits", "train", held_out=10)
    # the dynamic protocol gives exactly tfgen.data's fixed test binarization
    x_test, _ = data.load_arrays("digits", "test")
    loaded = np.concatenate(list(data.load("digits", "test", batch_size=100, binarize="dynamic")))
    np.testing.assert_array_equal(ood_data.to_model_input(x_test, "dynamic", seed=0), loaded)
    grey = ood_data.to_model_input(x_test, None)
    np.testing.assert_allclose(grey * 255, x_test, atol=1e-4)


@pytest.mark.slow
def test_cli_score_prints_the_auroc_table_and_writes_the_histogram(tmp_path, capsys):
    from zoo import cli
    from zoo import train as runner

    work = str(tmp_path / "nade")
    runner.train("nade_fast_binarized_fashion_mnist", work, dataset="digits", epochs=1,
                 verbose=0)  # fmt: skip
    png = str(tmp_path / "scores.png")
    args = ["score", work, "--in", "digits:test", "--out-of-distribution", "inverted",
            "constant", "--method", "nll", "complexity", "likelihood_ratio", "typicality",
            "--background", os.path.join(work, "model.keras"), "--max-examples", "120",
            "--group-size", "4", "--histogram", png, "--all-metrics"]  # fmt: skip
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "| method | inverted | constant |" in out and "| typicality |" in out
    assert "fpr_at_95_tpr" in out
    row = next(line for line in out.splitlines() if line.startswith("| likelihood_ratio |"))
    assert [float(v) for v in row.strip("| ").split("|")[1:]] == [0.5, 0.5]  # same model
    with open(png, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert cli.main(["score", work, "--method", "likelihood_ratio"]) == 2
    assert "needs --background" in capsys.readouterr().err
    assert cli.main(["score", work, "--in", "digits:test", "--out-of-distribution", "svhn"]) == 2
    assert "out-of-distribution set must be one of" in capsys.readouterr().err


def test_shipped_nade_meets_the_complexity_target_on_digits(tmp_path, capsys):
    """The course's paradox and its correction, on the shipped NADE: digits are more likely than
    garments (raw-NLL AUROC below 0.5), the complexity score separates them (AUROC >= 0.95)."""
    from zoo import cli, pretrained

    name = "nade_fast_binarized_fashion_mnist"
    if name not in pretrained.shipped():
        pytest.skip(f"{name} ships no trained weights")
    png = str(tmp_path / "scores.png")
    args = ["score", name, "--max-examples", "500", "--histogram", png]
    assert cli.main(args) == 0
    rows = {
        line.split("|")[1].strip(): float(line.split("|")[2])
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("| nll |") or line.startswith("| complexity |")
    }
    assert rows["nll"] < 0.5 and rows["complexity"] >= 0.95
