"""Trained weights shipped with the zoo: ``zoo.load(name, pretrained=True)``.

``zoo/weights/<preset>.weights.h5`` holds a preset's trained weights only (no optimizer state),
written by ``python -m zoo.reproduce`` together with the record (``zoo/results/<preset>.json``)
of the run that made them, whose ``weights.sha256`` the loader checks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zoo import presets, records

if TYPE_CHECKING:
    import keras


class WeightsNotShippedError(FileNotFoundError):
    """The preset has no shipped weights (``python -m zoo.reproduce NAME`` makes them)."""


def shipped() -> list[str]:
    """Presets whose trained weights ship with the zoo (a record and its weight file).

    Example:
        >>> import zoo
        >>> from zoo.pretrained import shipped
        >>> set(shipped()) <= set(zoo.list_presets())
        True
    """
    return [
        name
        for name, record in records.all_records().items()
        if record.get("weights") and records.weights_path(name).is_file()
    ]


def load(name: str, pretrained: bool = True) -> keras.Model:
    """A preset's model: compiled as ``zoo.build(name)``, with its shipped trained weights.

    Args:
        name: a preset name.
        pretrained: load the shipped weights (False: freshly initialised, as ``zoo.build``).

    Returns:
        The compiled model; with ``pretrained`` its weights are the ones the preset's record
        (``zoo/results/<name>.json``) was measured with.

    Raises:
        KeyError: unknown preset.
        WeightsNotShippedError: no shipped weights for this preset (one line, with the command
            that makes them).
        ValueError: the weight file does not match the checksum in the record.

    Example:
        >>> import numpy as np
        >>> from zoo.pretrained import load
        >>> model = load("independent_bernoulli_binarized_fashion_mnist")
        >>> model.log_prob(np.zeros([1, 28, 28, 1], np.float32)).shape
        TensorShape([1])
    """
    preset = presets.get(name)
    if not pretrained:
        return presets.build(preset)
    record, path = records.read_record(name), records.weights_path(name)
    if not record or not record.get("weights") or not path.is_file():
        raise WeightsNotShippedError(
            f"{name} ships no trained weights yet; `python -m zoo.reproduce {name}` trains it "
            f"(shipped: {', '.join(shipped()) or 'none'})"
        )
    digest = records.sha256(path)
    if digest != record["weights"]["sha256"]:
        raise ValueError(
            f"{path} does not match its record (sha256 {digest[:12]}..., recorded "
            f"{record['weights']['sha256'][:12]}...): reinstall or rerun zoo.reproduce"
        )
    model = presets.build(preset)
    optimizers = [getattr(model, n) for n in model.optimizer_names]  # none are shipped
    model.load_weights(str(path), objects_to_skip=optimizers)
    return model


__all__ = ["WeightsNotShippedError", "load", "shipped"]
