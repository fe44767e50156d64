"""Presets (names, the tutorial's exact recipe, build() and its errors, recorded results) and the
``zoo.bench`` scripts (importable without side effects, each with a ``main``)."""

import dataclasses
import importlib
import importlib.util
import os
import pkgutil
import re
import subprocess
import sys

import keras
import numpy as np
import pytest

import zoo
import zoo.bench
from tfgen.models import VAE
from zoo import records

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS_MD = open(os.path.join(ROOT, "zoo", "RESULTS.md"), encoding="utf-8").read()
BENCH_MODULES = sorted(m.name for m in pkgutil.iter_modules(zoo.bench.__path__))
BENCH_HELPERS = {"common", "anomaly_models"}  # shared by the scripts; not scripts themselves


def test_presets_listed_and_named_by_convention():
    names = zoo.list_presets()
    assert {"vae_tutorial_mnist", "vae_tutorial_fashion_mnist", "vae_fast_fashion_mnist"} <= set(
        names
    )
    for name in names:
        preset = zoo.get(name)
        assert name.endswith(preset.train.dataset) and preset.description


@pytest.mark.parametrize("name", ["vae_tutorial_mnist", "vae_tutorial_fashion_mnist"])
def test_tutorial_presets_are_the_exact_tutorial_recipe(name):
    preset = zoo.get(name)
    assert preset.model["latent_dim"] == 2 and preset.model["likelihood"] == "bernoulli"
    t = preset.train
    assert (t.batch_size, t.learning_rate, t.epochs, t.binarize, t.schedule) == (
        32,
        1e-4,
        10,
        "static",
        None,
    )


def test_fast_preset_keeps_network_and_protocol():
    fast, tutorial = zoo.get("vae_fast_fashion_mnist"), zoo.get("vae_tutorial_fashion_mnist")
    # the only model difference is a precision setting; the built networks have the same weights
    assert {k: v for k, v in fast.model.items() if k != "float32_output_layer"} == tutorial.model
    fast_net, tutorial_net = zoo.build(fast.name), zoo.build(tutorial.name)
    assert [v.shape for v in fast_net.weights] == [v.shape for v in tutorial_net.weights]
    assert fast.train.binarize == tutorial.train.binarize == "static"
    assert fast.train.dataset == tutorial.train.dataset


def test_build_compiles_with_preset_optimizer_and_overrides():
    model = zoo.build("vae_tutorial_fashion_mnist")
    assert isinstance(model, VAE) and model.latent_dim == 2 and model.event_shape == (28, 28, 1)
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-4)
    small = zoo.build("vae_tutorial_fashion_mnist", latent_dim=4, event_shape=(8, 8, 1))
    assert small.latent_dim == 4 and small.event_shape == (8, 8, 1)
    with pytest.raises(ValueError, match="hidden_units"):
        zoo.build("vae_tutorial_fashion_mnist", hidden_units=3)


def test_build_compiles_one_optimizer_per_name_the_model_gives():
    aae = zoo.build("aae_mog_fashion_mnist")
    assert set(aae.optimizer_names) == {"ae_optimizer", "d_optimizer", "g_optimizer"}
    optimizers = [getattr(aae, name) for name in aae.optimizer_names]
    assert len({id(o) for o in optimizers}) == 3  # one Adam each, not one shared
    for optimizer in optimizers:
        assert isinstance(optimizer, keras.optimizers.Adam)
        assert float(optimizer.learning_rate) == pytest.approx(5e-4)
        assert float(optimizer.beta_1) == pytest.approx(0.5)
    assert "optimizers" not in {f.name for f in dataclasses.fields(zoo.Preset)}


