"""Evaluate, sample and export a model; each family reports its own figures.

The model is a work directory's (``model.keras``) or, given a preset name instead of a
directory, the preset's shipped trained weights (:mod:`zoo.pretrained`): ``tfgen sample
PRESET --out grid.png`` and ``tfgen evaluate PRESET`` work with no training.

=====================================  ==================================================
family                                 figures of ``evaluate`` (besides Keras' test metrics)
=====================================  ==================================================
exact density (NADE, PixelCNN, ...)    ``nll`` (exact, nats per image) and ``bits_per_dim``
latent with a likelihood (VAE, CVAE)   ``iwae_nll_k<K>`` with ``importance_samples=K``
GANs (DCGAN, GAN)                      ``fcd`` (Frechet classifier distance), ``classifier_score``
conditional GAN or latent model        also ``sample_class_accuracy`` (samples asked for a class)
adversarial autoencoder                ``prior_mmd`` and ``prior_in_hdr95`` (codes vs prior);
                                       with a supervised prior also ``codes_in_own_component``
                                       and ``sample_class_accuracy``
=====================================  ==================================================

An option that does not apply to the model is refused before anything is loaded.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable

import numpy as np

from tfgen import callbacks as tfgen_callbacks
from zoo import presets
from zoo.prior_figures import (
    class_samples,
    encode_means,
    prior_figures,
    sample_class_accuracy,
    supervised_prior_figures,
)
from zoo.workdir import (
    can_sample,
    load_run_model,
    merge_metrics,
    read_run,
    recipe_from_json,
    split_dataset,
)

_CHUNK = 500


@dataclasses.dataclass(frozen=True)
class Source:
    """Where a model comes from: a work directory, or a preset's shipped weights."""

    preset: presets.Preset
    recipe: presets.TrainRecipe
    model_class: type
    load: Callable
    workdir: str | None


def source(target: str) -> Source:
    """The :class:`Source` of ``target``: a work directory, else a preset with shipped weights.

    Raises:
        WorkdirError: ``target`` is neither a preset name nor a work directory with a run.
    """
    from tfgen import models
    from zoo import pretrained

    if not os.path.isdir(target) and target in presets.PRESETS:
        preset = presets.get(target)
        cls = getattr(models, preset.model_class)
        return Source(preset, preset.train, cls, lambda: pretrained.load(target), None)
    run = read_run(target)
    preset = presets.get(run["preset"])
    recipe = recipe_from_json(run["train"])
    cls = getattr(models, preset.model_class)
    return Source(preset, recipe, cls, lambda: load_run_model(target), target)


def _test_arrays(recipe, max_examples):
    xs, ys = [], []
    for batch in split_dataset(recipe, "test"):
        x, y = batch if recipe.labels else (batch, None)
        xs.append(np.asarray(x))
        ys.append(None if y is None else np.asarray(y))
    x = np.concatenate(xs)[:max_examples]
    return x, (None if ys[0] is None else np.concatenate(ys)[:max_examples])


def _samples(model, num_samples: int, seed: int) -> np.ndarray:
    """``num_samples`` samples in chunks (labels drawn uniformly for conditional models)."""
    chunks = [
        np.asarray(model.sample(min(_CHUNK, num_samples - i), seed=seed + i))
        for i in range(0, num_samples, _CHUNK)
    ]
    return np.concatenate(chunks)


def _classifier(recipe):
    """The tfgen classifier of the recipe's dataset (announced: trained once on first use)."""
    from tfgen.classifier import cache_dir, get_classifier

    print(
        f"tfgen evaluate: classifier of {recipe.dataset} from {cache_dir()} "
        "(trained once on first use)",
        file=sys.stderr,
    )
    return get_classifier(recipe.dataset)


