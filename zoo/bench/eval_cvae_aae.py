"""Figures of the CVAE and AAE presets that `tfgen evaluate` does not give (zoo/RESULTS.md).

Loads the trained work directories under RUNS_DIR (made by ``tfgen train <preset> --workdir
RUNS_DIR/<preset>``) and prints, and writes to ``RUNS_DIR/verify_<parts>.json``: the classifier
accuracy of conditional CVAE samples and of the binarized real test set, the CVAE's IWAE (k=100)
log-likelihood with right vs wrong labels, the supervised AAE's share of codes in their class's
component and its samples' class accuracy, and the prior match of the mixture/Gaussian AAEs.

Run from the repository root::

    python -m zoo.eval_cvae_aae RUNS_DIR [cvae] [sup] [mog] [gauss]
"""

import json
import sys

import numpy as np
import tensorflow as tf

import tfgen
from zoo import train as runner

R = sys.argv[1] if len(sys.argv) > 1 else "runs"
x, y = tfgen.data.load_arrays("fashion_mnist", "test")
x = (x / 255.0 > 0.5).astype(np.float32)
out = {}
clf_real = tfgen.metrics.classifier_accuracy(x, y)
out["classifier_accuracy_binarized_test"] = clf_real

which = sys.argv[2:] or ["cvae", "sup", "mog", "gauss"]
if "cvae" in which:
    m = runner.load(f"{R}/cvae_small_fashion_mnist")
    labels = np.repeat(np.arange(10), 1000)
    s = np.concatenate(
        [
            m.sample(1000, seed=c, labels=labels[c * 1000 : (c + 1) * 1000], mean=True).numpy()
            for c in range(10)
        ]
    )
    out["cvae_sample_accuracy_mean"] = tfgen.metrics.classifier_accuracy(s, labels)
    s2 = np.concatenate(
        [
            m.sample(1000, seed=c, labels=labels[c * 1000 : (c + 1) * 1000]).numpy()
            for c in range(10)
        ]
    )
    out["cvae_sample_accuracy_bernoulli_draws"] = tfgen.metrics.classifier_accuracy(s2, labels)
    codes = np.concatenate(
        [m.encode(x[i : i + 1000], y[i : i + 1000]).mean().numpy() for i in range(0, 10000, 1000)]
    )
    half = 5000
    cen = np.stack([codes[:half][y[:half] == c].mean(0) for c in range(10)])
    out["cvae_class_from_code"] = float(
        np.mean(np.argmin(((codes[half:, None] - cen[None]) ** 2).sum(-1), 1) == y[half:])
    )
    lp = tf.function(lambda a, b: m.log_prob(a, b, num_samples=100, seed=0))
    right = np.concatenate(
        [lp(x[i : i + 100], y[i : i + 100]).numpy() for i in range(0, 2000, 100)]
    )
    wrong = np.concatenate(
        [lp(x[i : i + 100], (y[i : i + 100] + 1) % 10).numpy() for i in range(0, 2000, 100)]
    )
    out["cvae_iwae100_right_2000"] = float(right.mean())
    out["cvae_iwae100_wrong_2000"] = float(wrong.mean())
    out["cvae_right_gt_wrong_frac"] = float(np.mean(right > wrong))
if "sup" in which:
    m = runner.load(f"{R}/aae_supervised_fashion_mnist")
    codes = np.concatenate(
        [m.encode(x[i : i + 1000]).mean().numpy() for i in range(0, 10000, 1000)]
    )
    loc = m.prior_layer.loc.numpy()
    out["sup_codes_in_own_component"] = float(
        np.mean(np.argmin(((codes[:, None] - loc[None]) ** 2).sum(-1), 1) == y)
    )
    labels = np.repeat(np.arange(10), 1000)
    s = m.sample(10000, seed=1, labels=labels, mean=True).numpy()
    out["sup_sample_accuracy_mean"] = tfgen.metrics.classifier_accuracy(s, labels)
    np.save(f"{R}/sup_codes.npy", codes)
for key, name in (("mog", "aae_mog_fashion_mnist"), ("gauss", "aae_gaussian_fashion_mnist")):
    if key in which:
        from zoo.bench_aae import prior_match

        m = runner.load(f"{R}/{name}")
        codes = np.concatenate(
            [m.encode(x[i : i + 1000]).mean().numpy() for i in range(0, 10000, 1000)]
        )
        out[f"{key}_prior_match"] = (
            prior_match(codes, m.prior)
            if key == "mog"
            else {
                "mmd": float(
                    np.mean(
                        [
                            float(
                                tfgen.models.aae.mmd(
                                    codes[i : i + 2000], m.prior.sample(2000, seed=(0, i)).numpy()
                                )
                            )
                            for i in range(0, 10000, 2000)
                        ]
                    )
                )
            }
        )
print(json.dumps(out, indent=1))
json.dump(out, open(f"{R}/verify_{'_'.join(which)}.json", "w"), indent=1)
