"""Benchmark: does the aggregated posterior match a mixture prior? AAE vs a VAE, same prior.

The adversarial autoencoder's point (Makhzani et al. 2016): a discriminator on codes pushes the
aggregated posterior ``q(z) = E_x q(z | x)`` towards ``p(z)`` as a whole, whereas a VAE's KL term
only pulls each ``q(z | x)`` towards ``p(z)`` and trades that against reconstruction. Both
models here have the same 2-D prior, fixed (not learnt): 10 Gaussians (scale 0.5) evenly spaced on
a circle of radius 4, the ``aae_mog_fashion_mnist`` preset's. Both use the TF tutorial's conv
encoder/decoder, a Bernoulli likelihood on statically binarized Fashion-MNIST, batch 128, the same
number of epochs, trained one after the other in this process.

Measured on the test codes (AAE: ``f(x)``; VAE: one draw ``z ~ q(z | x)`` per image, a sample of
the aggregated posterior) against as many prior draws:

* ``mmd``: unbiased MMD^2 (``tfgen.models.aae.mmd``, Gaussian kernels of widths 0.25..4), mean and
  spread over 5 disjoint subsets of 2,000 codes. 0 when matched.
* ``in_hdr95``: fraction of codes inside the prior's 95% highest-density region (0.95 when matched).
* ``occupancy_kl``: KL(component occupancy || uniform) in nats, each code assigned to its most
  probable component (0 when every component receives a tenth of the codes).
* ``reconstruction``: test ``-log p(x | z)`` in nats per image at the codes above.

Usage::

    python -m zoo.bench.aae --epochs 10 --out zoo/figures/aae_vs_vae_mog_codes.png
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from zoo.bench.common import prior_match, static_binarized_test_set

PRESET = "aae_mog_fashion_mnist"


def fixed_prior_vae(aae, seed: int = 0):
    """A ``tfgen.models.VAE`` with the AAE's network shapes and its mixture prior, frozen.

    The VAE's learnable mixture prior is overwritten with the AAE prior's logits, means and
    scales and made non-trainable, so both models are judged against the same ``p(z)``.

    Args:
        aae: an ``AdversarialAutoencoder`` with ``prior="mixture"``.
        seed: seed of the VAE's initial weights.

    Returns:
        The uncompiled VAE.
    """
    import keras

    import tfgen

    keras.utils.set_random_seed(seed)
    vae = tfgen.models.VAE(
        event_shape=aae.event_shape,
        latent_dim=aae.latent_dim,
        prior="mixture",
        prior_components=aae.prior_components,
        encoder_filters=aae.encoder_filters,
        decoder_filters=aae.decoder_filters,
        seed=seed,
    )
    for name in ("logits", "loc", "raw_scale"):
        getattr(vae.prior_layer, name).assign(getattr(aae.prior_layer, name))
    vae.prior_layer.trainable = False
    return vae


def codes_of(model, x: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """Test codes: the AAE's deterministic ``f(x)``; one draw ``z ~ q(z | x)`` per VAE image.

    A VAE's draws are a sample of its aggregated posterior, which is what the prior should match.
    """
    import tfgen

    draw = isinstance(model, tfgen.models.VAE)
    chunks = []
    for i in range(0, len(x), batch_size):
        q = model.encode(x[i : i + batch_size])
        chunks.append((q.sample(seed=(0, 3)) if draw else q.mean()).numpy())
    return np.concatenate(chunks)


def reconstruction(model, x: np.ndarray, z: np.ndarray, batch_size: int = 1000) -> float:
    """Mean ``-log p(x | z)`` in nats per image."""
    return float(
        np.mean(
            [
                -np.mean(model.decode(z[i : i + batch_size]).log_prob(x[i : i + batch_size]))
                for i in range(0, len(x), batch_size)
            ]
        )
    )


def plot(results: dict, out: str, prior) -> None:
    """Writes a PNG: prior draws, then each model's test codes coloured by class."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    draws = prior.sample(3000, seed=(0, 4)).numpy()
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.3), sharex=True, sharey=True)
    axes[0].scatter(draws[:, 0], draws[:, 1], s=2, c="gray")
    axes[0].set_title("prior p(z): 10 Gaussians")
    for ax, name in zip(axes[1:], ("AAE", "VAE"), strict=True):
        r = results[name]
        ax.scatter(r["codes"][:, 0], r["codes"][:, 1], s=2, c=r["labels"], cmap="tab10")
        ax.set_title(f"{name} test codes: MMD^2 {r['mmd']:.3f}, in HDR95 {r['in_hdr95']:.2f}")
    for ax in axes:
        ax.set_xlim(-7, 7)
        ax.set_ylim(-7, 7)
        ax.set_aspect("equal")
    fig.tight_layout()
    fig.savefig(out, dpi=80)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict:
    """Trains the AAE preset and the fixed-prior VAE, prints and returns the table."""
    parser = argparse.ArgumentParser(
        prog="python -m zoo.bench.aae", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--max-examples", type=int, default=None, help="train subset (smoke)")
    parser.add_argument("--vae-learning-rate", type=float, default=1e-3)
    parser.add_argument("--out", default=None, help="PNG of the codes against the prior")
    args = parser.parse_args(argv)
    import keras

    import tfgen
    from zoo import presets

    preset = presets.get(PRESET)
    recipe = preset.train
    common = dict(binarize=recipe.binarize, labels=True, seed=recipe.seed)
    train = tfgen.data.load(args.dataset, "train", batch_size=recipe.batch_size, **common)
    if args.max_examples:
        train = train.take(max(1, args.max_examples // recipe.batch_size))
    test_x, test_y = static_binarized_test_set(args.dataset)  # as in training

    aae = presets.build(preset, event_shape=tfgen.data.event_shape(args.dataset))
    prior = aae.prior_distribution
    vae = fixed_prior_vae(aae, seed=recipe.seed)
    vae.compile(optimizer=keras.optimizers.Adam(args.vae_learning_rate))
    np.testing.assert_allclose(
        vae.prior_distribution.components_distribution.mean(), aae.prior_layer.loc
    )

    results = {}
    for name, model in (("AAE", aae), ("VAE", vae)):
        start = time.perf_counter()
        model.fit(train, epochs=args.epochs, verbose=2)
        seconds = time.perf_counter() - start
        codes = codes_of(model, test_x)
        results[name] = dict(
            prior_match(codes, prior),
            reconstruction=reconstruction(model, test_x, codes),
            train_seconds=round(seconds, 1),
            codes=codes,
            labels=test_y,
        )

    table = {
        k: {m: v for m, v in r.items() if m not in ("codes", "labels")} for k, r in results.items()
    }
    print(f"\nprior: {PRESET} (10 Gaussians, radius 4, scale 0.5); {args.epochs} epochs each")
    print(
        f"{'model':6s} {'MMD^2':>14s} {'in HDR95':>9s} {'occupancy KL':>13s} {'recon (nats)':>13s}"
    )
    for name, r in table.items():
        print(
            f"{name:6s} {r['mmd']:8.4f}+-{r['mmd_std']:.4f} {r['in_hdr95']:9.3f} "
            f"{r['occupancy_kl']:13.3f} {r['reconstruction']:13.2f}"
        )
    print(json.dumps(table))
    if args.out:
        plot(results, args.out, prior)
        print(f"wrote {args.out}")
    return table


if __name__ == "__main__":
    main()