def _gan_figures(model, recipe, x: np.ndarray, seed: int) -> dict:
    """FCD and classifier score of ``len(x)`` samples; a conditional GAN's are asked for the
    classes in turn, and the same draws give its ``sample_class_accuracy``."""
    from tfgen import metrics

    classifier = _classifier(recipe)
    conditional = getattr(model, "conditional", False)
    if conditional:
        samples, ids = class_samples(model, len(x), seed)
    else:
        samples = _samples(model, len(x), seed)
    figures = {
        "fcd": metrics.frechet_classifier_distance(x, samples, classifier, recipe.scale),
        "classifier_score": metrics.classifier_score(samples, classifier, recipe.scale),
        "classifier_test_accuracy": float(classifier.info.get("test_accuracy", float("nan"))),
    }
    if conditional:
        figures["sample_class_accuracy"] = metrics.classifier_accuracy(
            samples, ids, classifier, recipe.scale
        )
    return figures


def evaluate_model(
    model,
    recipe,
    importance_samples: int = 0,
    max_examples: int | None = None,
    seed: int = 0,
    classifier: bool = True,
) -> dict:
    """Test figures of a model on its recipe's test split (module docstring: which figures).

    Args:
        model: a trained (compiled) model of a preset.
        recipe: the :class:`~zoo.presets.TrainRecipe` it was trained with (dataset, protocol).
        importance_samples: K > 0 adds the IWAE NLL ``iwae_nll_k<K>`` of a latent model with a
            likelihood: ``-log_prob(x, labels, importance_samples=K)`` averaged over the images.
        max_examples: use the first ``max_examples`` test images only.
        seed: seed of the evaluation noise (the model is reseeded with it), samples and
            importance draws.
        classifier: False leaves out the figures of the tfgen classifier (FCD, classifier score,
            sample class accuracy), which depend on the classifier each machine trains once.

    Returns:
        Keras' test metrics plus the family's figures and ``num_examples``.

    Raises:
        ValueError: ``importance_samples`` for a model that is not a latent-variable density.
    """
    from tfgen.models import (
        AdversarialModel,
        DensityModel,
        GANBase,
        LatentSpaceMixin,
        LatentVariableMixin,
    )

    cls = type(model)
    _check_importance_samples(cls, importance_samples)
    x, labels = _test_arrays(recipe, max_examples)
    model.reseed(seed)  # evaluation noise (a VAE's code draws) from ``seed``, not from the stream
    result = model.evaluate(
        *((x, labels) if recipe.labels else (x,)),
        batch_size=recipe.eval_batch_size,
        verbose=0,
        return_dict=True,
    )
    result = {"model": cls.__name__, **{k: float(v) for k, v in result.items()}}
    if issubclass(cls, DensityModel) and not issubclass(cls, LatentVariableMixin):
        result["nll"] = result["loss"]  # the loss of an exact density model is -log p(x)
    if importance_samples:
        result[f"iwae_nll_k{importance_samples}"] = _iwae_nll(
            model, x, labels, importance_samples, recipe.eval_batch_size, seed
        )
    if issubclass(cls, GANBase) and classifier:
        result.update(_gan_figures(model, recipe, x, seed))
    elif issubclass(cls, AdversarialModel) and issubclass(cls, LatentSpaceMixin):
        codes = encode_means(model, x)
        result.update(prior_figures(model, codes, seed))
        if getattr(model, "prior", None) == "supervised" and labels is not None:
            clf = _classifier(recipe) if classifier else None
            result.update(supervised_prior_figures(model, codes, labels, clf, recipe.scale, seed))
    if issubclass(cls, LatentVariableMixin) and recipe.labels and classifier:
        result["sample_class_accuracy"] = sample_class_accuracy(  # decoder means of a CVAE
            model, len(x), _classifier(recipe), recipe.scale, seed, mean=True
        )
    result["num_examples"] = len(x)
    return result


def _check_importance_samples(cls: type, importance_samples: int) -> None:
    """Refuses ``importance_samples`` for a class that is not a latent model with a likelihood."""
    from tfgen.models import DensityModel, LatentVariableMixin

    if importance_samples and not issubclass(cls, LatentVariableMixin):
        raise ValueError(
            f"--importance-samples applies to latent models with a likelihood (VAE, CVAE), not "
            f"{cls.__name__}" + (" (its NLL is exact)" if issubclass(cls, DensityModel) else "")
        )


