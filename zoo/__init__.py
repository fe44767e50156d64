"""The tfgen zoo: named presets, the training recipe runner, benchmarks and the `tfgen` CLI.

Example:
    >>> import zoo
    >>> zoo.list_presets()[:2]
    ['vae_fast_fashion_mnist', 'vae_tutorial_fashion_mnist']
"""

from zoo.presets import PRESETS, Preset, TrainRecipe, build, get, list_presets

__all__ = ["PRESETS", "Preset", "TrainRecipe", "build", "get", "list_presets"]
