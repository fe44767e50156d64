"""Preset machinery: the recipe and preset records, the registry, and ``build``.

Presets are plain data: Keras, TensorFlow and tfgen are imported only by the functions that build
something (``make_optimizer``, ``steps_per_epoch``, ``build``), so ``import zoo`` is fast.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import keras


@dataclasses.dataclass(frozen=True)
class TrainRecipe:
    """How a preset is trained and evaluated.

    Attributes:
        dataset: ``tfgen.data`` name.
        binarize: binarization protocol (None, ``"static"`` or ``"dynamic"``).
        batch_size: training batch size.
        epochs: training epochs.
        learning_rate: peak Adam learning rate.
        schedule: None (constant) or ``"cosine"`` (cosine decay to 0 over the run, after warmup).
        warmup_epochs: linear warmup length when ``schedule="cosine"``.
        mixed_precision: None or a Keras dtype policy such as ``"mixed_bfloat16"``.
        steps_per_execution: batches per ``tf.function`` call in ``fit``.
        eval_batch_size: batch size of evaluation.
        labels: whether the model trains on ``(x, y)``.
        seed: seed of data order, binarization and initialisation.
        scale: the pixel range the model sees (``(-1, 1)`` for GANs).
        beta_1: Adam's first-moment decay (0.5 for GANs, as in DCGAN).
        max_minutes: stop training after this many minutes of ``fit`` (None: run all epochs).
    """

    dataset: str
    binarize: str | None
    batch_size: int
    epochs: int
    learning_rate: float
    schedule: str | None = None
    warmup_epochs: float = 0.0
    mixed_precision: str | None = None
    steps_per_execution: int = 1
    eval_batch_size: int = 500
    labels: bool = False
    seed: int = 0
    scale: tuple[float, float] = (0.0, 1.0)
    beta_1: float = 0.9
    max_minutes: float | None = None


# tfgen.distribute.JIT_MODES, named here so that ``import zoo`` does not import TensorFlow
JIT_MODES = ("auto", "on", "off")


@dataclasses.dataclass(frozen=True)
class Preset:
    """A named model configuration with its training recipe and recorded results.

    Attributes:
        name: ``<family>_<size>_<dataset>``.
        model_class: name of a class in ``tfgen.models``.
        model: constructor arguments of that class.
        train: the :class:`TrainRecipe`.
        description: one line for ``tfgen list`` and the README.
        results: the figures recorded in ``zoo/RESULTS.md``, and under ``"commands"`` the
            commands that made them.
        sample_kwargs: extra ``model.sample`` arguments for sample grids (e.g. ``{"mean": True}``
            for decoder means); none by default.
        compile_kwargs: further ``compile`` arguments.
        jit: XLA compilation of training and evaluation, a ``tfgen.distribute.JIT_MODES`` mode:
            ``"auto"`` (Keras' choice: off on CPU), or ``"on"`` where ``python -m zoo.bench.xla``
            shows it faster on the CPU.
    """

    name: str
    model_class: str
    model: dict[str, Any]
    train: TrainRecipe
    description: str
    results: dict[str, Any] = dataclasses.field(default_factory=dict)
    sample_kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)
    compile_kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)
    jit: str = "auto"

    def with_train(self, **changes) -> Preset:
        """A copy with some recipe fields replaced (e.g. ``epochs``, ``batch_size``, ``dataset``).

        Raises:
            ValueError: naming an unknown recipe field and listing the valid ones.
        """
        fields = {f.name for f in dataclasses.fields(TrainRecipe)}
        unknown = sorted(set(changes) - fields)
        if unknown:
            raise ValueError(f"unknown training field(s) {unknown}; valid: {sorted(fields)}")
        return dataclasses.replace(self, train=dataclasses.replace(self.train, **changes))


PRESETS: dict[str, Preset] = {}


def register(*presets: Preset) -> None:
    """Adds presets to the registry (each family module in ``zoo/presets/`` calls this once).

    Raises:
        ValueError: a name that is already registered, or a ``jit`` mode not in ``JIT_MODES``.
    """
    for preset in presets:
        if preset.name in PRESETS:
            raise ValueError(f"preset {preset.name!r} is registered twice")
        if preset.jit not in JIT_MODES:
            raise ValueError(f"jit must be one of {list(JIT_MODES)}; got {preset.jit!r}")
        PRESETS[preset.name] = preset


def list_presets() -> list[str]:
    """Names of all presets, sorted.

    Example:
        >>> "vae_tutorial_fashion_mnist" in list_presets()
        True
    """
    return sorted(PRESETS)


def get(name: str) -> Preset:
    """The preset called ``name``.

    Raises:
        KeyError: for an unknown name, with the closest matches.

    Example:
        >>> get("vae_tutorial_mnist").train.batch_size
        32
    """
    if name not in PRESETS:
        close = difflib.get_close_matches(name, PRESETS, n=3, cutoff=0.4)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise KeyError(f"unknown preset {name!r}{hint} (all presets: {', '.join(list_presets())})")
    return PRESETS[name]


def make_optimizer(recipe: TrainRecipe, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    """Adam with the recipe's learning rate and schedule (cosine decay with linear warmup)."""
    import keras

    if recipe.schedule is None:
        return keras.optimizers.Adam(recipe.learning_rate, beta_1=recipe.beta_1)
    if recipe.schedule != "cosine":
        raise ValueError(f"schedule must be None or 'cosine'; got {recipe.schedule!r}")
    total = max(1, steps_per_epoch * recipe.epochs)
    warmup = min(total - 1, int(round(recipe.warmup_epochs * steps_per_epoch)))
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0 if warmup else recipe.learning_rate,
        decay_steps=total - warmup,
        warmup_target=recipe.learning_rate if warmup else None,
        warmup_steps=warmup,
    )
    return keras.optimizers.Adam(schedule, beta_1=recipe.beta_1)


