"""tfgen: generative models for TensorFlow/Keras 3 with TensorFlow Probability likelihoods.

Example:
    >>> import tfgen
    >>> x = tfgen.data.load("digits", "train", batch_size=64, binarize="static")
    >>> vae = tfgen.models.VAE(event_shape=(8, 8, 1), latent_dim=2)
    >>> vae.compile()
    >>> _ = vae.fit(x, epochs=1, verbose=0)
"""

__version__ = "0.1.0"

from tfgen import (  # noqa: E402
    anomaly,
    callbacks,
    data,
    distributions,
    export,
    metrics,
    mixed_precision,
    models,
    ood_data,
)

__all__ = [
    "anomaly",
    "callbacks",
    "data",
    "distributions",
    "export",
    "metrics",
    "mixed_precision",
    "models",
    "ood_data",
    "__version__",
]
