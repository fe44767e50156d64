"""Helpers shared by the notebooks in ``colab/``: a preset's trained model, and its test images.

A notebook checks the course's claims on a *trained* model. When a preset ships trained weights
(``zoo.pretrained.shipped()``), :func:`trained` returns them, so the claims are measured on the
model whose record is ``zoo/results/<preset>.json``, in tiny mode too (loading is cheap);
otherwise it returns a freshly built model for the notebook's training cell to train.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from zoo import presets, pretrained

if TYPE_CHECKING:
    import keras


def trained(name: str, *, tiny: bool, **overrides) -> tuple[keras.Model, bool]:
    """A preset's model with its shipped trained weights if it has some, else a fresh one.

    Args:
        name: a preset name.
        tiny: the notebook's tiny mode; ``overrides`` only apply to a fresh model in tiny mode.
        **overrides: model keyword arguments for a fresh tiny model (e.g. ``hidden_units=32``).

    Returns:
        ``(model, is_trained)``: the compiled model and whether it holds trained weights (True
        only for shipped weights: a fresh model is trained, or not, by the notebook).

    Raises:
        KeyError: unknown preset.

    Example:
        >>> from zoo.notebook import trained
        >>> model, is_trained = trained("independent_bernoulli_binarized_fashion_mnist", tiny=True)
        >>> is_trained, model.count_params()
        (True, 784)
    """
    presets.get(name)  # KeyError for an unknown preset, before anything is built
    if name in pretrained.shipped():
        return pretrained.load(name), True
    return presets.build(name, **(overrides if tiny else {})), False


def load_test_images(
    name: str, num_images: int, *, labels: bool | None = None
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """The first ``num_images`` test images of a preset's dataset, under its data protocol.

    The protocol of the records (``zoo.workdir.split_dataset``): the preset's binarization,
    dynamic binarization drawn once with seed 0, the preset's ``scale``; so the first 500 are
    the images of a record's ``slice``.

    Args:
        name: a preset name.
        num_images: how many test images (from the first), at least 1.
        labels: also return the labels (default: the recipe's ``labels``).

    Returns:
        float32 images ``[num_images, H, W, C]``, or ``(images, int labels)`` with ``labels``.

    Raises:
        KeyError: unknown preset.
        ValueError: ``num_images`` < 1.

    Example:
        >>> from zoo.notebook import load_test_images
        >>> x, y = load_test_images("nade_fast_binarized_fashion_mnist", 4, labels=True)
        >>> x.shape, np.unique(x).tolist(), y.shape
        ((4, 28, 28, 1), [0.0, 1.0], (4,))
    """
    from tfgen import data

    if int(num_images) < 1:
        raise ValueError(f"num_images must be >= 1, got {num_images}")
    recipe = presets.get(name).train
    with_labels = recipe.labels if labels is None else labels
    batch = next(
        iter(
            data.load(
                recipe.dataset,
                "test",
                batch_size=int(num_images),
                binarize=recipe.binarize,
                labels=with_labels,
                scale=recipe.scale,
                seed=0,
            )
        )
    )
    if with_labels:
        return np.asarray(batch[0]), np.asarray(batch[1])
    return np.asarray(batch)


__all__ = ["load_test_images", "trained"]
