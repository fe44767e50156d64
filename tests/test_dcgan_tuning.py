"""The DCGAN tuning benchmark's variants: each is the preset with its model arguments applied."""

import pytest

import zoo
from zoo import presets
from zoo.bench import dcgan_tuning


@pytest.fixture(autouse=True)
def _registry():
    """The variants registered here leave the preset registry as it was."""
    saved = dict(presets.PRESETS)
    yield
    presets.PRESETS.clear()
    presets.PRESETS.update(saved)


@pytest.mark.parametrize("base_name", dcgan_tuning.BASES)
@pytest.mark.parametrize("variant", sorted(dcgan_tuning.VARIANTS))
def test_variant_is_the_preset_with_its_arguments(variant, base_name):
    preset = dcgan_tuning.variant_preset(variant, base_name)
    base = zoo.get(base_name)
    assert preset.name == f"{base_name}+{variant}"
    assert preset.train == base.train and preset.results == {}
    assert preset.model == {**base.model, **dcgan_tuning.VARIANTS[variant]}
    assert dcgan_tuning.variant_preset(variant, base_name) is preset  # registered once
    model = zoo.build(preset.with_train(dataset="digits"), event_shape=(8, 8, 1))
    for key, value in dcgan_tuning.VARIANTS[variant].items():
        assert getattr(model, key) == value


def test_minibatch_variant_is_the_preset_and_baseline_has_no_minibatch_features():
    assert dcgan_tuning.variant_preset("minibatch").model == zoo.get(dcgan_tuning.BASE).model
    assert dcgan_tuning.variant_preset("baseline").model["minibatch_kernels"] == 0


def test_variants_leave_the_registry():
    assert not any("+" in name for name in zoo.list_presets())


def test_seeds_must_be_positive():
    with pytest.raises(SystemExit):
        dcgan_tuning.main(["--seeds", "0"])
