"""RGB images with every family's default arguments: a 16x16x3 set and a folder of PNGs."""

import numpy as np
import pytest
from PIL import Image

from tfgen import data, models
from tfgen.export import can_sample

FAMILIES = [
    "IndependentBernoulli",
    "NADE",
    "RNADE",
    "PixelCNN",
    "GatedPixelCNN",
    "PixelRNN",
    "VAE",
    "ConditionalVAE",
    "AdversarialAutoencoder",
    "DCGAN",
    "GAN",
    "Autoencoder",
    "ConvAutoencoder",
    "RecurrentAutoencoder",
]
SHAPE = (16, 16, 3)


def rgb_images(n=16, seed=0):
    """uint8 RGB images: colour bars on noise (the channels differ)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 96, size=(n, *SHAPE), dtype=np.uint8)
    for i in range(n):
        x[i, :, i % 16, i % 3] = 255
    return x


def options_for(model):
    """``tfgen.data`` options giving the data the model's value range asks for."""
    rule = model.value_range
    if rule.low == -1.0:
        return {"scale": (-1.0, 1.0)}
    if rule.levels or rule.low is None:
        return {}  # 8-bit levels k/255 (or any finite value): the grey levels as they are
    return {"binarize": "dynamic"}


def make(name):
    kwargs = {"num_classes": 3} if name == "ConditionalVAE" else {}
    return getattr(models, name)(event_shape=SHAPE, seed=0, **kwargs)


def fit_sample_and_score(model, dataset):
    model.compile()
    history = model.fit(dataset.take(1), epochs=1, verbose=0).history
    assert all(np.isfinite(v).all() for v in history.values()), history
    if can_sample(model):
        labels = [2] if model.conditional else None
        assert tuple(model.sample(1, seed=0, labels=labels).shape) == (1, *SHAPE)
    if hasattr(model, "log_prob"):
        x = next(iter(dataset))
        x, y = x if isinstance(x, tuple) else (x, None)
        assert np.isfinite(model.log_prob(x[:2], None if y is None else y[:2])).all()


@pytest.fixture(scope="module")
def png_folder(tmp_path_factory):
    """The 16x16x3 synthetic set written as PNG files (lossless: the loader must give it back)."""
    folder = tmp_path_factory.mktemp("rgb_pngs")
    for i, image in enumerate(rgb_images()):
        Image.fromarray(image, "RGB").save(folder / f"{i:02d}.png")
    return folder


def test_the_png_folder_loads_back_the_synthetic_set(png_folder):
    x, y, names = data.directory_arrays(png_folder)
    assert y is None and names == [] and np.array_equal(x, rgb_images())  # colour detected


@pytest.mark.slow
@pytest.mark.parametrize("name", FAMILIES)
def test_defaults_train_and_sample_on_a_folder_of_rgb_pngs(png_folder, name):
    """Every family with its default arguments: the 16x16x3 set, read from the PNG folder."""
    model = make(name)
    options = dict(batch_size=8, labels=model.conditional, **options_for(model))
    if model.conditional:  # the flat folder has no class folders: its images with labels
        x, _, _ = data.directory_arrays(png_folder)
        dataset = data.from_arrays(x, np.arange(len(x), dtype=np.int32) % 3, **options)
    else:
        dataset = data.from_directory(png_folder, test_fraction=0.25, **options)
    fit_sample_and_score(model, dataset)