def test_cosine_schedule_warms_up_from_zero_then_decays_to_zero():
    recipe = zoo.get("vae_fast_fashion_mnist").train
    assert recipe.schedule == "cosine" and recipe.warmup_epochs == pytest.approx(0.2)
    optimizer = zoo.presets.make_optimizer(recipe, steps_per_epoch=100)
    warmup, total, peak = 20, 100 * recipe.epochs, recipe.learning_rate

    def rate(step):
        optimizer.iterations.assign(step)
        return float(optimizer.learning_rate)

    assert rate(0) == 0.0
    assert rate(warmup // 2) == pytest.approx(peak / 2, rel=1e-4)
    assert rate(warmup) == pytest.approx(peak, rel=1e-4)
    assert rate(warmup) > rate((warmup + total) // 2) > rate(total - 1) > rate(total) == 0.0
    constant = zoo.presets.make_optimizer(zoo.get("vae_tutorial_mnist").train, 100)
    constant.iterations.assign(1000)
    assert float(constant.learning_rate) == pytest.approx(1e-4)
    with pytest.raises(ValueError, match="schedule"):
        zoo.presets.make_optimizer(dataclasses.replace(recipe, schedule="linear"), 100)


def test_sample_kwargs_are_empty_unless_a_preset_asks():
    assert zoo.Preset("x", "VAE", {}, zoo.get("vae_tutorial_mnist").train, "x").sample_kwargs == {}
    latent = {"VAE", "ConditionalVAE", "AdversarialAutoencoder"}
    for name in zoo.list_presets():
        preset = zoo.get(name)
        wants_means = preset.model_class in latent
        assert preset.sample_kwargs.get("mean", False) is wants_means, name


def test_unknown_preset_suggests_close_matches():
    with pytest.raises(KeyError, match="vae_tutorial_fashion_mnist"):
        zoo.get("vae_tutorial_fashionmnist")


def test_with_train_rejects_unknown_fields():
    with pytest.raises(ValueError, match="epochz"):
        zoo.get("vae_tutorial_mnist").with_train(epochz=3)


def test_build_is_reproducible():
    a, b = zoo.build("vae_tutorial_mnist"), zoo.build("vae_tutorial_mnist")
    for wa, wb in zip(a.weights, b.weights, strict=True):
        np.testing.assert_array_equal(wa.numpy(), wb.numpy())


def test_recorded_results_match_results_md():
    for name in zoo.list_presets():
        record = records.read_record(name) or {"figures": {}}
        for key, value in zoo.get(name).results.items():
            if key in record["figures"]:
                continue  # a record's figures: tests/test_records.py checks them
            for number in value if isinstance(value, list) else [value]:
                if isinstance(number, float):
                    assert f"{abs(number):g}" in RESULTS_MD, (name, key, number)


def _check_command(command: str) -> None:
    """A command of RESULTS.md or a preset: the CLI or a zoo.bench script, relative paths only."""
    assert not re.search(r"(^|\s)/", command), command  # no absolute paths
    words = command.split()
    if words[0] == "tfgen":
        assert words[1] in {"list", "train", "evaluate", "sample", "export"}, command
        assert "--iwae-samples" not in words, command
    elif words[:3] == ["python", "-m", "zoo.gpu_check"]:
        pass
    elif words[:3] == ["python", "-m", "zoo.reproduce"]:
        names = [w for w in words[3:] if not w.startswith("-") and not w[0].isdigit()]
        assert set(names) <= {*zoo.list_presets(), "PRESET"}, command
    else:
        assert words[:2] == ["python", "-m"] and words[2].startswith("zoo.bench."), command
        assert words[2].split(".")[-1] in set(BENCH_MODULES) - BENCH_HELPERS, command


def test_recorded_commands_run_from_a_clean_clone():
    for name in zoo.list_presets():
        results = zoo.get(name).results
        assert not results or results["commands"], f"{name} records figures without a command"
        for command in results.get("commands", []):
            _check_command(command)
    blocks = re.findall(r"```bash\n(.*?)```", RESULTS_MD, re.S)
    inline = re.findall(r"`((?:tfgen|python -m) [^`]*)`", RESULTS_MD)
    lines = [line for b in blocks for line in b.replace("\\\n", " ").splitlines()] + inline
    assert len(lines) > 20
    for line in lines:
        _check_command(line)


def test_bench_modules_import_without_side_effects(tmp_path):
    modules = [f"zoo.bench.{name}" for name in BENCH_MODULES]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "heavy = sorted({'tensorflow', 'keras', 'tfgen'} & set(sys.modules))\n"
        "assert not heavy, heavy\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": ROOT},
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout == out.stderr == ""  # nothing printed, no TensorFlow loaded
    assert os.listdir(tmp_path) == []  # nothing written


@pytest.mark.parametrize("name", sorted(set(BENCH_MODULES) - BENCH_HELPERS))
def test_bench_scripts_have_main_and_help(name, capsys):
    module = importlib.import_module(f"zoo.bench.{name}")
    with pytest.raises(SystemExit) as exit_info:
        module.main(["--help"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: python -m zoo.bench.{name} ")
    source = open(module.__file__, encoding="utf-8").read()
    assert 'if __name__ == "__main__":\n    main()' in source
    # scripts share code through zoo.bench.common, never through each other
    for other in set(BENCH_MODULES) - BENCH_HELPERS - {name}:
        assert f"zoo.bench.{other} import" not in source and f"bench import {other}" not in source


def test_bench_helpers_are_not_scripts():
    for name in BENCH_HELPERS:
        assert not hasattr(importlib.import_module(f"zoo.bench.{name}"), "main")
    assert importlib.util.find_spec("zoo.bench_vae") is None  # the old script paths are gone


def test_build_uses_the_recipe_precision_and_restores_the_callers_policy():
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        fast = zoo.build("vae_fast_fashion_mnist")
        tutorial = zoo.build("vae_tutorial_fashion_mnist")
        assert keras.mixed_precision.global_policy().name == "mixed_float16"
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    conv = fast.decoder.layers[2]  # a stride-2 transposed convolution
    assert conv.compute_dtype == "bfloat16" and conv.variable_dtype == "float32"
    assert tutorial.decoder.layers[2].compute_dtype == "float32"
    # z enters the decoder at full precision; logits leave it in float32
    first, last = fast.decoder.layers[0], fast.decoder.layers[-1]
    assert first.compute_dtype == last.compute_dtype == "float32"
    assert fast.decoder.layers[-2].compute_dtype == "bfloat16"  # float32_output_layer=False


def test_build_takes_strategy_precision_and_jit():
    import tensorflow as tf

    name = "independent_bernoulli_binarized_fashion_mnist"
    model = zoo.build(name, strategy="mirrored", precision="mixed_bfloat16", jit="on")
    assert isinstance(model.distribute_strategy, tf.distribute.MirroredStrategy)
    assert model.dtype_policy.name == "mixed_bfloat16" and model.jit_compile is True
    assert zoo.build(name).distribute_strategy is tf.distribute.get_strategy()
    with pytest.raises(ValueError, match="^strategy must be one of"):
        zoo.build(name, strategy="tpu")
    with pytest.raises(ValueError, match="^precision must be one of"):
        zoo.build(name, precision="float16")
