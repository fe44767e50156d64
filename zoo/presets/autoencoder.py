"""Autoencoder presets on Fashion-MNIST: stacked, tied, denoising, sparse, convolutional, recurrent.

Every preset trains on grey-level Fashion-MNIST (``binarize=None``) with the Bernoulli output
(per-pixel binary cross-entropy of the decoder's logits against grey levels as soft targets),
so the recorded ``reconstruction`` is the mean per-pixel BCE on the test set; its floor is the
mean per-pixel entropy of the grey levels, not 0. The test MSE of ``reconstruct`` (images in
[0, 1]) is recorded beside it. Budgets are a few minutes each on a 2-core CPU. The recorded
figures come from ``python -m zoo.bench.autoencoder presets`` (``zoo.build``, ``fit``,
``evaluate``); ``tfgen train`` trains them too (without sample grids: autoencoders do not sample).
"""

from zoo.presets.core import Preset, TrainRecipe, register

_DENSE = dict(event_shape=(28, 28, 1), hidden_units=(256, 128), latent_dim=32)
_RECIPE = dict(dataset="fashion_mnist", binarize=None, batch_size=128, learning_rate=1e-3)

# Recorded figures (zoo/RESULTS.md, "Autoencoders"), with the command.
_RESULTS: dict[str, dict] = {
    # stacked, tied, denoising and sparse: their records (zoo/results/) give their results
    "autoencoder_stacked_fashion_mnist": {},
    "autoencoder_tied_fashion_mnist": {},
    "autoencoder_denoising_fashion_mnist": {},
    "autoencoder_sparse_fashion_mnist": {},
    "autoencoder_conv_fashion_mnist": {
        "test_reconstruction_bce": 0.2731,
        "test_mse": 0.00998,
        "train_minutes": 3.61,
        "commands": ["python -m zoo.bench.autoencoder presets"],
    },
    "autoencoder_recurrent_fashion_mnist": {
        "test_reconstruction_bce": 0.3159,
        "test_mse": 0.02423,
        "train_minutes": 1.37,
        "commands": ["python -m zoo.bench.autoencoder presets"],
    },
}

register(
    Preset(
        name="autoencoder_stacked_fashion_mnist",
        model_class="Autoencoder",
        model=dict(_DENSE),
        train=TrainRecipe(**_RECIPE, epochs=10),
        description="stacked dense autoencoder 784-256-128-32, Bernoulli output",
        results=_RESULTS["autoencoder_stacked_fashion_mnist"],
    ),
    Preset(
        name="autoencoder_tied_fashion_mnist",
        model_class="Autoencoder",
        model=dict(_DENSE, tied_weights=True),
        train=TrainRecipe(**_RECIPE, epochs=10),
        description="the stacked autoencoder with tied (transposed) decoder kernels",
        results=_RESULTS["autoencoder_tied_fashion_mnist"],
    ),
    Preset(
        name="autoencoder_denoising_fashion_mnist",
        model_class="Autoencoder",
        model=dict(_DENSE, noise="gaussian", noise_rate=0.2),
        train=TrainRecipe(**_RECIPE, epochs=10),
        description="the stacked autoencoder trained on inputs with Gaussian noise (std 0.2)",
        results=_RESULTS["autoencoder_denoising_fashion_mnist"],
    ),
    Preset(
        name="autoencoder_sparse_fashion_mnist",
        model_class="Autoencoder",
        model=dict(
            event_shape=(28, 28, 1),
            hidden_units=(256,),
            latent_dim=128,
            sparsity="kl",
            sparsity_target=0.1,
            sparsity_weight=0.1,
        ),
        train=TrainRecipe(**_RECIPE, epochs=10),
        description="784-256-128 autoencoder, sigmoid codes, KL sparsity (target 0.1)",
        results=_RESULTS["autoencoder_sparse_fashion_mnist"],
    ),
    Preset(
        name="autoencoder_conv_fashion_mnist",
        model_class="ConvAutoencoder",
        model=dict(event_shape=(28, 28, 1), filters=(32, 64), latent_dim=32),
        train=TrainRecipe(**_RECIPE, epochs=3),
        description="stride-2 convolutions 32-64, code 32, transposed convolutions back",
        results=_RESULTS["autoencoder_conv_fashion_mnist"],
    ),
    Preset(
        name="autoencoder_recurrent_fashion_mnist",
        model_class="RecurrentAutoencoder",
        model=dict(event_shape=(28, 28, 1), hidden_units=(100,), latent_dim=32),
        train=TrainRecipe(**_RECIPE, epochs=2),
        description="rows as a sequence: LSTM(100) encoder, code 32, LSTM(100) decoder",
        results=_RESULTS["autoencoder_recurrent_fashion_mnist"],
    ),
)
