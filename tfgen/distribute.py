"""Scaling out: a ``tf.distribute`` strategy by name, the chief of a cluster, precision and XLA.

tfgen trains with Keras 3 on TensorFlow, where ``keras.distribution`` is not available; several
devices and several machines use ``tf.distribute`` instead:

* ``"default"``: one device (TensorFlow's default strategy).
* ``"mirrored"``: ``tf.distribute.MirroredStrategy`` over every GPU of this machine (one replica
  per GPU; on a machine without GPUs, one CPU replica).
* ``"multi_worker"``: ``tf.distribute.MultiWorkerMirroredStrategy``; the cluster and this
  process' task come from the ``TF_CONFIG`` environment variable, which must be set in every
  worker before TensorFlow starts. Build it before any other TensorFlow operation.

The batch a step sees is the global batch: each of R replicas gets ``batch / R`` examples, the
train steps divide the loss by the replica's share of the global batch (:func:`replica_share`)
and ``tf.distribute`` sums the gradients, so one step equals one step on one device at the same
batch.

The chief (task ``chief``, else ``worker`` 0, else the only process) is the one that writes a
run's shared files (:func:`is_chief`).

Example:
    >>> strategy = make_strategy("default")
    >>> strategy.num_replicas_in_sync, is_chief({}), jit_compile("off")
    (1, True, False)
"""

from __future__ import annotations

import json
import os

import tensorflow as tf

from tfgen import checks

__all__ = [
    "JIT_MODES",
    "PRECISIONS",
    "STRATEGIES",
    "any_worker",
    "check_precision",
    "in_multi_worker_mode",
    "is_chief",
    "jit_compile",
    "make_strategy",
    "min_over_workers",
    "replica_seed",
    "replica_share",
    "tf_config",
    "worker_name",
]

#: Strategy names accepted by :func:`make_strategy` (and ``tfgen train --strategy``).
STRATEGIES = ("default", "mirrored", "multi_worker")
#: Keras dtype policies a run can train under (``tfgen train --precision``).
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
#: XLA modes (``tfgen train --jit``): ``auto`` compiles on GPU only (on the CPU XLA is slower for
#: most of tfgen's models; ``zoo.bench.xla`` measures it per preset).
JIT_MODES = ("auto", "on", "off")

_multi_worker: tf.distribute.Strategy | None = None


def tf_config(environ=None) -> dict:
    """The parsed ``TF_CONFIG`` (``{}`` when unset).

    Raises:
        ValueError: ``TF_CONFIG`` is not a JSON object.
    """
    text = (os.environ if environ is None else environ).get("TF_CONFIG", "").strip()
    if not text:
        return {}
    try:
        config = json.loads(text)
    except ValueError:
        config = None
    if not isinstance(config, dict):
        raise checks.fail("TF_CONFIG", "a JSON object with 'cluster' and 'task'", text[:200])
    return config


def is_chief(config: dict | None = None) -> bool:
    """Whether this process writes the shared files of a run (a ``TF_CONFIG`` dict, default
    the environment's): task ``chief``, or ``worker`` 0 of a cluster without a chief, or no
    cluster at all.

    Example:
        >>> cluster = {"worker": ["host1:2222", "host2:2222"]}
        >>> is_chief({"cluster": cluster, "task": {"type": "worker", "index": 1}})
        False
    """
    config = tf_config() if config is None else config
    task = config.get("task") or {}
    if not task:
        return True
    kind, index = task.get("type"), int(task.get("index", 0))
    if kind == "chief":
        return True
    return kind == "worker" and index == 0 and "chief" not in (config.get("cluster") or {})


def worker_name(config: dict | None = None) -> str:
    """``"<task type>_<index>"`` of this process (``"chief"`` without a cluster).

    Example:
        >>> worker_name({"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker",
        ...                                                             "index": 1}})
        'worker_1'
    """
    task = (tf_config() if config is None else config).get("task") or {}
    return f"{task['type']}_{int(task.get('index', 0))}" if task else "chief"


