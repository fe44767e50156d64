"""Resumable training state: atomic file writes and per-epoch checkpoints that survive a kill.

Every file is written to a temporary name and renamed over the target (atomic), so a kill leaves
the previous complete file or the new one, never half of one. :class:`EpochCheckpoint` saves the
whole training state after every epoch and :func:`load_checkpoint` resumes from the newest one
that loads. ``tfgen.callbacks`` re-exports everything here.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
import shutil
import signal

import keras
import numpy as np

from tfgen import checks

_FAULT_HITS: dict[str, int] = {}


def fault_point(name: str, path: str | None = None) -> None:
    """Test hook: SIGKILLs this process at the point ``name`` when ``$TFGEN_FAULT`` names it.

    ``$TFGEN_FAULT`` is ``name`` (first time the point is reached) or ``name#k`` (k-th time). With
    ``path``, the file is first cut to half its size, as a kill while writing it would leave it.
    """
    wanted, _, count = os.environ.get("TFGEN_FAULT", "").partition("#")
    _FAULT_HITS[name] = _FAULT_HITS.get(name, 0) + 1
    if wanted != name or _FAULT_HITS[name] != int(count or 1):
        return
    if path is not None and os.path.isfile(path):
        os.truncate(path, os.path.getsize(path) // 2)
    os.kill(os.getpid(), signal.SIGKILL)


@contextlib.contextmanager
def atomic_path(path: str):
    """Yields a temporary name next to ``path``; on success it is flushed and renamed to ``path``.

    The temporary name keeps ``path``'s extension (Keras checks it) and starts with ``.tmp-``; on an
    error it is removed and ``path`` is left as it was.

    Example:
        >>> import tempfile
        >>> target = os.path.join(tempfile.mkdtemp(), "a.txt")
        >>> with atomic_path(target) as tmp:
        ...     _ = open(tmp, "w").write("done")
        >>> open(target).read()
        'done'
    """
    head, tail = os.path.split(os.path.abspath(path))
    tmp = os.path.join(head, f".tmp-{os.getpid()}-{tail}")
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        fault_point("write:" + tail, tmp)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)


def write_json(path: str, obj) -> None:
    """Writes ``obj`` as JSON to ``path`` atomically (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True)


def seed_generators(model) -> list:
    """Every ``keras.random.SeedGenerator`` of ``model`` and its layers, each once."""
    found = []
    for layer in model._flatten_layers(include_self=True):
        found += [g for g in getattr(layer, "_seed_generators", []) if g not in found]
    return found


