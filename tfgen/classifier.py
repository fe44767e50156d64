"""A small CNN classifier that tfgen trains and caches itself: features for sample-quality metrics.

Inception weights cannot be downloaded offline, so the Frechet distance, the inception-style score
and the class accuracy of conditional samples in :mod:`tfgen.metrics` use this classifier's
penultimate features and class probabilities instead (a "Frechet Classifier Distance").

:func:`get_classifier` trains it on a ``tfgen.data`` dataset's train split the first time and
caches it in ``$TFGEN_CACHE_DIR`` (default ``~/.cache/tfgen``) under a key made of the dataset and
the training configuration; later calls load the cached ``.keras`` file (no training, no
download). A file lock makes concurrent processes train it once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import pathlib
import random
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from tfgen import checks, data
from tfgen.mixed_precision import float32_bias_gradients


@keras.saving.register_keras_serializable(package="tfgen")
class ImageClassifier(keras.Model):
    """Conv(3x3, relu) + max-pool blocks, a dense feature layer, and a linear class layer.

    Inputs are images in [0, 1] (use ``value_range`` of the helpers for other ranges).

    Args:
        event_shape: ``(H, W, C)`` of the images.
        num_classes: number of classes (>= 2).
        filters: channels of each conv block (each halves H and W with a 2x2 max-pool).
        feature_dim: width of the penultimate (feature) layer.
        dropout: dropout rate before the class layer during training.
        **kwargs: ``keras.Model`` arguments.

    Example:
        >>> clf = ImageClassifier((8, 8, 1), num_classes=4, feature_dim=16)
        >>> x = np.zeros([3, 8, 8, 1], np.float32)
        >>> clf.features(x).shape, clf.probabilities(x).shape
        (TensorShape([3, 16]), TensorShape([3, 4]))
    """

    def __init__(
        self,
        event_shape: Sequence[int],
        num_classes: int,
        filters: Sequence[int] = (32, 64),
        feature_dim: int = 128,
        dropout: float = 0.3,
        **kwargs,
    ):
        super().__init__(**kwargs)
        checks.int_at_least("num_classes", num_classes, 2)
        self.event_shape = tuple(int(d) for d in event_shape)
        self.num_classes = num_classes
        self.filters = tuple(int(f) for f in filters)
        self.feature_dim = int(feature_dim)
        self.dropout = float(dropout)
        layers = [keras.Input(self.event_shape)]
        for f in self.filters:
            layers += [
                keras.layers.Conv2D(f, 3, padding="same", activation="relu"),
                keras.layers.MaxPooling2D(2, padding="same"),
            ]
        layers += [keras.layers.Flatten(), keras.layers.Dense(self.feature_dim, activation="relu")]
        self.feature_net = keras.Sequential(layers, name="features")
        self.drop = keras.layers.Dropout(self.dropout)
        self.head = keras.layers.Dense(num_classes, name="logits")
        self.head.build((None, self.feature_dim))
        self.built = True

    def call(self, x, training: bool = False) -> tf.Tensor:
        """Class logits ``[B, num_classes]`` of images ``x`` in [0, 1]."""
        return self.head(self.drop(self.feature_net(x, training=training), training=training))

    def train_step(self, data):
        """Keras' train step with bfloat16 bias gradients summed in float32 (on CPU, TensorFlow's
        kernel sums them in bfloat16: see :mod:`tfgen.mixed_precision`)."""
        with float32_bias_gradients():  # the gradient functions are looked up while tracing
            return super().train_step(data)

    def features(self, x) -> tf.Tensor:
        """Penultimate-layer features ``[B, feature_dim]`` of images in [0, 1]."""
        return self.feature_net(tf.convert_to_tensor(x, tf.float32), training=False)

    def probabilities(self, x) -> tf.Tensor:
        """Class probabilities ``p(y | x)``, ``[B, num_classes]``, of images in [0, 1]."""
        return tf.nn.softmax(self(tf.convert_to_tensor(x, tf.float32), training=False))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            event_shape=list(self.event_shape),
            num_classes=self.num_classes,
            filters=list(self.filters),
            feature_dim=self.feature_dim,
            dropout=self.dropout,
        )
        return config


@dataclasses.dataclass(frozen=True)
class ClassifierConfig:
    """Everything that determines a cached classifier (its cache key).

    Attributes:
        filters: conv channels per block.
        feature_dim: feature layer width.
        dropout: dropout rate.
        epochs: training epochs over the train split.
        batch_size: training batch size.
        learning_rate: Adam learning rate.
        seed: seed of initialisation and data order.
    """

    filters: tuple[int, ...] = (32, 64)
    feature_dim: int = 128
    dropout: float = 0.3
    epochs: int = 5
    batch_size: int = 128
    learning_rate: float = 1e-3
    seed: int = 0

    def key(self, dataset: str) -> str:
        blob = json.dumps(dataclasses.asdict(self), sort_keys=True)
        return f"classifier_{dataset}_{hashlib.sha1(blob.encode()).hexdigest()[:10]}"


def cache_dir() -> pathlib.Path:
    """``$TFGEN_CACHE_DIR`` if set, else ``~/.cache/tfgen``."""
    return pathlib.Path(os.environ.get("TFGEN_CACHE_DIR") or pathlib.Path.home() / ".cache/tfgen")


def train_classifier(
    dataset: str, config: ClassifierConfig = ClassifierConfig(), verbose: int = 0
) -> tuple[ImageClassifier, dict]:
    """Trains an :class:`ImageClassifier` on ``dataset``'s train split (images in [0, 1]).

    Training is seeded from ``config.seed`` (``keras.utils.set_random_seed``), so the classifier
    is reproducible. Python's and NumPy's global random states are restored afterwards; the
    TensorFlow/Keras global seed stays set to ``config.seed``, so code that needs its own random
    stream should seed after calling this (or :func:`get_classifier`, which trains only when the
    cache is empty).

    Returns:
        ``(classifier, info)`` with ``info`` holding the dataset, the config and the test
        accuracy.
    """
    py_state, np_state = random.getstate(), np.random.get_state()
    keras.utils.set_random_seed(config.seed)
    try:
        return _train_seeded(dataset, config, verbose)
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)


def _train_seeded(dataset: str, config: ClassifierConfig, verbose: int):
    model = ImageClassifier(
        data.event_shape(dataset),
        data.num_classes(dataset),
        config.filters,
        config.feature_dim,
        config.dropout,
    )
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    train = data.load(dataset, "train", batch_size=config.batch_size, labels=True, seed=config.seed)
    test = data.load(dataset, "test", batch_size=500, labels=True)
    model.fit(train, epochs=config.epochs, verbose=verbose)
    accuracy = float(model.evaluate(test, verbose=0, return_dict=True)["accuracy"])
    info = {"dataset": dataset, "config": dataclasses.asdict(config), "test_accuracy": accuracy}
    return model, info


@contextlib.contextmanager
def _file_lock(path: pathlib.Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def get_classifier(
    dataset: str = "fashion_mnist",
    config: ClassifierConfig = ClassifierConfig(),
    directory: str | os.PathLike | None = None,
    verbose: int = 0,
) -> ImageClassifier:
    """The cached classifier of ``dataset`` (trained and cached on first use).

    The classifier's ``info`` attribute holds the dataset, config and test accuracy.

    Args:
        dataset: a ``tfgen.data`` dataset name.
        config: the training configuration (part of the cache key).
        directory: cache directory; default :func:`cache_dir`.
        verbose: Keras verbosity when training.

    Raises:
        ValueError: for an unknown ``dataset``.

    Example:
        >>> import tempfile
        >>> small = ClassifierConfig(filters=(8,), feature_dim=16, epochs=5, batch_size=32)
        >>> clf = get_classifier("synthetic", small, directory=tempfile.mkdtemp())
        >>> clf.info["test_accuracy"] > 0.5, clf.features(np.zeros([2, 8, 8, 1])).shape
        (True, TensorShape([2, 16]))
    """
    checks.one_of("dataset", dataset, data.DATASETS)
    root = pathlib.Path(directory) if directory is not None else cache_dir()
    stem = root / config.key(dataset)
    model_path, info_path = stem.with_suffix(".keras"), stem.with_suffix(".json")
    with _file_lock(stem.with_suffix(".lock")):
        if not (model_path.is_file() and info_path.is_file()):
            model, info = train_classifier(dataset, config, verbose=verbose)
            tmp = stem.with_suffix(".tmp.keras")
            model.save(tmp)
            os.replace(tmp, model_path)
            info_path.write_text(json.dumps(info, indent=2))
    model = keras.models.load_model(model_path, compile=False)
    model.info = json.loads(info_path.read_text())
    return model


def predict_in_batches(fn, images, batch_size: int = 500, value_range=(0.0, 1.0)) -> np.ndarray:
    """``fn`` applied to ``images`` rescaled from ``value_range`` to [0, 1], in batches (numpy)."""
    low, high = (float(v) for v in value_range)
    if not low < high:
        raise ValueError(f"value_range must be (low, high) with low < high; got {value_range!r}")
    images = np.asarray(images, np.float32)
    out = []
    for start in range(0, len(images), batch_size):
        batch = (images[start : start + batch_size] - low) / (high - low)
        out.append(np.asarray(fn(np.clip(batch, 0.0, 1.0))))
    return np.concatenate(out)


__all__ = [
    "ClassifierConfig",
    "ImageClassifier",
    "cache_dir",
    "get_classifier",
    "predict_in_batches",
    "train_classifier",
]
