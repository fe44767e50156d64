"""VAE presets: the TF2 tutorial's exact recipe, and a recipe tuned for time-to-ELBO on a CPU."""

from zoo.presets.core import Preset, TrainRecipe, register

TUTORIAL_VAE = {"latent_dim": 2, "likelihood": "bernoulli", "prior": "normal"}
_TUTORIAL_RECIPE = dict(binarize="static", batch_size=32, epochs=10, learning_rate=1e-4)

# Recorded figures (zoo/RESULTS.md): test set, nats per image, with the commands that made them.
_RESULTS = {
    "vae_tutorial_fashion_mnist": {
        "test_elbo": -194.33,
        "iwae_nll_k1000": 187.49,
        "commands": [
            "tfgen train vae_tutorial_fashion_mnist --workdir runs/vae_tutorial_fashion_mnist",
            "tfgen evaluate runs/vae_tutorial_fashion_mnist --importance-samples 1000",
        ],
    },
    "vae_fast_fashion_mnist": {
        "test_elbo": -189.60,
        # three runs of the benchmark, each against its own tutorial run
        "train_seconds": [39.8, 39.5, 41.0],
        "seconds_to_tutorial_elbo": [27.6, 30.7, 21.4],
        "images_per_second_vs_tutorial": [1.59, 1.77, 1.58],
        "commands": ["python -m zoo.bench.vae"],
    },
}
_MEANS = {"mean": True}  # sample grids show decoder means

register(
    *(
        Preset(
            name=f"vae_tutorial_{dataset}",
            model_class="VAE",
            model=dict(TUTORIAL_VAE, event_shape=(28, 28, 1)),
            train=TrainRecipe(dataset=dataset, **_TUTORIAL_RECIPE),
            description=f"TF2 convolutional-VAE tutorial, exact recipe, on {title}",
            results=_RESULTS.get(f"vae_tutorial_{dataset}", {}),
            sample_kwargs=_MEANS,
        )
        for dataset, title in (("mnist", "MNIST"), ("fashion_mnist", "Fashion-MNIST"))
    ),
    Preset(
        name="vae_fast_fashion_mnist",
        model_class="VAE",
        # same network; its output layer computes in bfloat16 too (logits cast to float32)
        model=dict(TUTORIAL_VAE, event_shape=(28, 28, 1), float32_output_layer=False),
        train=TrainRecipe(
            dataset="fashion_mnist",
            binarize="static",
            batch_size=256,
            epochs=4,
            learning_rate=8e-3,
            schedule="cosine",
            warmup_epochs=0.2,
            steps_per_execution=8,
            mixed_precision="mixed_bfloat16",
        ),
        description=(
            "tutorial network and protocol, recipe tuned for time-to-ELBO on a CPU "
            "(bfloat16 compute: fast where the CPU has AVX512_BF16/AMX or on GPUs/TPUs)"
        ),
        results=_RESULTS["vae_fast_fashion_mnist"],
        sample_kwargs=_MEANS,
    ),
)