def steps_per_epoch(recipe: TrainRecipe) -> int:
    """Training batches per epoch for the recipe's dataset and batch size."""
    from tfgen import data

    return math.ceil(len(data.load_arrays(recipe.dataset, "train")[0]) / recipe.batch_size)


def build(
    name: str | Preset,
    *,
    strategy: str | None = None,
    precision: str | None = None,
    jit: str | None = None,
    **overrides,
) -> keras.Model:
    """The preset's model, compiled with one optimizer (and schedule) per optimizer it names.

    Seeds Python, NumPy and TensorFlow with the recipe's ``seed`` first (``keras.utils.
    set_random_seed``), so the same preset builds the same initial weights. Every name in the
    model's ``optimizer_names`` (``("optimizer",)``, or one per adversarial phase) gets an Adam
    from :func:`make_optimizer`.

    Args:
        name: a preset name or a :class:`Preset`.
        strategy: None (the current ``tf.distribute`` scope), ``"default"``, ``"mirrored"`` or
            ``"multi_worker"`` (``tfgen.distribute.make_strategy``): the model and optimizers are
            created in its scope. The batch stays the recipe's global batch.
        precision: None (the recipe's), ``"float32"``, ``"mixed_bfloat16"`` or
            ``"mixed_float16"``.
        jit: None (the preset's), ``"auto"``, ``"on"`` or ``"off"`` (XLA compilation).
        **overrides: constructor arguments replacing the preset's (e.g. ``latent_dim=8``).

    Raises:
        KeyError: unknown preset name.
        ValueError: an override that the model class does not take.

    Example:
        >>> vae = build("vae_tutorial_fashion_mnist")
        >>> type(vae).__name__, round(float(vae.optimizer.learning_rate), 6)
        ('VAE', 0.0001)
        >>> build("pixelcnn_small_binarized_fashion_mnist", precision="mixed_bfloat16", jit="off",
        ...       num_layers=1).dtype_policy.name
        'mixed_bfloat16'
    """
    import inspect

    import keras

    from tfgen import distribute, models
    from tfgen.mixed_precision import dtype_policy

    preset = get(name) if isinstance(name, str) else name
    if distribute.check_precision(precision) is not None:
        preset = preset.with_train(mixed_precision=None if precision == "float32" else precision)
    compile_kwargs = {
        **preset.compile_kwargs,
        "jit_compile": distribute.jit_compile(jit or preset.jit),
    }
    preset = dataclasses.replace(preset, compile_kwargs=compile_kwargs)
    scope = distribute.make_strategy(strategy).scope() if strategy else contextlib.nullcontext()
    cls = getattr(models, preset.model_class)
    allowed = set(inspect.signature(cls.__init__).parameters) - {"self", "kwargs"}
    unknown = sorted(set(overrides) - allowed)
    if unknown:
        raise ValueError(f"{cls.__name__} takes no argument(s) {unknown}; valid: {sorted(allowed)}")
    keras.utils.set_random_seed(preset.train.seed)  # reproducible initial weights
    # The layers keep the policy they are built under; the caller's global policy is restored.
    with scope, dtype_policy(preset.train.mixed_precision or "float32"):
        model = cls(**{**preset.model, "seed": preset.train.seed, **overrides})
        steps = steps_per_epoch(preset.train) if preset.train.schedule else 1
        model.compile(
            **{name: make_optimizer(preset.train, steps) for name in model.optimizer_names},
            **preset.compile_kwargs,
            steps_per_execution=preset.train.steps_per_execution,
        )
    return model
