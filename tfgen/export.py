"""Export a tfgen model as a TensorFlow SavedModel with one endpoint per method.

The SavedModel holds the model's weights as variables and plain TensorFlow graphs: it loads and
runs with ``tf.saved_model.load`` alone (no tfgen, Keras or TensorFlow Probability needed).
"""

from __future__ import annotations

import os

import keras
import tensorflow as tf

from tfgen import checks
from tfgen.models.autoencoder_base import AutoencoderBase
from tfgen.models.base import DensityModel, GenerativeModel
from tfgen.models.gan import GANBase
from tfgen.models.latent import LatentSpaceMixin, LatentVariableMixin

#: Importance samples k of the exported ``log_prob`` of latent-variable models.
DEFAULT_IMPORTANCE_SAMPLES = 100
#: Seed of the exported ``log_prob`` of latent-variable models (a fixed seed: deterministic).
LOG_PROB_SEED = 0


def can_sample(model: GenerativeModel) -> bool:
    """Whether ``model`` draws samples: its class overrides ``GenerativeModel.sample`` (an
    autoencoder does not: it compresses, it does not generate).

    Example:
        >>> import tfgen
        >>> can_sample(tfgen.models.VAE(event_shape=(8, 8, 1)))
        True
        >>> can_sample(tfgen.models.Autoencoder(event_shape=(8, 8, 1), latent_dim=2))
        False
    """
    return type(model).sample is not GenerativeModel.sample


def endpoint_names(model: GenerativeModel) -> tuple[str, ...]:
    """The endpoints :func:`export_saved_model` writes for ``model``, each named after the method
    it runs (so an endpoint means the same thing in every family).

    Example:
        >>> import tfgen
        >>> endpoint_names(tfgen.models.VAE(event_shape=(8, 8, 1)))
        ('sample', 'predict', 'log_prob', 'reconstruct', 'encode')
        >>> endpoint_names(tfgen.models.GAN(event_shape=(2,)))
        ('sample', 'discriminate')
        >>> endpoint_names(tfgen.models.Autoencoder(event_shape=(8, 8, 1), latent_dim=2))
        ('predict', 'reconstruct', 'encode')
    """
    names = ["sample"] if can_sample(model) else []
    if not isinstance(model, GANBase):
        names.append("predict")
    if isinstance(model, DensityModel):
        names.append("log_prob")
    if isinstance(model, (LatentSpaceMixin, AutoencoderBase)):
        names += ["reconstruct", "encode"]
    if isinstance(model, GANBase):
        names.append("discriminate")
    return tuple(names)


