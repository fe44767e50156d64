"""Presets: names, the tutorial's exact recipe, build() and its errors."""

import os

import keras
import numpy as np
import pytest

import zoo
from tfgen.models import VAE


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


def test_fast_preset_schedule_warms_up_then_decays():
    model = zoo.build("vae_fast_fashion_mnist")
    lr = model.optimizer.learning_rate  # a schedule: evaluate it at a few steps
    schedule = model.optimizer._learning_rate
    steps = zoo.presets.steps_per_epoch(zoo.get("vae_fast_fashion_mnist").train)
    total = steps * zoo.get("vae_fast_fashion_mnist").train.epochs
    peak = zoo.get("vae_fast_fashion_mnist").train.learning_rate
    if zoo.get("vae_fast_fashion_mnist").train.schedule == "cosine":
        values = [float(schedule(s)) for s in (0, total // 2, total)]
        assert values[0] < peak and values[2] < 0.01 * peak and values[1] <= peak
    assert lr is not None


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
    results = open(os.path.join(os.path.dirname(zoo.__file__), "RESULTS.md")).read()
    for name in zoo.list_presets():
        for key, value in zoo.get(name).results.items():
            if isinstance(value, float):
                assert f"{abs(value):g}" in results, (name, key, value)


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
