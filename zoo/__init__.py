"""The tfgen zoo: named presets, the training recipe runner, benchmarks and the `tfgen` CLI.

Example:
    >>> import zoo
    >>> zoo.list_presets()[:2]
    ['aae_gaussian_fashion_mnist', 'aae_mog_fashion_mnist']
    >>> model = zoo.load("nade_fast_binarized_fashion_mnist", pretrained=False)  # zoo.build
"""

from zoo.presets import PRESETS, Preset, TrainRecipe, build, get, list_presets
from zoo.pretrained import load

__all__ = ["PRESETS", "Preset", "TrainRecipe", "build", "get", "list_presets", "load"]
