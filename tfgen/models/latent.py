"""Latent-variable models ``p(z) p(x | z)``: ELBO, importance-weighted likelihood, sampling.

:class:`LatentVariableMixin` is mixed into a :class:`~tfgen.models.base.DensityModel` (listed
first in the bases) by the VAE family and the conditional VAE; the adversarial autoencoder, which
has no likelihood bound, uses only :class:`LatentSpaceMixin` (sample, reconstruct, interpolate).
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from tfgen import checks
from tfgen import distributions as dists
from tfgen.metrics import nats_to_bits_per_dim
from tfgen.models.inputs import check_data

_DECODE_BUDGET = 4096  # images per decoder call in the importance-weighted log_prob


def _tile(t, n: int):
    """Repeats ``t`` ``n`` times along axis 0 (None stays None)."""
    return None if t is None else tf.tile(t, [n] + [1] * (t.shape.rank - 1))


class LatentSpaceMixin:
    """Sampling, reconstruction and interpolation through a latent space ``p(z) p(x | z)``.

    Shared by models trained with a likelihood bound (:class:`LatentVariableMixin`) and by models
    trained otherwise (the adversarial autoencoder). The host class provides
    ``encode(x, labels, training) -> q(z | x)``, ``decoder_outputs(z, labels, training) -> tensor``
    (network outputs of p(x | z)), ``prior_distribution`` (a ``tfd.Distribution`` over
    ``[latent_dim]``) and ``image_likelihood`` (a :class:`tfgen.distributions.ImageLikelihood`).
    """

    def decode(self, z, labels=None, training: bool = False):
        """``p(x | z)`` as a TFP distribution over the likelihood's support (float32).

        Raises:
            ValueError: naming ``z`` (not finite ``[B, latent_dim]``) or ``labels``.
        """
        z = check_data("z", z, (self.latent_dim,))
        return self._decode(z, self.check_labels(labels, self._batch_size(z)), training)

    def _decode(self, z, labels=None, training: bool = False):
        outputs = self.decoder_outputs(z, labels, training=training)
        return self.image_likelihood.distribution(outputs)

    def sample_prior(self, num_samples, *, seed: int | None = None, labels=None) -> tf.Tensor:
        """Codes ``[num_samples, latent_dim]`` from ``p(z)`` (or from ``p(z | labels)``).

        Args:
            num_samples: how many codes.
            seed: int for reproducible codes; None draws from the model's random stream (the
                same rule as :meth:`sample`); keyword-only, like ``labels``.
            labels: ``[num_samples]`` class ids; ignored unless the prior depends on them.

        Example:
            >>> import tfgen
            >>> vae = tfgen.models.VAE(event_shape=(8, 8, 1), latent_dim=2)
            >>> vae.sample_prior(3, seed=1).shape
            TensorShape([3, 2])
        """
        num_samples = self._check_num_samples(num_samples)
        return self.prior_draw(num_samples, self._seed(seed), labels)

    def prior_draw(self, num_samples, seed: tf.Tensor, labels=None) -> tf.Tensor:
        """``num_samples`` codes from the prior with a stateless ``[2]`` seed (no checks)."""
        return self.prior_distribution.sample(num_samples, seed=seed)

    def sample(
        self, num_samples: int, *, seed: int | None = None, labels=None, mean: bool = False
    ) -> tf.Tensor:
        """Decodes ``z ~ p(z)``: images ``[num_samples, H, W, C]`` in [0, 1].

        Every argument after ``num_samples`` is keyword-only.

        Args:
            num_samples: how many images.
            seed: int for reproducible samples; None draws from the model's random stream.
            labels: ``[num_samples]`` class ids (conditional models only); None draws them
                uniformly from ``[0, num_classes)`` (from ``seed`` when given).
            mean: return the decoder's mean ``E[x | z]`` instead of a draw from ``p(x | z)``.

        Example:
            >>> import tfgen
            >>> vae = tfgen.models.VAE(event_shape=(8, 8, 1), latent_dim=2)
            >>> vae.sample(2, seed=0, mean=True).shape
            TensorShape([2, 8, 8, 1])
        """
        num_samples = self._check_num_samples(num_samples)
        seed = self._seed(seed)
        labels = self._sample_labels(labels, num_samples, seed)
        draw = lambda n, seed, labels: self._draw_images(n, seed, labels, mean)  # noqa: E731
        return self._in_chunks(draw, num_samples, seed, labels)

    def _draw_images(self, num_samples, seed, labels, mean: bool) -> tf.Tensor:
        """``sample``'s draw of one chunk (arguments already validated)."""
        z = self.prior_draw(num_samples, seed, labels)
        outputs = self.decoder_outputs(z, labels)
        if mean:
            return self.image_likelihood.mean(outputs)
        # fold_in: sub-seeds that never collide with another call's (seed + 1 would)
        draws = self.image_likelihood.distribution(outputs).sample(
            seed=tf.random.experimental.stateless_fold_in(seed, 2)
        )
        return self.image_likelihood.from_support(draws)

    def reconstruct(self, x, labels=None) -> tf.Tensor:
        """Mean of ``p(x | z)`` at the posterior mean ``z = E[z | x]``: images in [0, 1].

        Raises:
            ValueError: naming ``x`` or ``labels`` (see :meth:`check_inputs`).
        """
        x = self.check_inputs(x)
        labels = self.check_labels(labels, self._batch_size(x))
        z = self.encode(x, labels).mean()
        return self.image_likelihood.mean(self.decoder_outputs(z, labels))

    def interpolate(self, x_a, x_b, steps: int = 8, labels=None) -> tf.Tensor:
        """Decoded means along the straight line between the posterior means of ``x_a`` and ``x_b``.

        Args:
            x_a: one image ``[H, W, C]`` or a batch ``[B, H, W, C]``.
            x_b: same shape as ``x_a``.
            steps: points on the line, endpoints included (>= 2).
            labels: class ids ``[B]`` for conditional models (used for both ends).

        Returns:
            ``[steps, H, W, C]`` for single images, ``[B, steps, H, W, C]`` for batches.
        """
        steps = checks.int_at_least("steps", steps, 2)
        single = np.ndim(x_a) == len(self.event_shape)
        x_a = self.check_inputs(x_a, "x_a", single=True)
        x_b = self.check_inputs(x_b, "x_b", single=True)
        if x_a.shape != x_b.shape:
            raise ValueError(f"x_b must have the shape of x_a {x_a.shape}; got {x_b.shape}")
        labels = self.check_labels(labels, int(x_a.shape[0]))
        z_a, z_b = self.encode(x_a, labels).mean(), self.encode(x_b, labels).mean()
        t = tf.linspace(0.0, 1.0, int(steps))[:, None, None]  # [steps, 1, 1]
        z = (1.0 - t) * z_a[None] + t * z_b[None]  # [steps, B, D]
        flat = tf.reshape(z, [-1, z.shape[-1]])
        lab = None if labels is None else tf.tile(labels, [int(steps)])
        images = self.image_likelihood.mean(self.decoder_outputs(flat, lab))
        images = tf.reshape(images, [int(steps), -1, *self.event_shape])
        images = tf.transpose(images, [1, 0, 2, 3, 4])
        return images[0] if single else images


