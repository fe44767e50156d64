"""Sample quality of trained runs: Frechet Classifier Distance, classifier score, label accuracy.

All figures use the Fashion-MNIST classifier that tfgen trains and caches
(:func:`tfgen.classifier.get_classifier`, default config) and 10,000 images per set:

* ``FCD``: Frechet distance of the classifier's penultimate features to the real *test* split
  (lower is better). Floor: the real *train* split (first 10,000) against test.
* ``score``: ``exp(E KL(p(y|x) || p(y)))`` (inception-style, 1..10, higher is better). Reference:
  the real test split.
* ``label accuracy`` (conditional models): share of samples drawn with label y that the
  classifier assigns to y, labels 0..9 cycled (1,000 each). Ceiling: the classifier's accuracy
  on real test images.

Each run directory is a ``tfgen train`` work directory; its recipe's pixel range (``scale``) and
the preset's ``sample_kwargs`` are used. An untrained model of the first run's preset is
included as a reference unless ``--no-untrained``. Figures are merged into each run's
``metrics.json`` under ``"sample_quality"``.

Usage::

    python -m zoo.bench.gan_metrics runs/dcgan_small_fashion_mnist \
        runs/dcgan_conditional_fashion_mnist
"""

from __future__ import annotations

import argparse
import os

import numpy as np

NUM = 10_000


def real_reference(classifier, dataset: str = "fashion_mnist") -> dict:
    """The floors/ceilings: train vs test FCD, test-set score, classifier test accuracy."""
    from tfgen import data, metrics

    test, y_test = data.load_arrays(dataset, "test")
    train, _ = data.load_arrays(dataset, "train")
    test, train = test[:NUM] / np.float32(255), train[:NUM] / np.float32(255)
    return {
        "fcd": metrics.frechet_classifier_distance(test, train, classifier),
        "score": metrics.classifier_score(test, classifier),
        "label_accuracy": metrics.classifier_accuracy(test, y_test[:NUM], classifier),
    }


def model_quality(model, classifier, test_features, value_range, sample_kwargs, seed=0) -> dict:
    """FCD to the test features, classifier score and (conditional) label accuracy of samples."""
    from tfgen import callbacks, metrics

    labels = np.arange(NUM, dtype=np.int32) % model.num_classes if model.conditional else None
    chunks = []
    for i in range(NUM // 1000):  # 1,000 at a time bounds memory
        kwargs = dict(sample_kwargs)
        if labels is not None:
            kwargs["labels"] = labels[i * 1000 : (i + 1) * 1000]
        chunks.append(callbacks.sample_images(model, 1000, seed + i, **kwargs))
    images = np.concatenate(chunks)
    features = metrics.classifier_features(images, classifier, value_range)
    result = {
        "fcd": metrics.frechet_distance(test_features, features),
        "score": metrics.classifier_score(images, classifier, value_range),
    }
    if model.conditional:
        result["label_accuracy"] = metrics.classifier_accuracy(
            images, labels, classifier, value_range
        )
    return result


def main(argv: list[str] | None = None) -> dict:
    """Prints the table of the real reference and each run; merges each run's figures."""
    parser = argparse.ArgumentParser(
        prog="python -m zoo.bench.gan_metrics", description=__doc__.split("\n")[0]
    )
    parser.add_argument("workdirs", nargs="*", help="tfgen train work directories")
    parser.add_argument("--no-untrained", action="store_true", help="skip the untrained model")
    args = parser.parse_args(argv)
    from tfgen import data, metrics
    from tfgen.classifier import get_classifier
    from zoo import presets
    from zoo import train as runner

    classifier = get_classifier("fashion_mnist")
    test = data.load_arrays("fashion_mnist", "test")[0][:NUM] / np.float32(255)
    test_features = metrics.classifier_features(test, classifier)
    rows = {"real train split (floor)": real_reference(classifier)}
    print(f"classifier test accuracy {classifier.info['test_accuracy']:.4f}; {NUM} images per set")
    print(f"{'images':<44} {'FCD':>8} {'score':>7} {'label acc':>10}")

    def show(name, r):
        acc = f"{r['label_accuracy']:.4f}" if "label_accuracy" in r else "-"
        print(f"{name:<44} {r['fcd']:>8.3f} {r['score']:>7.3f} {acc:>10}", flush=True)

    show("real train split (floor)", rows["real train split (floor)"])
    for i, workdir in enumerate(args.workdirs):
        run = runner.read_run(workdir)
        preset = presets.get(run["preset"])
        scale = tuple(run["train"]["scale"])
        if i == 0 and not args.no_untrained:
            untrained = presets.build(preset)
            name = f"untrained {preset.name}"
            rows[name] = model_quality(
                untrained, classifier, test_features, scale, preset.sample_kwargs
            )
            show(name, rows[name])
        model = runner.load(workdir)
        result = model_quality(model, classifier, test_features, scale, preset.sample_kwargs)
        rows[workdir] = result
        show(f"{preset.name} ({os.path.basename(workdir)})", result)
        reference = rows["real train split (floor)"]
        runner.merge_metrics(
            workdir,
            "sample_quality",
            {**result, "num_samples": NUM, "classifier": classifier.info, "reference": reference},
        )
    return rows


if __name__ == "__main__":
    main()