def make_strategy(name: str = "default") -> tf.distribute.Strategy:
    """The ``tf.distribute`` strategy called ``name`` (one of :data:`STRATEGIES`).

    ``"multi_worker"`` must be made before any other TensorFlow operation in the process, with
    ``TF_CONFIG`` set; later calls return the same strategy (one cluster per process).

    Raises:
        ValueError: an unknown name, or ``"multi_worker"`` without a ``TF_CONFIG`` cluster.
    """
    checks.one_of("strategy", name, STRATEGIES)
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        return tf.distribute.MirroredStrategy([d.name for d in gpus] or None)
    config = tf_config()
    if not config.get("cluster") or not config.get("task"):
        raise ValueError(
            "strategy 'multi_worker' needs TF_CONFIG with 'cluster' and 'task' in every worker; "
            f"got TF_CONFIG={os.environ.get('TF_CONFIG', '')!r}"
        )
    global _multi_worker
    if _multi_worker is None:  # TensorFlow configures its collectives once per process
        _multi_worker = tf.distribute.MultiWorkerMirroredStrategy()
    return _multi_worker


def check_precision(precision: str | None) -> str | None:
    """``precision`` if it is None or one of :data:`PRECISIONS` (the policy name)."""
    if precision is None:
        return None
    return checks.one_of("precision", precision, PRECISIONS)


def jit_compile(mode: str) -> bool | str:
    """The Keras ``compile(jit_compile=...)`` value of a mode in :data:`JIT_MODES`.

    Example:
        >>> [jit_compile(m) for m in JIT_MODES]
        ['auto', True, False]
    """
    return {"auto": "auto", "on": True, "off": False}[checks.one_of("jit", mode, JIT_MODES)]


def in_multi_worker_mode(strategy: tf.distribute.Strategy | None = None) -> bool:
    """Whether ``strategy`` (default: the current one) spans several worker processes."""
    strategy = strategy or tf.distribute.get_strategy()
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return False
    return strategy.extended._in_multi_worker_mode()  # noqa: SLF001  (as Keras checks it)


def replica_share(batch_size) -> tf.Tensor:
    """This replica's share ``n_r / N`` of the global batch, float32 (1 on one device).

    Multiplying each replica's batch-mean loss by its share makes the summed gradients those of
    the global batch's mean, also when the last batch does not split evenly; a replica with an
    empty share contributes 0. Call it inside a train step (replica context).
    """
    local = tf.cast(batch_size, tf.float32)
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return tf.ones([], tf.float32)
    return tf.math.divide_no_nan(local, context.all_reduce("SUM", local))


def free_ports(n: int) -> list[int]:
    """``n`` TCP ports free on 127.0.0.1 now (for a local multi-worker cluster).

    Example:
        >>> len(set(free_ports(2)))
        2
    """
    import socket

    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def replica_seed(seed: tf.Tensor) -> tf.Tensor:
    """A ``[2]`` stateless seed made distinct per replica (unchanged on one replica).

    Under a strategy every replica reads the same random-stream state, so noise drawn from it
    would repeat on every replica; folding in the replica id gives each its own draws.
    """
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return seed
    replica = tf.cast(context.replica_id_in_sync_group, seed.dtype)
    return tf.random.experimental.stateless_fold_in(seed, replica)


def _per_replica(strategy: tf.distribute.Strategy, value: float):
    return strategy.experimental_distribute_values_from_function(
        lambda _: tf.constant([value], tf.float32)
    )


def any_worker(strategy: tf.distribute.Strategy, flag: bool) -> bool:
    """Whether ``flag`` is True in any worker (a collective: every worker must call it)."""
    if strategy.num_replicas_in_sync == 1:
        return bool(flag)
    total = strategy.reduce("SUM", _per_replica(strategy, float(bool(flag))), axis=None)
    return float(tf.reduce_sum(total)) > 0


def min_over_workers(strategy: tf.distribute.Strategy, value: int) -> int:
    """The smallest ``value`` over all workers (a collective: every worker must call it)."""
    if strategy.num_replicas_in_sync == 1:
        return int(value)
    gathered = strategy.gather(_per_replica(strategy, float(value)), axis=0)
    return int(tf.reduce_min(gathered))