class LatentVariableMixin(LatentSpaceMixin):
    """ELBO, importance-weighted likelihood and sampling for ``p(x, z) = p(z) p(x | z)``.

    Adds to :class:`LatentSpaceMixin` (same host requirements) the ELBO terms that the shared
    :class:`~tfgen.models.base.DensityModel` train step minimises and the IWAE ``log_prob``.
    """

    metric_names = ("loss", "elbo", "kl", "reconstruction", "bits_per_dim")

    def elbo_terms(self, x, labels=None, training: bool = False, seed=None) -> dict[str, tf.Tensor]:
        """Single-sample ELBO and its parts per example, in nats.

        ``elbo = -reconstruction - kl`` with ``reconstruction = -log p(x | z)``, ``z ~ q(z | x)``
        (reparameterized) and ``kl = KL(q(z | x) || p(z))`` (analytic when TFP has it, else the
        Monte-Carlo estimate on the same ``z``).
        """
        q = self.encode(x, labels, training=training)
        z = q.sample(seed=self._seed(seed))
        p_x = self._decode(z, labels, training=training)
        reconstruction = -p_x.log_prob(self.image_likelihood.to_support(x))
        kl = dists.kl_divergence(q, self.prior_distribution, samples=z)
        elbo = -(reconstruction + kl)
        return {
            "loss": -elbo,
            "elbo": elbo,
            "kl": kl,
            "reconstruction": reconstruction,
            "bits_per_dim": nats_to_bits_per_dim(-elbo, self.num_dims),
        }

    def compute_terms(self, x, labels=None, training: bool = False):
        return self.elbo_terms(x, labels, training=training)

    def elbo(self, x, labels=None, seed=None) -> tf.Tensor:
        """Single-sample ELBO ``E_q[log p(x|z)] - KL(q(z|x) || p(z))`` per example, ``[batch]``.

        Args:
            x: ``[batch, H, W, C]`` images.
            labels: class ids for conditional models.
            seed: optional int: the same seed gives the same ``z`` draw, hence the same value.

        Raises:
            ValueError: naming ``x``, ``labels`` or ``seed``.
        """
        x = self.check_inputs(x)
        labels = self.check_labels(labels, self._batch_size(x))
        return self.elbo_terms(x, labels, training=False, seed=seed)["elbo"]

    def log_prob(
        self,
        x,
        labels=None,
        *,
        importance_samples: int = 100,
        seed: int | None = None,
        chunk_size: int | None = None,
    ) -> tf.Tensor:
        """Importance-weighted estimate of ``log p(x)`` in nats (IWAE, Burda et al. 2016).

        ``log (1/k) sum_i p(x, z_i) / q(z_i | x)`` with ``z_i ~ q(z | x)``: a lower bound of
        ``log p(x)`` in expectation that tightens as k grows; ``importance_samples=1`` is
        the ELBO. Evaluated ``chunk_size`` samples at a time to bound memory.

        ``importance_samples`` is k; ``num_samples`` is reserved, everywhere in tfgen, for the
        number of images drawn.

        Args:
            x: ``[batch, H, W, C]`` images in [0, 1].
            labels: class ids for conditional models.
            importance_samples: k, the number of importance samples (>= 1); keyword-only.
            seed: optional int for a reproducible estimate.
            chunk_size: importance samples decoded at once; default: as many as keep one decoder
                call at about 4096 images (``4096 // batch``, at least 1).

        Returns:
            ``[batch]`` float32 tensor of log-likelihood estimates.

        Raises:
            ValueError: naming ``x``, ``labels``, ``importance_samples``, ``seed`` or
                ``chunk_size``.
        """
        k = checks.positive_int("importance_samples", importance_samples)
        if chunk_size is not None:
            chunk_size = checks.positive_int("chunk_size", chunk_size)
        x = self.check_inputs(x)
        labels = self.check_labels(labels, self._batch_size(x))
        q = self.encode(x, labels)
        target = self.image_likelihood.to_support(x)
        seed = self._seed(seed)
        if chunk_size is None:
            batch = x.shape[0]
            chunk_size = max(1, _DECODE_BUDGET // batch) if batch else 16
        # All k codes are drawn at once (cheap), so the estimate does not depend on chunk_size;
        # only the decoder runs chunk by chunk.
        z_all = q.sample(k, seed=seed)  # [k, B, D]
        log_w = []
        for start in range(0, k, chunk_size):
            z = z_all[start : start + chunk_size]
            n = z.shape[0]
            flat_z = tf.reshape(z, [-1, z.shape[-1]])
            log_px = self._decode(flat_z, _tile(labels, n)).log_prob(_tile(target, n))
            log_px = tf.reshape(log_px, [n, -1])
            log_w.append(log_px + self.prior_distribution.log_prob(z) - q.log_prob(z))
        log_w = tf.concat(log_w, axis=0)
        return tf.reduce_logsumexp(log_w, axis=0) - math.log(float(k))