class EpochCheckpoint(keras.callbacks.Callback):
    """Saves the whole training state after every epoch, atomically, keeping the last ``keep``.

    Files: ``{directory}/epoch_NNNN.keras`` (model, optimizer state, the model's random stream)
    then ``epoch_NNNN.json`` (finished epochs, optimizer steps, the per-epoch ``history`` rows and
    every ``keras.random.SeedGenerator`` state of the model, e.g. dropout's), each written under a
    temporary name and renamed; an epoch counts only once both exist. With ``model_path`` the
    newest model is also put there (a hard link, or a copy), atomically. Unlike Keras'
    ``BackupAndRestore`` nothing is deleted when ``fit`` ends, so a finished run can be extended.
    Resume with :func:`load_checkpoint`. An epoch whose logs are not finite is not saved:
    training stops and ``refused`` holds that epoch (the previous checkpoint stays the newest).

    Args:
        directory: where checkpoints go (created).
        keep: how many checkpoints to keep (>= 2 keeps a fallback for a damaged newest one).
        model_path: optional path that always holds the newest model (``.keras``).
        history: the rows of epochs already trained (from :func:`load_checkpoint`), continued.
        extra_state: optional callable returning more JSON entries for each checkpoint's state.

    Example:
        >>> cb = EpochCheckpoint("/tmp/run/backup", keep=2, model_path="/tmp/run/model.keras")
    """

    def __init__(
        self, directory: str, keep: int = 2, model_path=None, history=(), extra_state=None
    ):
        super().__init__()
        self.extra_state, self.refused = extra_state, None
        self.directory, self.model_path = directory, model_path
        self.keep = checks.positive_int("keep", keep)
        self.history = [dict(row) for row in history]

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if not all(np.isfinite(float(v)) for v in (logs or {}).values()):
            self.refused = epoch  # never replace a good checkpoint with non-finite weights
            self.model.stop_training = True
            return
        os.makedirs(self.directory, exist_ok=True)
        stem = os.path.join(self.directory, f"epoch_{epoch + 1:04d}")
        steps = int(self.model.optimizer.iterations.numpy()) if self.model.optimizer else 0
        row = {"epoch": epoch, "steps": steps, **{k: float(v) for k, v in (logs or {}).items()}}
        self.history = [r for r in self.history if r["epoch"] < epoch] + [row]
        with atomic_path(stem + ".keras") as tmp:
            self.model.save(tmp)
        seeds = [np.asarray(g.state.numpy()).tolist() for g in seed_generators(self.model)]
        state = {"epoch": epoch + 1, "steps": steps, "history": self.history, "seeds": seeds}
        state.update(self.extra_state() if self.extra_state else {})
        write_json(stem + ".json", state)
        self.publish(epoch + 1)
        for old in _checkpoints(self.directory)[self.keep :]:
            for ext in (".json", ".keras"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(old + ext)

    def publish(self, epoch: int) -> None:
        """Puts checkpoint ``epoch`` at ``model_path``: a hard link (or copy), renamed over it."""
        source = os.path.join(self.directory, f"epoch_{epoch:04d}.keras")
        if not self.model_path or (
            os.path.exists(self.model_path) and os.path.samefile(source, self.model_path)
        ):
            return  # (renaming a hard link over its twin would do nothing)
        tmp = os.path.join(os.path.dirname(self.model_path), ".tmp-link-model.keras")
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)  # left by a kill
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
        fault_point("link:" + os.path.basename(self.model_path))
        os.replace(tmp, self.model_path)


def _checkpoints(directory: str) -> list[str]:
    """Checkpoint stems (``.../epoch_NNNN``) in ``directory``, newest first."""
    names = glob.glob(os.path.join(glob.escape(directory), "epoch_*.json"))
    stems = [
        n[: -len(".json")] for n in names if re.fullmatch(r"epoch_\d+\.json", os.path.basename(n))
    ]
    return sorted(stems, reverse=True)


def load_checkpoint(directory: str, on_skip=None, max_epoch: int | None = None):
    """The newest checkpoint of an :class:`EpochCheckpoint` that loads, with its state.

    A damaged checkpoint (truncated, unreadable) is skipped for the one before it; ``on_skip`` is
    called with a one-line reason for each one skipped. The model's random streams are restored.
    With ``max_epoch``, checkpoints of later epochs are ignored (workers of a multi-worker run
    resume from the newest epoch they all have). The model is made under the current
    ``tf.distribute`` strategy's scope when called inside one.

    Returns:
        ``(model, state)`` with ``state["epoch"]`` finished epochs, ``state["steps"]`` and
        ``state["history"]``; ``(None, None)`` when no checkpoint loads.
    """
    for stem in _checkpoints(directory):
        if max_epoch is not None and int(stem.rsplit("_", 1)[1]) > max_epoch:
            continue
        try:
            with open(stem + ".json") as f:
                state = json.load(f)
            model = keras.models.load_model(stem + ".keras")
            generators = seed_generators(model)
            if len(generators) != len(state["seeds"]):
                raise ValueError("its random-stream states do not match the model")
            for generator, value in zip(generators, state["seeds"], strict=True):
                generator.state.assign(np.asarray(value, generator.state.dtype))
        except Exception as e:  # noqa: BLE001  (any damage means: try the previous one)
            if on_skip is not None:
                reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                on_skip(f"skipped damaged checkpoint {stem}.keras ({reason[:200]})")
            continue
        return model, state
    return None, None
