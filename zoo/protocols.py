"""One evaluation protocol per kind of model, stated once (zoo/RESULTS.md quotes ``PROTOCOLS``).

``protocol_of(preset)`` names a preset's protocol from its model class and recipe;
``headline(record)`` picks the figure a table shows for it.
"""

from __future__ import annotations

from zoo.presets import Preset

IMPORTANCE_SAMPLES = 1000  # IWAE samples per test image for latent models with a likelihood
GAN_SEEDS = 3  # single GAN runs vary as much as the gaps between models
SLICE = 500  # test images of the shipped-weights check (tests/test_records.py)
LATENT_SLICE = 100  # the same for latent models: IWAE with k = 1000 decodes 1000 codes per image

PROTOCOLS = {
    "binary": "Fashion-MNIST binarized dynamically for training (x ~ Bernoulli(pixel) every "
    "epoch), the test set binarized once with seed 0; test NLL in nats per image and bits/dim, "
    f"exact for autoregressive models, IWAE with k = {IMPORTANCE_SAMPLES} for latent models "
    "(their ELBO beside it).",
    "binary_static": "the TF2 tutorial's static binarization (threshold 0.5) for training and "
    "test, a named exception for the tutorial's presets (vae_tutorial_*, and vae_fast, which "
    "races the tutorial under its protocol); test IWAE NLL with "
    f"k = {IMPORTANCE_SAMPLES} and ELBO in nats per image.",
    "8bit": "8-bit Fashion-MNIST (256 levels): bits/dim of the discrete images. RNADE scores "
    "dequantized pixels (k + u) / 256 in logit space, counting the change of variables and the "
    "256 bins per pixel (u a fixed draw from seed 0 at test time; in expectation a lower bound of "
    "the discrete log-likelihood), so its bits/dim compare with the categorical models'.",
    "gan": f"Frechet classifier distance and classifier score of 10,000 samples against the test "
    f"set (tfgen.classifier), label accuracy for conditional models; mean and standard deviation "
    f"over {GAN_SEEDS} training seeds.",
    "aae": "reconstruction cross-entropy of the test set, prior match of the test codes (MMD to "
    "prior draws, share of codes inside the prior's 95% highest-density region); supervised: "
    "share of codes in their class's component.",
    "autoencoder": "reconstruction: the mean per-pixel binary cross-entropy between the grey-level "
    "test images and their reconstructions (clean inputs, also for the denoising preset).",
}

_BINARY = ("IndependentBernoulli", "NADE", "PixelCNN", "GatedPixelCNN", "PixelRNN", "VAE")
_LATENT = ("VAE", "ConditionalVAE")


def protocol_of(preset: Preset) -> str:
    """The protocol name (a key of ``PROTOCOLS``) of a preset.

    Example:
        >>> import zoo
        >>> from zoo.protocols import protocol_of
        >>> protocol_of(zoo.get("nade_fast_binarized_fashion_mnist"))
        'binary'
    """
    cls, recipe = preset.model_class, preset.train
    if cls in ("DCGAN", "GAN"):
        return "gan"
    if cls == "AdversarialAutoencoder":
        return "aae"
    if cls in ("Autoencoder", "ConvAutoencoder", "RecurrentAutoencoder"):
        return "autoencoder"
    if cls == "RNADE" or preset.model.get("likelihood") == "categorical":
        return "8bit"
    if recipe.binarize == "static":
        return "binary_static"
    if cls in (*_BINARY, *_LATENT):
        return "binary"
    raise ValueError(f"preset {preset.name!r} ({cls}) has no evaluation protocol")


def evaluation_options(preset: Preset) -> dict:
    """``zoo.evaluation.evaluate_model`` options of the preset's protocol.

    Example:
        >>> import zoo
        >>> from zoo.protocols import evaluation_options
        >>> evaluation_options(zoo.get("vae_fast_fashion_mnist"))
        {'importance_samples': 1000}
    """
    latent = preset.model_class in _LATENT
    return {"importance_samples": IMPORTANCE_SAMPLES if latent else 0}


def slice_size(preset: Preset) -> int:
    """Test images of the preset's shipped-weights check (``LATENT_SLICE`` for latent models).

    Example:
        >>> import zoo
        >>> from zoo.protocols import slice_size
        >>> slice_size(zoo.get("vae_fast_fashion_mnist"))
        100
        >>> slice_size(zoo.get("nade_fast_binarized_fashion_mnist"))
        500
    """
    return LATENT_SLICE if preset.model_class in _LATENT else SLICE


def seeds(preset: Preset) -> int:
    """Training seeds the protocol asks for (3 for GANs, else 1)."""
    return GAN_SEEDS if protocol_of(preset) == "gan" else 1


def headline(record: dict) -> tuple[str, str]:
    """``(figure name, formatted value)`` a table shows for a record.

    Example:
        >>> from zoo.protocols import headline
        >>> headline({"protocol": "binary", "figures": {"nll": {"mean": 240.1234, "std": 0.0}}})
        ('test NLL (nats)', '240.12')
        >>> figures = {"iwae_nll_k1000": {"mean": 185.47}, "elbo": {"mean": -190.79}}
        >>> headline({"protocol": "binary", "figures": figures})
        ('test IWAE NLL (k = 1000) / ELBO (nats)', '185.47 / -190.79')
        >>> figures = {"fcd": {"mean": 17.1, "std": 0.62}, "classifier_score": {"mean": 6.377}}
        >>> headline({"protocol": "gan", "figures": figures})
        ('FCD / classifier score', '17.10 ± 0.62 / 6.38')
    """
    figures = record["figures"]

    def value(key: str, digits: int = 2) -> str:
        f = figures[key]
        text = f"{f['mean']:.{digits}f}"
        return text + (f" ± {f['std']:.{digits}f}" if f.get("std") else "")

    k = f"iwae_nll_k{IMPORTANCE_SAMPLES}"
    if k in figures and "elbo" in figures:  # the ELBO beside it, as the protocol says
        return f"test IWAE NLL (k = {IMPORTANCE_SAMPLES}) / ELBO (nats)", (
            f"{value(k)} / {value('elbo')}"
        )
    if k in figures:
        return f"test IWAE NLL, k = {IMPORTANCE_SAMPLES} (nats)", value(k)
    if "fcd" in figures:  # with the classifier score, and the label accuracy of a conditional GAN
        names, values = ["FCD", "classifier score"], [value("fcd"), value("classifier_score")]
        if "sample_class_accuracy" in figures:
            names.append("label accuracy")
            values.append(value("sample_class_accuracy", 3))
        return " / ".join(names), " / ".join(values)
    if "nll" in figures and record["protocol"] == "8bit":
        return "bits/dim", value("bits_per_dim", 3)
    if "nll" in figures:
        return "test NLL (nats)", value("nll")
    if record["protocol"] == "autoencoder":
        return "test reconstruction BCE per pixel", value("reconstruction", 4)
    if "prior_mmd" in figures:
        return "prior MMD", value("prior_mmd", 4)
    return "test loss", value("loss")


__all__ = [
    "GAN_SEEDS",
    "IMPORTANCE_SAMPLES",
    "PROTOCOLS",
    "SLICE",
    "LATENT_SLICE",
    "evaluation_options",
    "headline",
    "protocol_of",
    "seeds",
    "slice_size",
]