def _iwae_nll(model, x, labels, importance_samples: int, batch_size: int, seed: int) -> float:
    """``-mean log_prob(x, labels, importance_samples=K)`` in batches (one seed per batch)."""
    import tensorflow as tf

    log_prob = tf.function(
        lambda x, y, s: model.log_prob(x, y, importance_samples=importance_samples, seed=s)
    )
    log_p = [
        log_prob(
            x[i : i + batch_size],
            None if labels is None else labels[i : i + batch_size],
            tf.constant(seed + i),
        ).numpy()
        for i in range(0, len(x), batch_size)
    ]
    return float(-np.concatenate(log_p).mean())


def evaluate(
    workdir: str, importance_samples: int = 0, max_examples: int | None = None, seed: int = 0
) -> dict:
    """Test figures of a work directory's model, merged into ``metrics.json`` under ``"evaluate"``.

    Arguments and result as :func:`evaluate_model`; ``workdir`` is a work directory with a
    ``model.keras``, or a preset name (its shipped weights; nothing is written).

    Raises:
        ValueError: ``importance_samples`` for a model that is not a latent-variable density
            (refused before the model is loaded).
        WorkdirError: no run, no model yet, or a model file that cannot be loaded.
    """
    src = source(workdir)
    _check_importance_samples(src.model_class, importance_samples)
    result = evaluate_model(src.load(), src.recipe, importance_samples, max_examples, seed)
    if src.workdir is None:
        return result
    merge_metrics(workdir, "evaluate", result)
    return result


def sample(
    workdir: str, num_samples: int, out: str, seed: int = 0, labels: list[int] | None = None
) -> str:
    """Writes a PNG grid of ``num_samples`` samples, drawn with the preset's ``sample_kwargs``.

    Args:
        workdir: a work directory with a ``model.keras``, or a preset name (shipped weights).
        num_samples: how many images (any positive count; drawn in chunks).
        out: PNG path.
        seed: sampling seed.
        labels: class ids of a conditional model, repeated to ``num_samples`` (default: the
            classes in turn).

    Raises:
        ValueError: ``num_samples`` < 1, or ``labels`` for an unconditional model or out of range.
    """
    if num_samples < 1:
        raise ValueError(f"num_samples must be a positive int; got {num_samples!r}")
    src = source(workdir)
    recipe, name = src.recipe, src.preset.name
    if not can_sample(src.model_class):
        raise ValueError(f"{name!r} is an autoencoder: it does not sample")
    if labels is not None and not recipe.labels:
        raise ValueError(f"labels apply to conditional models; {name!r} is not one")
    model = src.load()
    kwargs = dict(src.preset.sample_kwargs)
    if getattr(model, "conditional", False):
        cycle = labels or list(range(model.num_classes))
        bad = [v for v in cycle if not 0 <= v < model.num_classes]
        if bad:
            raise ValueError(f"labels must be in [0, {model.num_classes}); got {bad}")
        kwargs["labels"] = np.resize(np.asarray(cycle, np.int32), num_samples)
    images = []
    for i in range(0, num_samples, _CHUNK):
        part = dict(kwargs)
        if "labels" in part:
            part["labels"] = part["labels"][i : i + _CHUNK]
        n = min(_CHUNK, num_samples - i)
        images.append(tfgen_callbacks.sample_images(model, n, seed + i, **part))
    return tfgen_callbacks.save_image_grid(np.concatenate(images), out, value_range=recipe.scale)


def export(workdir: str, out_dir: str) -> str:
    """Exports a work directory's model (or a preset's shipped one) as a SavedModel
    (``tfgen.export.export_saved_model``)."""
    from tfgen.export import export_saved_model

    if os.path.exists(out_dir) and os.listdir(out_dir):
        raise ValueError(f"outdir {out_dir!r} exists and is not empty; choose a new one")
    return export_saved_model(source(workdir).load(), out_dir)
