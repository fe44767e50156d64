"""The XLA benchmark: both modes train the same preset, and XLA is what the model compiles with."""

import pytest

import zoo
from zoo.bench import xla


@pytest.mark.slow
def test_both_modes_train_the_preset_and_report_their_speed():
    name = "nade_fast_binarized_fashion_mnist"  # 10 steps per call
    rows = xla.run([name], 2, 1, dataset="digits")
    assert [r["jit"] for r in rows] == ["off", "on"]
    assert [r["steps"] for r in rows] == [zoo.get(name).train.steps_per_execution] * 2  # whole
    for row in rows:
        assert row["step_ms"] > 0 and row["images_per_s"] > 0 and row["first_s"] > 0
    assert rows[1]["speedup"] == pytest.approx(rows[0]["step_ms"] / rows[1]["step_ms"], rel=0.02)
    assert "speedup" not in rows[0] and "seconds" not in rows[1]


@pytest.mark.parametrize("jit, compiled", [("off", False), ("on", True)])
def test_a_preset_compiles_with_its_jit_mode(jit, compiled):
    preset = zoo.get("gated_pixelcnn_small_binarized_fashion_mnist")
    assert preset.jit == "on"  # the benchmark's finding, recorded in zoo/RESULTS.md
    model = zoo.build(preset.with_train(dataset="digits"), jit=jit, event_shape=(8, 8, 1))
    assert model.jit_compile is compiled
    assert zoo.build(preset.with_train(dataset="digits"), event_shape=(8, 8, 1)).jit_compile


def test_presets_name_the_jit_modes_tfgen_knows_and_refuse_others():
    import dataclasses

    from tfgen import distribute
    from zoo.presets import core

    assert core.JIT_MODES == distribute.JIT_MODES
    typo = dataclasses.replace(zoo.get("vae_fast_fashion_mnist"), name="typo", jit="yes")
    with pytest.raises(
        ValueError, match=r"^jit must be one of \['auto', 'on', 'off'\]; got 'yes'$"
    ):
        core.register(typo)
    assert "typo" not in zoo.list_presets()


def test_unknown_presets_are_refused_in_one_line(capsys):
    with pytest.raises(SystemExit):
        xla.main(["--presets", "no_such_preset"])
    assert "argument --presets: invalid choice: 'no_such_preset'" in capsys.readouterr().err


def test_bad_step_counts_are_refused_in_one_line(capsys):
    with pytest.raises(SystemExit):
        xla.main(["--steps", "0"])
    assert "--steps must be a positive number of steps, got 0" in capsys.readouterr().err
