"""Figures of the CVAE and AAE presets that ``tfgen evaluate`` does not give (zoo/RESULTS.md).

Loads the trained work directories ``RUNS_DIR/<preset>`` (made by ``tfgen train <preset>
--workdir RUNS_DIR/<preset>``), prints a JSON object and writes it to
``RUNS_DIR/eval_cvae_aae_<parts>.json``. Parts:

* ``cvae``: classifier accuracy of conditional samples (decoder means and Bernoulli draws,
  1,000 per class), the IWAE (k=100) log-likelihood of the first 2,000 test images with the
  right and with a wrong label, and how well a nearest-class-mean rule reads the class from
  the 2-D code.
* ``sup``: the supervised AAE's share of test codes nearest their own class's component and
  the class accuracy of its samples.
* ``mog``, ``gauss``: the prior match of the mixture and N(0, I) AAEs' test codes.

Every part also reports the classifier's accuracy on the binarized real test set (the ceiling).

Usage::

    python -m zoo.bench.eval_cvae_aae runs cvae sup mog gauss
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np

from zoo.bench.common import encode_means, prior_match, static_binarized_test_set

PARTS = {
    "cvae": "cvae_small_fashion_mnist",
    "sup": "aae_supervised_fashion_mnist",
    "mog": "aae_mog_fashion_mnist",
    "gauss": "aae_gaussian_fashion_mnist",
}


def per_class_samples(model, per_class: int = 1000, mean: bool = True):
    """``per_class`` samples of each class 0..9, seed ``c`` for class ``c``; and their labels."""
    labels = np.repeat(np.arange(10), per_class)
    images = [
        model.sample(per_class, seed=c, labels=labels[labels == c], mean=mean).numpy()
        for c in range(10)
    ]
    return np.concatenate(images), labels


def cvae_figures(model, x: np.ndarray, y: np.ndarray, num_iwae: int = 2000) -> dict:
    """Sample class accuracy, right- vs wrong-label IWAE log p(x | y) and class-from-code."""
    import tensorflow as tf

    import tfgen

    out = {}
    for name, mean in (("mean", True), ("bernoulli_draws", False)):
        images, labels = per_class_samples(model, mean=mean)
        out[f"cvae_sample_accuracy_{name}"] = tfgen.metrics.classifier_accuracy(images, labels)
    codes = encode_means(model, x, y)
    half = len(x) // 2
    centers = np.stack([codes[:half][y[:half] == c].mean(0) for c in range(10)])
    nearest = np.argmin(((codes[half:, None] - centers[None]) ** 2).sum(-1), 1)
    out["cvae_class_from_code"] = float(np.mean(nearest == y[half:]))
    log_prob = tf.function(lambda a, b: model.log_prob(a, b, importance_samples=100, seed=0))
    batches = range(0, num_iwae, 100)
    right = np.concatenate([log_prob(x[i : i + 100], y[i : i + 100]).numpy() for i in batches])
    wrong = np.concatenate(
        [log_prob(x[i : i + 100], (y[i : i + 100] + 1) % 10).numpy() for i in batches]
    )
    out[f"cvae_iwae100_right_{num_iwae}"] = float(right.mean())
    out[f"cvae_iwae100_wrong_{num_iwae}"] = float(wrong.mean())
    out["cvae_right_gt_wrong_frac"] = float(np.mean(right > wrong))
    return out


def supervised_aae_figures(model, x: np.ndarray, y: np.ndarray, seed: int = 1) -> dict:
    """Share of test codes in their class's component; class accuracy of as many samples
    (``zoo.prior_figures.supervised_prior_figures``: what ``tfgen evaluate`` reports)."""
    from zoo.prior_figures import supervised_prior_figures

    figures = supervised_prior_figures(model, encode_means(model, x), y, "fashion_mnist", seed=seed)
    return {
        "sup_codes_in_own_component": figures["codes_in_own_component"],
        "sup_sample_accuracy_mean": figures["sample_class_accuracy"],
    }


def gaussian_prior_mmd(codes: np.ndarray, prior, size: int = 2000) -> float:
    """Mean unbiased MMD^2 of disjoint ``size``-code subsets against as many prior draws."""
    from tfgen.models.aae import mmd

    return float(
        np.mean(
            [
                float(mmd(codes[i : i + size], prior.sample(size, seed=(0, i)).numpy()))
                for i in range(0, len(codes), size)
            ]
        )
    )


def main(argv: list[str] | None = None) -> dict:
    """Evaluates the requested parts, prints and writes the figures, and returns them."""
    parser = argparse.ArgumentParser(
        prog="python -m zoo.bench.eval_cvae_aae", description=__doc__.split("\n")[0]
    )
    parser.add_argument("runs_dir", help="directory holding the presets' work directories")
    parser.add_argument("parts", nargs="*", metavar="PART", help=f"{', '.join(PARTS)} (all)")
    args = parser.parse_args(argv)
    parts = args.parts or list(PARTS)
    if set(parts) - set(PARTS):
        parser.error(f"parts must be among {list(PARTS)}; got {parts}")
    import tfgen
    from zoo import train as runner

    x, y = static_binarized_test_set()
    out = {"classifier_accuracy_binarized_test": tfgen.metrics.classifier_accuracy(x, y)}
    for part in parts:
        model = runner.load(os.path.join(args.runs_dir, PARTS[part]))
        if part == "cvae":
            out.update(cvae_figures(model, x, y))
        elif part == "sup":
            out.update(supervised_aae_figures(model, x, y))
        elif part == "mog":
            out["mog_prior_match"] = prior_match(encode_means(model, x), model.prior_distribution)
        else:
            mmd = gaussian_prior_mmd(encode_means(model, x), model.prior_distribution)
            out["gauss_prior_match"] = {"mmd": mmd}
    print(json.dumps(out, indent=1))
    with open(os.path.join(args.runs_dir, f"eval_cvae_aae_{'_'.join(parts)}.json"), "w") as f:
        json.dump(out, f, indent=1)
    return out


if __name__ == "__main__":
    main()