def export_saved_model(
    model: GenerativeModel,
    path: str | os.PathLike,
    *,
    importance_samples: int = DEFAULT_IMPORTANCE_SAMPLES,
) -> str:
    """Writes ``model`` as a SavedModel with one named endpoint per tfgen method.

    Endpoints (functions of the loaded object and signatures of the same name; every output is
    a dict with one named entry; :func:`endpoint_names` lists a model's):

    * ``sample(num_samples, seed) -> {"images"}``: int32 scalars -> float32
      ``[num_samples, *event_shape]``, equal to ``model.sample(num_samples, seed=seed)`` (models
      that sample: :func:`can_sample`).
    * ``predict(x) -> {"params"}``: ``model.predict(x)``, the per-pixel likelihood parameters
      (every model but GANs, which have no likelihood).
    * ``log_prob(x) -> {"log_prob"}`` (density models): float32 ``[batch]`` nats. Latent models
      export the importance-weighted estimate ``model.log_prob(x,
      importance_samples=importance_samples, seed=LOG_PROB_SEED)``, deterministic; the others
      their exact ``log_prob``.
    * ``reconstruct(x) -> {"images"}`` and ``encode(x) -> {"codes"}`` (latent models and
      autoencoders): the reconstruction means and the posterior mean codes (an autoencoder's
      codes) ``[batch, latent_dim]``.
    * ``discriminate(x) -> {"logits"}`` (GANs): the discriminator's logits ``[batch]``.

    Conditional models take an extra int32 ``labels`` ``[None]`` input in every endpoint.

    Args:
        model: a tfgen ``GenerativeModel`` (built, as every tfgen model is on construction).
        path: directory to write; must not exist or be empty.
        importance_samples: importance samples k of the exported ``log_prob`` of latent models.

    Returns:
        ``path`` as a string.

    Raises:
        ValueError: naming ``model`` when it is not a tfgen ``GenerativeModel``, ``path`` when it
            exists and is not an empty directory, or ``importance_samples`` when it is not a
            positive int.

    Example:
        >>> import tempfile
        >>> import tensorflow as tf
        >>> import tfgen
        >>> from tfgen.export import export_saved_model
        >>> vae = tfgen.models.VAE(event_shape=(8, 8, 1), latent_dim=2)
        >>> path = export_saved_model(vae, tempfile.mkdtemp())  # an empty directory is fine
        >>> loaded = tf.saved_model.load(path)  # tfgen, Keras and TFP are not needed here
        >>> loaded.sample(num_samples=3, seed=0)["images"].shape
        TensorShape([3, 8, 8, 1])
        >>> loaded.signatures["log_prob"](x=tf.zeros([2, 8, 8, 1]))["log_prob"].shape
        TensorShape([2])
    """
    if not isinstance(model, GenerativeModel):
        raise checks.fail("model", "a tfgen GenerativeModel", type(model).__name__)
    if not model.built:
        raise checks.fail("model", "built before export", model.name)
    path = os.fspath(path)
    if os.path.exists(path) and not (os.path.isdir(path) and not os.listdir(path)):
        raise checks.fail("path", "a new or empty directory", path)
    k = checks.positive_int("importance_samples", importance_samples)

    def log_prob(x, labels):
        if isinstance(model, LatentVariableMixin):
            return model.log_prob(x, labels, importance_samples=k, seed=LOG_PROB_SEED)
        return model.log_prob(x, labels)

    def encode(x, labels):
        codes = model.encode(x, labels)
        return codes if tf.is_tensor(codes) else codes.mean()  # a posterior: its mean

    methods = {  # endpoint -> (output name, function of (x or counts..., labels))
        "predict": ("params", lambda x, labels: model.predict_step((x, labels))),
        "log_prob": ("log_prob", log_prob),
        "reconstruct": ("images", lambda x, labels: model.reconstruct(x, labels)),
        "encode": ("codes", encode),
        "discriminate": ("logits", lambda x, labels: model.discriminate(x, labels)),
    }
    image = tf.TensorSpec([None, *model.event_shape], tf.float32, name="x")
    scalar = lambda name: tf.TensorSpec([], tf.int32, name=name)  # noqa: E731
    extra = [tf.TensorSpec([None], tf.int32, name="labels")] if model.conditional else []
    archive = keras.export.ExportArchive()
    archive.track(model)
    for name in endpoint_names(model):
        if name == "sample":
            fn = _sample_endpoint(model)
            specs = [scalar("num_samples"), scalar("seed")]
        else:
            fn, specs = _image_endpoint(*methods[name], model.conditional), [image]
        archive.add_endpoint(name, fn, [*specs, *extra])
    archive.write_out(path, verbose=False)
    return path


def _sample_endpoint(model: GenerativeModel):
    """``sample(num_samples, seed[, labels]) -> {"images": ...}`` with named arguments."""
    if model.conditional:

        def sample(num_samples, seed, labels):
            return {"images": model.sample(num_samples, seed=seed, labels=labels)}

        return sample

    def sample_unconditional(num_samples, seed):
        return {"images": model.sample(num_samples, seed=seed)}

    return sample_unconditional


def _image_endpoint(output: str, method, conditional: bool):
    """``f(x[, labels]) -> {output: method(x, labels)}`` with named arguments."""
    if conditional:

        def endpoint(x, labels):
            return {output: method(x, labels)}

        return endpoint

    def endpoint_unconditional(x):
        return {output: method(x, None)}

    return endpoint_unconditional
