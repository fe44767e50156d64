"""Named presets: a model configuration, a training recipe and the results it recorded.

A preset is data, not code: ``zoo.build(name)`` turns it into a compiled model and
``zoo.train.train(name, workdir)`` (the ``tfgen train`` command) trains it. Names follow
``<family>_<size>_<dataset>``; ``results`` quotes ``zoo/RESULTS.md`` with the command that
produced each figure. The machinery is in :mod:`zoo.presets.core`; each model family registers
its presets in its own module here (``vae.py``, ...), imported below.
"""

import dataclasses as _dataclasses

from zoo import records as _records
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


def _results_from_records() -> None:
    """A preset with a record (``zoo/results/<name>.json``) quotes the record's figures and
    command; the figures it quoted before, from other commands (benchmarks, earlier runs), stay
    under ``"earlier"`` with their own commands."""
    for name, record in _records.all_records().items():
        if name in PRESETS:
            results = {k: v["mean"] for k, v in record["figures"].items()}
            results.update(commands=[record["command"]], record=f"zoo/results/{name}.json")
            if PRESETS[name].results:
                results["earlier"] = dict(PRESETS[name].results)
            PRESETS[name] = _dataclasses.replace(PRESETS[name], results=results)


_results_from_records()
