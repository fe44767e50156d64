"""Models of the anomaly benchmark (``zoo.bench.anomaly``): trained once, cached as ``.keras``.

Three variants per preset: ``in`` (Fashion-MNIST train), ``background`` (the same data mutated
as Ren et al., L2-penalised, for the likelihood ratio) and ``novelty`` (Fashion-MNIST without one
class). The ``in`` model is the preset's shipped trained model (``zoo.load``) when it has one
and the benchmark keeps its recipe;
otherwise, and for the other variants, the preset is trained for a stated number of epochs (its
cosine schedule shortened to them) under a time budget, on the dynamic binarization protocol for
binary models (grey levels for the 8-bit ones). Files already in the cache are loaded, not
retrained.
"""

from __future__ import annotations

import json
import os
import time

import numpy as np

# key: (preset, epochs, budget minutes, model overrides, recipe overrides)
MODELS = {
    "nade": ("nade_fast_binarized_fashion_mnist", 3, 3.0, {}, {}),
    "pixelcnn": ("pixelcnn_small_binarized_fashion_mnist", 2, 5.0, {}, {}),
    "vae": (
        "vae_fast_fashion_mnist",
        4,
        2.0,
        {"float32_output_layer": True},
        {"binarize": "dynamic", "mixed_precision": None},
    ),
    "rnade": ("rnade_small_fashion_mnist", 3, 3.0, {}, {}),
    "pixelcnn8": ("pixelcnn_small_8bit_fashion_mnist", 1, 5.0, {}, {}),
    "pixelrnn": ("pixelrnn_row_lstm_binarized_fashion_mnist", 1, 8.0, {}, {}),
}
VARIANTS = ("in", "background", "novelty")
MUTATION_RATE, L2, HELD_OUT = 0.2, 1e-4, 9


def preset_for(key: str):
    """The benchmark's version of a model's preset (epochs and recipe overrides applied)."""
    import zoo

    name, epochs, minutes, _, recipe = MODELS[key]
    return zoo.get(name).with_train(epochs=epochs, max_minutes=minutes, **recipe)


def _train_dataset(x_uint8: np.ndarray, recipe, rate: float | None):
    import tensorflow as tf

    from tfgen.anomaly import mutated_dataset

    n = len(x_uint8)
    x_all = tf.constant(x_uint8)
    ds = tf.data.Dataset.range(n).shuffle(n, seed=recipe.seed, reshuffle_each_iteration=True)
    seeds = tf.data.Dataset.random(seed=recipe.seed, rerandomize_each_iteration=True).batch(2)

    def gather(idx, seed):
        x = tf.cast(tf.gather(x_all, idx), tf.float32) / 255.0
        if recipe.binarize == "dynamic":
            u = tf.random.stateless_uniform(tf.shape(x), seed=tf.cast(seed % (2**31 - 1), tf.int32))
            x = tf.cast(u < x, tf.float32)
        return x

    ds = tf.data.Dataset.zip((ds.batch(recipe.batch_size, drop_remainder=True), seeds))
    ds = ds.map(gather, num_parallel_calls=2).prefetch(2)
    if rate is not None:
        alphabet = "binary" if recipe.binarize else "levels"
        ds = mutated_dataset(ds, rate, alphabet=alphabet, seed=recipe.seed + 1)
    return ds


def train_variant(
    key: str,
    variant: str,
    path: str,
    minutes_scale: float = 1.0,
    rate: float = MUTATION_RATE,
    l2: float = L2,
) -> dict:
    """Trains one model variant, saves it to ``path`` and returns its training record."""
    import keras

    import zoo
    from tfgen import data
    from tfgen.anomaly import add_l2_penalty
    from tfgen.callbacks import TimeBudget, atomic_path
    from tfgen.ood_data import held_out_class

    preset = preset_for(key)
    recipe = preset.train
    model = zoo.build(preset, **MODELS[key][3])
    if variant == "novelty":
        x, _, _ = held_out_class("fashion_mnist", "train", HELD_OUT)
    else:
        x, _ = data.load_arrays("fashion_mnist", "train")
    if variant == "background" and l2:
        add_l2_penalty(model, l2)
    budget = TimeBudget(recipe.max_minutes * minutes_scale)
    start = time.perf_counter()
    history = model.fit(
        _train_dataset(x, recipe, rate if variant == "background" else None),
        epochs=recipe.epochs,
        callbacks=[budget],
        verbose=2,
    )
    seconds = time.perf_counter() - start
    with atomic_path(path) as tmp:
        model.save(tmp)
    keras.backend.clear_session()
    return {
        "preset": preset.name,
        "variant": variant,
        "epochs_planned": recipe.epochs,
        "epochs": len(history.history.get("loss", [])),
        "stopped_by": "budget" if budget.stopped else "epochs",
        "train_minutes": round(seconds / 60, 2),
        "final_train_loss": round(float(history.history["loss"][-1]), 3),
        "protocol": recipe.binarize or "8-bit",
        **({"mutation_rate": rate, "l2": l2} if variant == "background" else {}),
    }


def variant_name(key: str, variant: str, rate: float = MUTATION_RATE, l2: float = L2) -> str:
    """The cache name of a variant (background models with other settings are kept apart)."""
    if variant == "background" and (rate, l2) != (MUTATION_RATE, L2):
        return f"{key}_background_rate{rate:g}_l2{l2:g}"
    return f"{key}_{variant}"


def get_models(
    key: str,
    cache: str,
    variants=VARIANTS,
    minutes_scale: float = 1.0,
    rate: float = MUTATION_RATE,
    l2: float = L2,
) -> dict:
    """``{variant: model}`` for ``key``, trained into ``cache`` on first use; the training
    records are kept in ``cache/training.json``."""
    import keras

    import tfgen  # noqa: F401  (registers the classes for load_model)
    from tfgen.callbacks import write_json

    os.makedirs(cache, exist_ok=True)
    record_path = os.path.join(cache, "training.json")
    records = json.load(open(record_path)) if os.path.exists(record_path) else {}
    out = {}
    for variant in variants:
        if variant == "in" and shipped_record(key):
            from zoo import pretrained

            out[variant] = pretrained.load(MODELS[key][0])
            continue
        name = variant_name(key, variant, rate, l2)
        path = os.path.join(cache, f"{name}.keras")
        if not os.path.exists(path):
            print(f"training {name}", flush=True)
            records[name] = train_variant(key, variant, path, minutes_scale, rate, l2)
            write_json(record_path, records)
        out[variant] = keras.models.load_model(path)
    return out


def shipped_record(key: str) -> dict | None:
    """The record of the preset's shipped weights (``zoo/results``); None when it has none or
    the benchmark changes the preset's model or recipe (its ``in`` model is then trained)."""
    from zoo import pretrained, records

    name, _, _, model_changes, recipe_changes = MODELS[key]
    if model_changes or recipe_changes or name not in pretrained.shipped():
        return None
    return records.read_record(name)


def training_records(cache: str) -> dict:
    """The training records of the benchmark's models: the cached ones', and for a shipped
    ``in`` model its record's training (``{}`` when none)."""
    path = os.path.join(cache, "training.json")
    out = json.load(open(path)) if os.path.exists(path) else {}
    for key in MODELS:
        record = shipped_record(key)
        if record:
            training = record["training"]
            out[f"{key}_in"] = {
                "preset": record["preset"],
                "variant": "in",
                "shipped": True,
                "epochs": training["epochs"],
                "stopped_by": training["stopped_by"],
                "train_minutes": round(training["seconds"] / 60, 2),
            }
    return out
