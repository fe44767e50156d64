"""PixelCNN presets: plain and gated PixelCNN on binarized Fashion-MNIST, a class-conditional gated
model, and an 8-bit (256-way categorical) PixelCNN.

Binarized presets use the ``dynamic`` protocol (training images resampled every epoch, the test
set binarized once with seed 0), as the pytorch-generative peer runs quoted in issue 5. The plain
preset's recipe is tuned for time-to-NLL on a 2-core CPU: batch 128, Adam with warmup and cosine
decay, 8 batches per ``tf.function`` call, and a 15-minute budget. The gated presets train the
same recipe for 3 epochs with XLA (``jit="on"``: nearly twice as fast on the CPU for their
gates, ``python -m zoo.bench.xla``) and a 25-minute budget.
"""

from zoo.presets.core import Preset, TrainRecipe, register

_BINARIZED = dict(dataset="fashion_mnist", binarize="dynamic", steps_per_execution=8)
# The binarized presets' shared recipe: batch 128, Adam 3e-3, 0.1-epoch warmup + cosine, 15 minutes.
_BINARIZED_RECIPE = dict(
    _BINARIZED,
    batch_size=128,
    learning_rate=3e-3,
    schedule="cosine",
    warmup_epochs=0.1,
    max_minutes=15.0,
)
_SAMPLES = {"method": "cached"}

# Recorded figures (zoo/RESULTS.md): test NLL in nats per image, with commands.
_RESULTS: dict[str, dict] = {
    "pixelcnn_small_binarized_fashion_mnist": {
        "test_nll": 240.09,
        "bits_per_dim": 0.4418,
        "commands": [
            "tfgen train pixelcnn_small_binarized_fashion_mnist --workdir runs/pixelcnn_small"
        ],
    },
    "gated_pixelcnn_small_binarized_fashion_mnist": {
        "test_nll": 248.66,
        "bits_per_dim": 0.4576,
        "train_minutes": 9.76,
        "note": "idle CPU; the recipe was then 1 epoch without XLA, which ended before the "
        "15-minute budget",
        "commands": [
            "tfgen train gated_pixelcnn_small_binarized_fashion_mnist --epochs 1 --jit off"
            " --minutes 15 --workdir runs/gated_pixelcnn"
        ],
    },
    "gated_pixelcnn_conditional_binarized_fashion_mnist": {
        "test_nll": 266.47,
        "note": "7-minute budget on a CPU shared with other jobs: 80 steps (0.17 epoch) of the "
        "then 1-epoch recipe without XLA",
        "commands": [
            "tfgen train gated_pixelcnn_conditional_binarized_fashion_mnist --epochs 1 --jit off"
            " --minutes 7 --workdir runs/gated_pixelcnn_conditional"
        ],
    },
    "pixelcnn_small_8bit_fashion_mnist": {
        "test_nll": 1735.53,
        "bits_per_dim": 3.1937,
        "commands": ["tfgen train pixelcnn_small_8bit_fashion_mnist --workdir runs/pixelcnn_8bit"],
    },
}

register(
    Preset(
        name="pixelcnn_small_binarized_fashion_mnist",
        model_class="PixelCNN",
        model=dict(event_shape=(28, 28, 1), num_layers=15, filters=16, likelihood="bernoulli"),
        train=TrainRecipe(
            **_BINARIZED_RECIPE,
            epochs=6,
        ),
        description="PixelCNN, 15 residual blocks x 16 filters, 15-minute CPU recipe",
        results=_RESULTS["pixelcnn_small_binarized_fashion_mnist"],
        sample_kwargs=_SAMPLES,
    ),
    Preset(
        name="gated_pixelcnn_small_binarized_fashion_mnist",
        model_class="GatedPixelCNN",
        model=dict(event_shape=(28, 28, 1), num_layers=6, filters=32, likelihood="bernoulli"),
        train=TrainRecipe(
            **{**_BINARIZED_RECIPE, "max_minutes": 25.0},
            epochs=3,
        ),
        jit="on",
        description="gated PixelCNN, 6 layers x 32 filters (no blind spot), 3 epochs with XLA",
        results=_RESULTS["gated_pixelcnn_small_binarized_fashion_mnist"],
        sample_kwargs=_SAMPLES,
    ),
    Preset(
        name="gated_pixelcnn_conditional_binarized_fashion_mnist",
        model_class="GatedPixelCNN",
        model=dict(
            event_shape=(28, 28, 1),
            num_layers=6,
            filters=32,
            likelihood="bernoulli",
            num_classes=10,
        ),
        train=TrainRecipe(
            **{**_BINARIZED_RECIPE, "max_minutes": 25.0},
            epochs=3,
            labels=True,
        ),
        jit="on",
        description="class-conditional gated PixelCNN (labels=), 6 layers x 32 filters, 3 epochs,"
        " XLA",
        results=_RESULTS["gated_pixelcnn_conditional_binarized_fashion_mnist"],
        sample_kwargs=dict(_SAMPLES, labels=[i % 10 for i in range(64)]),
    ),
    Preset(
        name="pixelcnn_small_8bit_fashion_mnist",
        model_class="PixelCNN",
        model=dict(
            event_shape=(28, 28, 1),
            num_layers=6,
            filters=32,
            output_filters=64,
            likelihood="categorical",
        ),
        train=TrainRecipe(
            dataset="fashion_mnist",
            binarize=None,
            batch_size=64,
            epochs=3,
            learning_rate=2e-3,
            schedule="cosine",
            warmup_epochs=0.05,
            steps_per_execution=8,
            max_minutes=20.0,
        ),
        description="PixelCNN with 256-way categorical pixels on 8-bit Fashion-MNIST, 3 epochs",
        results=_RESULTS["pixelcnn_small_8bit_fashion_mnist"],
        sample_kwargs=_SAMPLES,
    ),
)
