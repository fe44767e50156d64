"""Adversarial autoencoder presets: N(0, I), a 10-Gaussian ring, and the label-supervised ring.

All use a deterministic encoder, a 2-D code (so codes can be plotted against the prior), the
tutorial's conv encoder/decoder with a Bernoulli likelihood on dynamically binarized images, and one
Adam(5e-4, beta_1=0.5) per phase (reconstruction, discriminator, generator). The supervised one
adds ``classification_weight=2`` (the label's cross-entropy under the ring's components) to the
reconstruction phase: the discriminator's gradient alone ties a class to its component weakly.
"""

from zoo.presets.core import Preset, TrainRecipe, register

_AAE = dict(event_shape=(28, 28, 1), latent_dim=2, posterior="deterministic")
_RECIPE = dict(
    dataset="fashion_mnist",
    binarize="dynamic",
    batch_size=128,
    epochs=10,
    learning_rate=5e-4,
    beta_1=0.5,
    steps_per_execution=8,
)
# The presets' figures are their records (zoo/results/<name>.json, on dynamic binarization),
# quoted by zoo.presets; zoo/RESULTS.md keeps the earlier static-binarization figures with the
# commands that made them.


def _aae(name: str, description: str, labels: bool = False, **model) -> Preset:
    return Preset(
        name=name,
        model_class="AdversarialAutoencoder",
        model=dict(_AAE, **model),
        train=TrainRecipe(**_RECIPE, labels=labels),
        description=description,
        sample_kwargs={"mean": True},  # sample grids show decoder means
    )


_RING = dict(prior_radius=4.0, prior_scale=0.5)
register(
    _aae(
        "aae_gaussian_fashion_mnist",
        "adversarial autoencoder, 2-D code matched to N(0, I)",
        prior="normal",
    ),
    _aae(
        "aae_mog_fashion_mnist",
        "adversarial autoencoder, 2-D code matched to 10 Gaussians on a circle",
        prior="mixture",
        prior_components=10,
        **_RING,
    ),
    _aae(
        "aae_supervised_fashion_mnist",
        "adversarial autoencoder, each class's codes matched to its own Gaussian",
        labels=True,
        prior="supervised",
        num_classes=10,
        classification_weight=2.0,  # -log p(y | z): D alone ties class to component weakly
        **_RING,
    ),
)
