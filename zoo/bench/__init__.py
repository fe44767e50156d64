"""Benchmarks and evaluation scripts behind the figures of ``zoo/RESULTS.md``.

Each module is a script run as ``python -m zoo.bench.<name>`` with a ``main(argv=None)`` entry
point; ``--help`` lists its options. Importing a module does no work: TensorFlow, tfgen and the
data are loaded when ``main`` (or a function) runs. Helpers shared by several scripts live in
:mod:`zoo.bench.common`; no script imports another.

Modules:
    vae: time to quality of ``vae_fast_fashion_mnist`` against the TF2 tutorial's own loop.
    vae_precision: bfloat16 bias gradients and the output layer's precision of that preset.
    aae: aggregated posterior against a mixture prior, adversarial autoencoder vs VAE.
    eval_cvae_aae: the CVAE and AAE presets' figures that ``tfgen evaluate`` does not give.
    nade: NADE's vectorised ``log_prob`` against loops, sampling speed, time to test NLL.
    pixelcnn: cached against naive PixelCNN sampling.
    gan_metrics: FCD, classifier score and label accuracy of trained runs.
    mode_collapse: plain GAN vs its remedies on the ring of 8 Gaussians.
"""
