"""DCGAN presets: Radford et al.'s recipe (Adam 2e-4, beta_1 0.5, data in [-1, 1])."""

from zoo.presets.core import Preset, TrainRecipe, register

_DCGAN = dict(
    event_shape=(28, 28, 1),
    latent_dim=100,
    generator_filters=(128, 64),
    discriminator_filters=(64, 128),
    dropout=0.3,
)
_RECIPE = dict(
    dataset="fashion_mnist",
    binarize=None,
    batch_size=128,
    epochs=5,
    learning_rate=2e-4,
    beta_1=0.5,
    scale=(-1.0, 1.0),
    steps_per_execution=8,
)

# Recorded figures (zoo/RESULTS.md): FCD / classifier score on 10,000 samples vs the test
# split, with the cached Fashion-MNIST classifier (tfgen.classifier), and their commands.
_TRAIN = "tfgen train {0} --workdir runs/{0} --minutes 32"
_METRICS = (
    "python -m zoo.bench.gan_metrics runs/dcgan_small_fashion_mnist "
    "runs/dcgan_conditional_fashion_mnist"
)
_RESULTS = {
    "dcgan_small_fashion_mnist": {
        "fcd": 34.11,
        "classifier_score": 4.304,
        "commands": [_TRAIN.format("dcgan_small_fashion_mnist"), _METRICS],
    },
    "dcgan_conditional_fashion_mnist": {
        "fcd": 16.97,
        "classifier_score": 6.518,
        "label_accuracy": 0.8374,
        "commands": [_TRAIN.format("dcgan_conditional_fashion_mnist"), _METRICS],
    },
}

register(
    Preset(
        name="dcgan_small_fashion_mnist",
        model_class="DCGAN",
        model=_DCGAN,
        train=TrainRecipe(**_RECIPE),
        description="DCGAN (Radford et al.), non-saturating loss, Fashion-MNIST in [-1, 1]",
        results=_RESULTS["dcgan_small_fashion_mnist"],
    ),
    Preset(
        name="dcgan_conditional_fashion_mnist",
        model_class="DCGAN",
        model=dict(_DCGAN, num_classes=10),
        train=TrainRecipe(**_RECIPE, labels=True),
        description="conditional DCGAN (one-hot labels to G and D), Fashion-MNIST in [-1, 1]",
        results=_RESULTS["dcgan_conditional_fashion_mnist"],
    ),
)
