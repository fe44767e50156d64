"""Export a tfgen model as a TensorFlow SavedModel with ``serve``, ``sample`` and ``log_prob``.

The SavedModel holds the model's weights as variables and plain TensorFlow graphs: it loads and
runs with ``tf.saved_model.load`` alone (no tfgen, Keras or TensorFlow Probability needed).
"""

from __future__ import annotations

import os

import keras
import tensorflow as tf

from tfgen.models.base import DensityModel, GenerativeModel
from tfgen.models.latent import LatentVariableMixin

#: Importance samples k of the exported ``log_prob`` of latent-variable models.
DEFAULT_LOG_PROB_SAMPLES = 100
#: Seed of the exported ``log_prob`` of latent-variable models (a fixed seed: deterministic).
LOG_PROB_SEED = 0


def export_saved_model(
    model: GenerativeModel,
    path: str | os.PathLike,
    *,
    log_prob_samples: int = DEFAULT_LOG_PROB_SAMPLES,
) -> str:
    """Writes ``model`` as a SavedModel with one signature per tfgen method.

    Signatures (each also a function attribute of the loaded object; signature outputs are under
    the key ``"output_0"``):

    * ``serve(x)``: ``x`` float32 ``[None, H, W, C]`` -> the model's ``predict`` output (for latent
      models the reconstruction means ``model.reconstruct(x)``).
    * ``sample(num_samples, seed)``: int32 scalars -> float32 ``[num_samples, H, W, C]``, equal to
      ``model.sample(num_samples, seed=seed)`` (stateless: the same seed gives the same images).
    * ``log_prob(x)`` (density models only): float32 ``[batch]`` log-likelihoods in nats. Latent
      models export the importance-weighted estimate ``model.log_prob(x,
      num_samples=log_prob_samples, seed=LOG_PROB_SEED)`` (k = 100 by default, seed 0), so it is
      deterministic; other density models export their exact ``model.log_prob(x)``.

    Conditional models (``model.conditional``) take an extra int32 ``labels`` ``[None]`` input in
    every signature.

    Args:
        model: a tfgen ``GenerativeModel`` (built, as every tfgen model is on construction).
        path: directory to write; must not exist or be empty.
        log_prob_samples: importance samples k of the exported ``log_prob`` of latent models.

    Returns:
        ``path`` as a string.

    Raises:
        ValueError: naming ``model`` when it is not a tfgen ``GenerativeModel``, ``path`` when it
            exists and is not an empty directory, or ``log_prob_samples`` when it is not a
            positive int.

    Example:
        >>> import tempfile
        >>> import tensorflow as tf
        >>> import tfgen
        >>> from tfgen.export import export_saved_model
        >>> vae = tfgen.models.VAE(event_shape=(8, 8, 1), latent_dim=2)
        >>> path = export_saved_model(vae, tempfile.mkdtemp())  # an empty directory is fine
        >>> loaded = tf.saved_model.load(path)  # tfgen, Keras and TFP are not needed here
        >>> loaded.sample(num_samples=3, seed=0).shape
        TensorShape([3, 8, 8, 1])
        >>> loaded.signatures["log_prob"](x=tf.zeros([2, 8, 8, 1]))["output_0"].shape
        TensorShape([2])
    """
    if not isinstance(model, GenerativeModel):
        raise ValueError(f"model must be a tfgen GenerativeModel; got {type(model).__name__}")
    if not model.built:
        raise ValueError(f"model must be built before export; {model.name} is not")
    path = os.fspath(path)
    if os.path.exists(path) and not (os.path.isdir(path) and not os.listdir(path)):
        raise ValueError(f"path must not exist or be an empty directory; got {path!r}")
    if type(log_prob_samples) is not int or log_prob_samples < 1:
        raise ValueError(f"log_prob_samples must be a positive int; got {log_prob_samples!r}")

    image = tf.TensorSpec([None, *model.event_shape], tf.float32, name="x")
    scalar = lambda name: tf.TensorSpec([], tf.int32, name=name)  # noqa: E731
    labels_spec = tf.TensorSpec([None], tf.int32, name="labels")
    archive = keras.export.ExportArchive()
    archive.track(model)

    if model.conditional:

        def serve(x, labels):
            return model.predict_step((x, labels))

        def sample(num_samples, seed, labels):
            return model.sample(num_samples, seed=seed, labels=labels)

        def log_prob(x, labels):
            return _log_prob(model, x, labels, log_prob_samples)

        extra = [labels_spec]
    else:

        def serve(x):
            return model.predict_step(x)

        def sample(num_samples, seed):
            return model.sample(num_samples, seed=seed)

        def log_prob(x):
            return _log_prob(model, x, None, log_prob_samples)

        extra = []

    archive.add_endpoint("serve", serve, [image, *extra])
    archive.add_endpoint("sample", sample, [scalar("num_samples"), scalar("seed"), *extra])
    if isinstance(model, DensityModel):
        archive.add_endpoint("log_prob", log_prob, [image, *extra])
    archive.write_out(path, verbose=False)
    return path


def _log_prob(model: DensityModel, x, labels, num_samples: int) -> tf.Tensor:
    if isinstance(model, LatentVariableMixin):
        return model.log_prob(x, labels, num_samples=num_samples, seed=LOG_PROB_SEED)
    return model.log_prob(x, labels)
