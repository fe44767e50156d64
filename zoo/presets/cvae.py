"""Conditional VAE preset: the tutorial's networks conditioned on one-hot Fashion-MNIST labels."""

from zoo.presets.core import Preset, TrainRecipe, register

# Recorded figures (zoo/RESULTS.md): test set, nats per image, with their commands.
_RESULTS = {
    "test_elbo": -164.39,
    "iwae_nll_k100": 161.95,
    "sample_class_accuracy": 0.796,  # tfgen classifier; its accuracy on binarized test: 0.810
    "commands": [
        "tfgen train cvae_small_fashion_mnist --workdir runs/cvae_small_fashion_mnist",
        "tfgen evaluate runs/cvae_small_fashion_mnist --importance-samples 100",
        "python -m zoo.bench.eval_cvae_aae runs cvae",
    ],
}

register(
    Preset(
        name="cvae_small_fashion_mnist",
        model_class="ConditionalVAE",
        model=dict(event_shape=(28, 28, 1), num_classes=10, latent_dim=2, conditioning="onehot"),
        train=TrainRecipe(
            dataset="fashion_mnist",
            binarize="static",
            batch_size=128,
            epochs=10,
            learning_rate=2e-3,
            schedule="cosine",
            warmup_epochs=0.2,
            steps_per_execution=8,
            labels=True,
        ),
        description="conditional VAE (one-hot labels, 2-D code), tutorial networks, static binary",
        results=_RESULTS,
        sample_kwargs={"mean": True},  # sample grids show decoder means
    ),
)
