"""PixelRNN presets: Row LSTM and Diagonal BiLSTM on binarized Fashion-MNIST.

Both use the PixelCNN presets' ``dynamic`` protocol and recipe (batch 128, Adam 3e-3 with warmup
and cosine decay, 8 batches per ``tf.function`` call) with a 15-minute training budget, so their
test NLL sits next to ``pixelcnn_small_binarized_fashion_mnist`` at the same budget. The networks
are small for a CPU: two LSTM layers of 32 units (the paper's MNIST models are deeper).
"""

from zoo.presets.core import Preset, TrainRecipe, register

_RECIPE = dict(
    dataset="fashion_mnist",
    binarize="dynamic",
    steps_per_execution=8,
    batch_size=128,
    learning_rate=3e-3,
    schedule="cosine",
    warmup_epochs=0.1,
    max_minutes=15.0,
    epochs=1,
)
_SAMPLES = {"method": "cached"}

# Recorded figures (zoo/RESULTS.md): test NLL in nats per image, with commands.
_RESULTS: dict[str, dict] = {
    "pixelrnn_row_lstm_binarized_fashion_mnist": {
        "test_nll": 245.47,
        "bits_per_dim": 0.4517,
        "train_minutes": 7.72,
        "note": "the recipe's 1 epoch ended before the 15-minute budget (shared 2-core CPU)",
        "commands": [
            "tfgen train pixelrnn_row_lstm_binarized_fashion_mnist --workdir runs/pixelrnn_row_lstm"
        ],
    },
    "pixelrnn_diagonal_bilstm_binarized_fashion_mnist": {
        "test_nll": 242.6,
        "bits_per_dim": 0.4464,
        "note": "15-minute budget on a 2-core CPU shared with other jobs: 320 of 469 steps",
        "commands": [
            "tfgen train pixelrnn_diagonal_bilstm_binarized_fashion_mnist"
            " --workdir runs/pixelrnn_diagonal_bilstm"
        ],
    },
}

register(
    Preset(
        name="pixelrnn_row_lstm_binarized_fashion_mnist",
        model_class="PixelRNN",
        model=dict(
            event_shape=(28, 28, 1),
            kind="row_lstm",
            num_layers=2,
            hidden_units=32,
            likelihood="bernoulli",
        ),  # fmt: skip
        train=TrainRecipe(**_RECIPE),
        description="PixelRNN Row LSTM, 2 layers x 32 units (triangular field), 15-minute budget",
        results=_RESULTS["pixelrnn_row_lstm_binarized_fashion_mnist"],
        sample_kwargs=_SAMPLES,
    ),
    Preset(
        name="pixelrnn_diagonal_bilstm_binarized_fashion_mnist",
        model_class="PixelRNN",
        model=dict(
            event_shape=(28, 28, 1),
            kind="diagonal_bilstm",
            num_layers=2,
            hidden_units=32,
            likelihood="bernoulli",
        ),  # fmt: skip
        train=TrainRecipe(**_RECIPE),
        description="PixelRNN Diagonal BiLSTM, 2 layers x 32 units (whole context), 15-min budget",
        results=_RESULTS["pixelrnn_diagonal_bilstm_binarized_fashion_mnist"],
        sample_kwargs=_SAMPLES,
    ),
)
