"""``zoo.notebook``: the shipped-or-fresh model of a preset, and its test images."""

from __future__ import annotations

import numpy as np
import pytest

from zoo import pretrained
from zoo.notebook import load_test_images, trained

SHIPPED = "independent_bernoulli_binarized_fashion_mnist"
NOT_SHIPPED = "vae_tutorial_fashion_mnist"


def test_trained_returns_the_shipped_weights_in_tiny_mode_too():
    if SHIPPED not in pretrained.shipped():
        pytest.skip(f"{SHIPPED} ships no weights")
    for tiny in (True, False):
        model, is_trained = trained(SHIPPED, tiny=tiny)
        assert is_trained
        expected = pretrained.load(SHIPPED).get_weights()
        for got, want in zip(model.get_weights(), expected, strict=True):
            np.testing.assert_array_equal(got, want)


def test_trained_builds_a_fresh_model_with_tiny_overrides_only_in_tiny_mode():
    if NOT_SHIPPED in pretrained.shipped():
        pytest.skip(f"{NOT_SHIPPED} ships weights now")
    small, is_trained = trained(NOT_SHIPPED, tiny=True, latent_dim=3)
    full, _ = trained(NOT_SHIPPED, tiny=False, latent_dim=3)
    assert not is_trained
    assert small.latent_dim == 3 and full.latent_dim == 2  # the preset's own latent size


def test_trained_rejects_an_unknown_preset():
    with pytest.raises(KeyError):
        trained("no_such_preset", tiny=True)


def test_load_test_images_follows_the_protocol():
    x = load_test_images(SHIPPED, 7)  # dynamic binarization, drawn once with seed 0
    assert x.shape == (7, 28, 28, 1) and set(np.unique(x)) <= {0.0, 1.0}
    np.testing.assert_array_equal(x, load_test_images(SHIPPED, 10)[:7])  # the first images
    grey, labels = load_test_images("autoencoder_stacked_fashion_mnist", 5, labels=True)
    assert labels.shape == (5,) and labels.dtype.kind == "i"
    assert len(np.unique(grey)) > 2 and 0.0 <= grey.min() and grey.max() <= 1.0


def test_load_test_images_rejects_a_bad_count():
    with pytest.raises(ValueError, match="num_images"):
        load_test_images(SHIPPED, 0)
