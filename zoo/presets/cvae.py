"""Conditional VAE preset: the tutorial's networks conditioned on one-hot Fashion-MNIST labels.

Its figures are its record's (``zoo/results/cvae_small_fashion_mnist.json``); zoo/RESULTS.md keeps
the figures of the earlier static-binarization recipe, marked as such.
"""

from zoo.presets.core import Preset, TrainRecipe, register

register(
    Preset(
        name="cvae_small_fashion_mnist",
        model_class="ConditionalVAE",
        model=dict(event_shape=(28, 28, 1), num_classes=10, latent_dim=2, conditioning="onehot"),
        train=TrainRecipe(
            dataset="fashion_mnist",
            binarize="dynamic",
            batch_size=128,
            epochs=10,
            learning_rate=2e-3,
            schedule="cosine",
            warmup_epochs=0.2,
            steps_per_execution=8,
            labels=True,
        ),
        description="conditional VAE (one-hot labels, 2-D code), tutorial networks, dynamic binary",
        sample_kwargs={"mean": True},  # sample grids show decoder means
    ),
)
