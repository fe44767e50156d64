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

# Figures of the conditional preset before its record (zoo/RESULTS.md, DCGAN section): FCD /
# classifier score on 10,000 samples vs the test split, cached classifier (tfgen.classifier).
_TRAIN = "tfgen train {0} --workdir runs/{0} --minutes 32"
_METRICS = (
    "python -m zoo.bench.gan_metrics runs/dcgan_small_fashion_mnist "
    "runs/dcgan_conditional_fashion_mnist"
)
_EARLIER_CONDITIONAL = {
    "fcd": 16.97,
    "classifier_score": 6.518,
    "label_accuracy": 0.8374,
    "note": "the model before minibatch discrimination (the tuning bench's 'baseline' variant)",
    "commands": [_TRAIN.format("dcgan_conditional_fashion_mnist"), _METRICS],
}
# Minibatch discrimination (Salimans et al. 2016) lowered the DCGANs' FCD more than label
# smoothing or a wider generator did (python -m zoo.bench.dcgan_tuning; zoo/RESULTS.md).
_MINIBATCH = dict(minibatch_kernels=8, minibatch_kernel_dim=4)

register(
    Preset(
        name="dcgan_small_fashion_mnist",
        model_class="DCGAN",
        model=dict(_DCGAN, **_MINIBATCH),
        train=TrainRecipe(**_RECIPE),
        description="DCGAN (Radford et al.) with minibatch discrimination, non-saturating loss, "
        "Fashion-MNIST in [-1, 1]",
    ),
    Preset(
        name="dcgan_conditional_fashion_mnist",
        model_class="DCGAN",
        model=dict(_DCGAN, num_classes=10, **_MINIBATCH),
        train=TrainRecipe(**_RECIPE, labels=True),
        description="conditional DCGAN (one-hot labels to G and D) with minibatch "
        "discrimination, Fashion-MNIST in [-1, 1]",
        results=_EARLIER_CONDITIONAL,
    ),
)
