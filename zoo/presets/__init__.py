"""Named presets: a model configuration, a training recipe and the results it recorded.

A preset is data, not code: ``zoo.build(name)`` turns it into a compiled model and
``zoo.train.train(name, workdir)`` (the ``tfgen train`` command) trains it. Names follow
``<family>_<size>_<dataset>``; ``results`` quotes ``zoo/RESULTS.md`` with the command that
produced each figure. The machinery is in :mod:`zoo.presets.core`; each model family registers
its presets in its own module here (``vae.py``, ...), imported below.
"""

from zoo.presets import (
    aae,  # noqa: F401  (registers its presets)
    autoencoder,  # noqa: F401  (registers its presets)
    cvae,  # noqa: F401  (registers its presets)
    dcgan,  # noqa: F401  (registers its presets)
    nade,  # noqa: F401  (registers its presets)
    pixelcnn,  # noqa: F401  (registers its presets)
    pixelrnn,  # noqa: F401  (registers its presets)
    vae,  # noqa: F401  (registers its presets)
)
from zoo.presets.core import (
    PRESETS,
    Preset,
    TrainRecipe,
    build,
    get,
    list_presets,
    make_optimizer,
    register,
    steps_per_epoch,
)

__all__ = [
    "PRESETS",
    "Preset",
    "TrainRecipe",
    "build",
    "get",
    "list_presets",
    "make_optimizer",
    "register",
    "steps_per_epoch",
]
