"""Autoencoder benchmarks on Fashion-MNIST: presets, PCA, denoising, sparsity, greedy layer-wise
training, few-label pretraining, and autoencoder vs VAE interpolation.

Each part prints one JSON line per result (the figures of zoo/RESULTS.md, "Autoencoders"):

* ``presets``: trains each autoencoder preset for its recipe (``zoo.build``, ``fit``), saves it
  in ``WORKDIR/<preset>.keras`` and reports the test ``reconstruction`` (mean per-pixel BCE),
  the test MSE of ``reconstruct`` and the training time.
* ``pca``: principal angles between a linear autoencoder's decoder subspace and PCA's top-k.
* ``denoising``: MSE / PSNR against the clean test images of the stacked and the denoising
  presets' reconstructions of the test images with the training noise added (needs
  ``presets`` first).
* ``sparsity``: mean code activation with and without the KL penalty (sigmoid codes).
* ``greedy``: greedy layer-wise pretraining plus fine-tuning against joint training of the
  same stack, same total epochs: test reconstruction and time.
* ``fewlabel``: classifiers (``--classifier-steps`` Adam steps, batch 32) on 100 / 500 / 1,000
  labelled images; encoder of the stacked preset
  (pretrained on all 60,000 training images, labels unused) frozen or fine-tuned, against the
  same network from scratch; mean and standard deviation of test accuracy over ``--seeds``.
* ``interpolation``: a convolutional autoencoder and a VAE of the same latent size and
  architecture on binarized Fashion-MNIST: top-class confidence of tfgen's Fashion-MNIST
  classifier on decoded midpoints of test pairs and on decoded N(0, I) codes, and the Frechet
  classifier distance of decoded N(0, I) codes to the test set.

Run ``python -m zoo.bench.autoencoder presets denoising fewlabel`` etc.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

PRESET_NAMES = [
    "autoencoder_stacked_fashion_mnist",
    "autoencoder_tied_fashion_mnist",
    "autoencoder_denoising_fashion_mnist",
    "autoencoder_sparse_fashion_mnist",
    "autoencoder_conv_fashion_mnist",
    "autoencoder_recurrent_fashion_mnist",
]


def _report(**values) -> None:
    print(json.dumps(values), flush=True)


def _fashion(split: str, binarize: bool = False):
    from tfgen import data

    x, y = data.load_arrays("fashion_mnist", split)
    x = x.astype(np.float32) / 255.0
    return ((x > 0.5).astype(np.float32) if binarize else x), y


def _in_batches(fn, x, batch_size: int = 1000) -> np.ndarray:
    chunks = range(0, len(x), batch_size)
    return np.concatenate([np.asarray(fn(x[i : i + batch_size])) for i in chunks])


def presets(names, workdir: str, epochs: int | None) -> None:
    import zoo
    from tfgen import data

    os.makedirs(workdir, exist_ok=True)
    test_x, _ = _fashion("test")
    for name in names:
        preset = zoo.get(name)
        if epochs is not None:
            preset = preset.with_train(epochs=epochs)
        recipe = preset.train
        model = zoo.build(preset)
        kwargs = dict(binarize=recipe.binarize, seed=recipe.seed)
        train = data.load(recipe.dataset, "train", batch_size=recipe.batch_size, **kwargs)
        test = data.load(recipe.dataset, "test", batch_size=recipe.eval_batch_size, **kwargs)
        start = time.perf_counter()
        model.fit(train, epochs=recipe.epochs, verbose=0)
        seconds = time.perf_counter() - start
        model.save(os.path.join(workdir, f"{name}.keras"))
        logs = model.evaluate(test, verbose=0, return_dict=True)
        mse = float(np.mean((_in_batches(model.reconstruct, test_x) - test_x) ** 2))
        _report(
            part="presets",
            preset=name,
            epochs=recipe.epochs,
            train_minutes=round(seconds / 60, 2),
            test_reconstruction_bce=round(logs["reconstruction"], 4),
            test_mse=round(mse, 5),
            **({"test_sparsity": round(logs["sparsity"], 4)} if "sparsity" in logs else {}),
        )


def pca(k: int, steps: int) -> None:
    import keras
    import tensorflow as tf
    from scipy.linalg import subspace_angles
    from sklearn.decomposition import PCA

    from tfgen.models import Autoencoder

    x, _ = _fashion("train")
    flat = x.reshape(len(x), -1)
    centred = (flat - flat.mean(0)).reshape(x.shape)
    keras.utils.set_random_seed(0)
    ae = Autoencoder(hidden_units=(), latent_dim=k, activation="linear", output="mse", seed=0)
    ae.compile(keras.optimizers.Adam(1e-2), steps_per_execution=100)
    ds = tf.data.Dataset.from_tensor_slices(centred).shuffle(60000, seed=0).repeat().batch(1000)
    ae.fit(ds, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False)
    components = PCA(k, random_state=0).fit(centred.reshape(len(x), -1)).components_
    angles = np.degrees(subspace_angles(ae.decoder_layers[0].kernel.numpy().T, components.T))
    _report(part="pca", k=k, steps=steps, max_angle_degrees=round(float(angles.max()), 3))


def denoising(workdir: str) -> None:
    import keras

    test_x, _ = _fashion("test")
    models = {
        kind: keras.models.load_model(
            os.path.join(workdir, f"autoencoder_{kind}_fashion_mnist.keras")
        )
        for kind in ("stacked", "denoising")
    }
    noisy = np.asarray(models["denoising"].corrupt(test_x, seed=1))
    for kind, model in models.items():
        for inputs, label in ((noisy, "noisy"), (test_x, "clean")):
            mse = float(np.mean((_in_batches(model.reconstruct, inputs) - test_x) ** 2))
            _report(
                part="denoising",
                model=kind,
                inputs=label,
                test_mse=round(mse, 5),
                psnr_db=round(float(10 * np.log10(1.0 / mse)), 2),
            )


def _fit_arrays(model, x, epochs: int, batch_size: int = 128, seed: int = 0) -> float:
    import keras

    keras.utils.set_random_seed(seed)
    start = time.perf_counter()
    model.fit(x, epochs=epochs, batch_size=batch_size, verbose=0)
    return time.perf_counter() - start


def sparsity(epochs: int) -> None:
    from tfgen.models import Autoencoder

    x, _ = _fashion("train")
    test_x, _ = _fashion("test")
    for penalty in (None, "kl"):
        ae = Autoencoder(
            hidden_units=(256,),
            latent_dim=128,
            code_activation="sigmoid",
            sparsity=penalty,
            sparsity_target=0.1,
            sparsity_weight=0.1,
            seed=0,
        )
        ae.compile()
        _fit_arrays(ae, x, epochs)
        means = _in_batches(ae.encode, test_x).mean(0)
        _report(
            part="sparsity",
            sparsity=penalty,
            epochs=epochs,
            target=0.1,
            mean_activation=round(float(means.mean()), 4),
            unit_mean_range=[round(float(means.min()), 4), round(float(means.max()), 4)],
        )


def greedy(epochs_per_layer: int, fine_tune_epochs: int) -> None:
    from tfgen.models import Autoencoder, greedy_layerwise

    x, _ = _fashion("train")
    test_x, _ = _fashion("test")
    config = dict(hidden_units=(256, 128), latent_dim=32, seed=0)
    levels = len(config["hidden_units"]) + 1
    total = levels * epochs_per_layer + fine_tune_epochs
    stacked = Autoencoder(**config)
    start = time.perf_counter()
    greedy_layerwise(stacked, x, epochs_per_layer=epochs_per_layer)
    greedy_seconds = time.perf_counter() - start
    stacked.compile()
    before = stacked.evaluate(test_x, verbose=0, return_dict=True)["reconstruction"]
    seconds = greedy_seconds + _fit_arrays(stacked, x, fine_tune_epochs)
    after = stacked.evaluate(test_x, verbose=0, return_dict=True)["reconstruction"]
    joint = Autoencoder(**config)
    joint.compile()
    joint_seconds = _fit_arrays(joint, x, total)
    joint_error = joint.evaluate(test_x, verbose=0, return_dict=True)["reconstruction"]
    _report(
        part="greedy",
        epochs_per_layer=epochs_per_layer,
        fine_tune_epochs=fine_tune_epochs,
        greedy_only_bce=round(before, 4),
        greedy_fine_tuned_bce=round(after, 4),
        greedy_minutes=round(seconds / 60, 2),
        joint_epochs=total,
        joint_bce=round(joint_error, 4),
        joint_minutes=round(joint_seconds / 60, 2),
    )


def fewlabel(workdir: str, sizes, seeds, steps: int) -> None:
    import keras

    x, y = _fashion("train")
    test_x, test_y = _fashion("test")
    path = os.path.join(workdir, "autoencoder_stacked_fashion_mnist.keras")
    for n in sizes:
        for mode in ("frozen", "fine-tuned", "scratch"):
            accuracies = []
            for seed in seeds:
                idx = np.random.default_rng(seed).permutation(len(x))[:n]
                keras.utils.set_random_seed(seed)
                pretrained = keras.models.load_model(path)
                encoder = pretrained.encoder
                if mode == "scratch":  # the same network, freshly initialised
                    encoder = keras.models.clone_model(encoder)
                encoder.trainable = mode != "frozen"
                clf = keras.Sequential([encoder, keras.layers.Dense(10)])
                clf.compile(
                    keras.optimizers.Adam(1e-3),
                    metrics=["accuracy"],
                    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                )
                epochs = int(np.ceil(steps / np.ceil(n / 32)))  # the same steps for every n
                clf.fit(x[idx], y[idx], batch_size=32, epochs=epochs, verbose=0)
                accuracies.append(clf.evaluate(test_x, test_y, verbose=0)[1])
            _report(
                part="fewlabel",
                labels=n,
                mode=mode,
                seeds=len(seeds),
                mean_accuracy=round(float(np.mean(accuracies)), 4),
                std_accuracy=round(float(np.std(accuracies)), 4),
            )


def _code_and_image(model):
    """``(x -> codes, codes -> images in [0, 1])`` of an autoencoder or a VAE (posterior mean,
    decoder mean)."""
    import tensorflow as tf

    if hasattr(model, "image_likelihood"):
        return (
            lambda v: model.encode(v).mean(),
            lambda c: model.image_likelihood.mean(model.decoder_outputs(c)),
        )
    return model.encode, lambda c: tf.sigmoid(model.decode(c))


def interpolation(latent_dim: int, epochs: int, pairs: int) -> None:
    from tfgen import metrics
    from tfgen.models import VAE, ConvAutoencoder

    x, _ = _fashion("train", binarize=True)
    test_x, test_y = _fashion("test", binarize=True)
    rng = np.random.default_rng(0)
    a = rng.integers(0, len(test_x), pairs)
    b = np.array([rng.choice(np.flatnonzero(test_y != test_y[i])) for i in a])  # other class
    z = rng.standard_normal([2000, latent_dim]).astype(np.float32)

    def confidence(images):
        return round(float(metrics.classifier_probabilities(images).max(1).mean()), 4)

    for name, cls in (("autoencoder", ConvAutoencoder), ("vae", VAE)):
        model = cls(latent_dim=latent_dim, seed=0)  # both: stride-2 convolutions 32-64
        model.compile()
        seconds = _fit_arrays(model, x, epochs)
        code, image = _code_and_image(model)
        ends = np.asarray(code(test_x[a])), np.asarray(code(test_x[b]))
        random = _in_batches(image, z)
        _report(
            part="interpolation",
            model=name,
            latent_dim=latent_dim,
            epochs=epochs,
            train_minutes=round(seconds / 60, 2),
            midpoint_confidence=confidence(_in_batches(image, 0.5 * (ends[0] + ends[1]))),
            end_confidence=confidence(_in_batches(image, ends[0])),
            random_code_confidence=confidence(random),
            random_code_fcd=round(metrics.frechet_classifier_distance(test_x[:2000], random), 2),
        )


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m zoo.bench.autoencoder PART [PART ...] [options]``."""
    parser = argparse.ArgumentParser(
        prog="python -m zoo.bench.autoencoder", description=__doc__.split("\n\n")[0]
    )
    parts = ["presets", "pca", "denoising", "sparsity", "greedy", "fewlabel", "interpolation"]
    parser.add_argument("parts", nargs="+", choices=parts)
    parser.add_argument("--workdir", default="runs/bench_autoencoder", help="trained presets")
    parser.add_argument("--presets", nargs="+", default=PRESET_NAMES, help="presets to train")
    parser.add_argument("--epochs", type=int, default=None, help="override preset epochs")
    parser.add_argument("--k", type=int, default=5, help="PCA components")
    parser.add_argument("--pca-steps", type=int, default=3000)
    parser.add_argument("--sparsity-epochs", type=int, default=5)
    parser.add_argument("--epochs-per-layer", type=int, default=2)
    parser.add_argument("--fine-tune-epochs", type=int, default=4)
    parser.add_argument("--labels", type=int, nargs="+", default=[100, 500, 1000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--classifier-steps", type=int, default=500)
    parser.add_argument("--latent-dim", type=int, default=16)
    parser.add_argument("--interpolation-epochs", type=int, default=5)
    parser.add_argument("--pairs", type=int, default=500)
    args = parser.parse_args(argv)
    for part in args.parts:
        if part == "presets":
            presets(args.presets, args.workdir, args.epochs)
        elif part == "pca":
            pca(args.k, args.pca_steps)
        elif part == "denoising":
            denoising(args.workdir)
        elif part == "sparsity":
            sparsity(args.sparsity_epochs)
        elif part == "greedy":
            greedy(args.epochs_per_layer, args.fine_tune_epochs)
        elif part == "fewlabel":
            fewlabel(args.workdir, args.labels, args.seeds, args.classifier_steps)
        else:
            interpolation(args.latent_dim, args.interpolation_epochs, args.pairs)


if __name__ == "__main__":
    main()
