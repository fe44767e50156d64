"""NADE speed and time to quality: vectorised log_prob vs per-dimension loops, sampling, training.

Parts, run in one process in the order given:

* ``logprob``: ``NADE.log_prob`` (one vectorised O(D*H) pass, blocked prefix sum) against
  references computing the same conditionals with the same weights one dimension at a time:
  ``loop-graph`` (``a_{i+1} = a_i + W[i] x_i`` in a ``tf.while_loop`` inside a ``tf.function``,
  the best a loop can do), ``loop-eager`` (the same loop as Python code, one dimension per
  iteration) and ``cumsum`` (the textbook vectorised form with ``tf.cumsum``). All are checked to
  agree to 1e-3 nats before timing; each time is the best of ``--repeats`` calls after a warm-up.
* ``sample``: images/s of ``NADE.sample`` (D = 784 sequential steps in one ``tf.while_loop``).
* ``train``: trains the ``nade_fast_binarized_fashion_mnist`` preset for ``--minutes`` of
  training time, evaluating the test NLL (10,000 images binarized once with seed 0) every
  ``--eval-seconds`` of training; evaluations are off the clock. Writes ``curve.json`` and
  ``model.keras`` to ``--workdir``.
* ``baseline``: the test NLL of the independent-pixel baseline at its closed-form maximum
  likelihood (``IndependentBernoulli.mle_logits`` of the grey-level training images), on the
  same dynamically binarized test set.

Run from the repository root (timings are the machine's; run on an otherwise idle CPU)::

    python -m zoo.bench.nade logprob sample
    python -m zoo.bench.nade train --minutes 10 --workdir runs/nade_fast
    python -m zoo.bench.nade baseline
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

PRESET = "nade_fast_binarized_fashion_mnist"


# ------------------------------------------------------------------ references
def loop_log_prob(model, x):
    """``log p(x)`` one dimension at a time: ``a_{i+1} = a_i + W[i] x_i`` (same weights)."""
    import tensorflow as tf

    v = model._flatten_ordered(x)
    w, c = model.input_weights, model.hidden_bias
    out_w, out_b = model.output_weights, model.output_bias
    v_t = tf.transpose(v)

    def step(i, a, total):
        logit = tf.linalg.matvec(tf.sigmoid(a), out_w[i]) + out_b[i]
        total += v_t[i] * logit - tf.nn.softplus(logit)
        return i + 1, a + v_t[i][:, None] * w[i], total

    a0 = tf.tile(c[None], [tf.shape(v)[0], 1])
    init = (tf.constant(0), a0, tf.zeros(tf.shape(v)[:1]))
    return tf.while_loop(lambda i, *_: i < model.num_dims, step, init)[2]


def eager_loop_log_prob(model, x):
    """The same recurrence as a Python loop over the D dimensions (eager)."""
    import tensorflow as tf

    v = model._flatten_ordered(x)
    a = tf.tile(model.hidden_bias[None], [v.shape[0], 1])
    total = tf.zeros(v.shape[:1])
    for i in range(model.num_dims):
        logit = tf.linalg.matvec(tf.sigmoid(a), model.output_weights[i]) + model.output_bias[i]
        total += v[:, i] * logit - tf.nn.softplus(logit)
        a += v[:, i : i + 1] * model.input_weights[i]
    return total


def cumsum_log_prob(model, x):
    """The textbook vectorised pass: ``tf.cumsum`` of the ``[B, D, H]`` outer products."""
    import tensorflow as tf

    v = model._flatten_ordered(x)
    a = model.hidden_bias + tf.cumsum(v[:, :, None] * model.input_weights, axis=1, exclusive=True)
    logits = tf.reduce_sum(tf.sigmoid(a) * model.output_weights, -1) + model.output_bias
    return tf.reduce_sum(v * logits - tf.nn.softplus(logits), -1)


def best_seconds(fn, repeats: int) -> float:
    """Best time of ``repeats`` calls of ``fn`` (returning a tensor) after one warm-up call."""
    fn().numpy()  # warm-up (traces tf.functions)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn().numpy()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_log_prob(model, batch_sizes, repeats: int) -> None:
    """Prints ms per batch of the vectorised ``log_prob`` and the references."""
    import tensorflow as tf

    from tfgen import data

    x_all = next(iter(data.load("fashion_mnist", "test", batch_size=max(batch_sizes),
                                binarize="dynamic")))  # fmt: skip
    fns = {
        "vectorised": tf.function(model.log_prob),
        "loop-graph": tf.function(lambda x: loop_log_prob(model, x)),
        "cumsum": tf.function(lambda x: cumsum_log_prob(model, x)),
        "loop-eager": lambda x: eager_loop_log_prob(model, x),
    }
    print(f"log_prob, D={model.num_dims}, H={model.hidden_units}: ms per batch (speed-up of "
          "the vectorised pass)")  # fmt: skip
    print(f"{'batch':>6s}" + "".join(f"{name:>22s}" for name in fns))
    for batch in batch_sizes:
        x = x_all[:batch]
        reference = fns["vectorised"](x).numpy()
        row = f"{batch:6d}"
        base = None
        for name, fn in fns.items():
            if name == "loop-eager" and batch > 16:
                row += f"{'-':>22s}"
                continue
            start = time.perf_counter()
            error = float(np.max(np.abs(fn(x).numpy() - reference)))
            seconds = time.perf_counter() - start  # eager: no tracing, one call is enough
            assert error < 1e-3 + 1e-5 * float(np.max(np.abs(reference))), (name, error)
            if name != "loop-eager":
                seconds = best_seconds(lambda fn=fn, x=x: fn(x), repeats)
            base = base or seconds
            row += f"{seconds * 1e3:13.1f} ({seconds / base:5.1f}x)"
        print(row, flush=True)


def bench_sample(model, sizes, repeats: int) -> None:
    """Prints images/s of ``model.sample`` for each batch size."""
    print(f"\nsampling 28x28 ({model.num_dims} sequential steps in one tf.while_loop)")
    for n in sizes:
        seconds = best_seconds(lambda n=n: model.sample(n, seed=0), repeats)
        print(f"{n:6d} images: {seconds:7.2f} s  ->  {n / seconds:8.1f} images/s", flush=True)


# ------------------------------------------------------------------ time to NLL
def train(minutes: float, eval_seconds: float, workdir: str) -> None:
    """Trains the preset for ``minutes``, printing the test NLL every ``eval_seconds``."""
    import keras

    import zoo
    from tfgen import data
    from zoo.presets import steps_per_epoch

    preset = zoo.get(PRESET)
    recipe = preset.train
    keras.utils.set_random_seed(recipe.seed)
    model = zoo.build(preset)
    load = dict(name=recipe.dataset, binarize=recipe.binarize, seed=recipe.seed)
    train_data = data.load(split="train", batch_size=recipe.batch_size, **load).repeat()
    test_data = data.load(split="test", batch_size=recipe.eval_batch_size, **load)
    curve: list[dict] = []

    def evaluate(seconds, images):
        logs = model.evaluate(test_data, verbose=0, return_dict=True)
        curve.append(dict(minutes=seconds / 60, images=images, test_nll=logs["loss"],
                          bits_per_dim=logs["bits_per_dim"]))  # fmt: skip
        print(f"{seconds / 60:7.2f} min {images:9d} images {images / max(seconds, 1e-9):7.0f} "
              f"img/s  test NLL {logs['loss']:8.2f} nats  {logs['bits_per_dim']:.4f} bits/dim",
              flush=True)  # fmt: skip

    class Clock(keras.callbacks.Callback):
        """Training clock that stops during evaluations; evaluates every ``eval_seconds``."""

        def on_train_begin(self, logs=None):
            self.seconds, self.steps, self.next_eval = 0.0, 0, eval_seconds
            self.start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            now = time.perf_counter()
            self.seconds += now - self.start
            self.steps += recipe.steps_per_execution
            images = self.steps * recipe.batch_size
            if self.seconds >= minutes * 60:
                self.model.stop_training = True
            elif self.seconds >= self.next_eval:
                evaluate(self.seconds, images)
                self.next_eval += eval_seconds
            self.start = time.perf_counter()

    clock = Clock()
    print(f"{PRESET}: {recipe}\ntraining for {minutes} min, test NLL every {eval_seconds} s\n")
    model.fit(
        train_data,
        epochs=recipe.epochs,
        steps_per_epoch=steps_per_epoch(recipe),
        callbacks=[clock],
        shuffle=False,
        verbose=0,
    )
    evaluate(clock.seconds, clock.steps * recipe.batch_size)
    os.makedirs(workdir, exist_ok=True)
    model.save(os.path.join(workdir, "model.keras"))
    result = dict(preset=PRESET, recipe=repr(recipe), curve=curve, train_seconds=clock.seconds)
    with open(os.path.join(workdir, "curve.json"), "w") as f:
        json.dump(result, f, indent=2)
    print(f"\nfinal test NLL {curve[-1]['test_nll']:.2f} nats after {clock.seconds / 60:.2f} min"
          " of training")  # fmt: skip


def baseline() -> float:
    """Prints and returns the closed-form independent-pixel test NLL (nats per image)."""
    from tfgen import data
    from tfgen.models import IndependentBernoulli

    train_images = data.load_arrays("fashion_mnist", "train")[0] / 255.0
    logits = IndependentBernoulli.mle_logits(train_images).reshape(-1)
    test = data.load("fashion_mnist", "test", batch_size=1000, binarize="dynamic", seed=0)
    x = np.concatenate(list(test.as_numpy_iterator())).reshape(-1, logits.size)
    nll = float(np.mean(np.sum(np.logaddexp(0.0, logits) - x * logits, axis=1)))
    print(f"independent pixels, closed-form MLE: test NLL {nll:.2f} nats, "
          f"{nll / (logits.size * np.log(2)):.4f} bits/dim")  # fmt: skip
    return nll


def main(argv: list[str] | None = None) -> None:
    """Runs the parts named on the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m zoo.bench.nade", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("parts", nargs="+", choices=["logprob", "sample", "train", "baseline"])
    parser.add_argument("--hidden-units", type=int, default=500, help="H of the speed runs")
    parser.add_argument("--batch-sizes", default="1,16,100,500", help="log_prob batch sizes")
    parser.add_argument("--sample-sizes", default="1,100,1000", help="sampling batch sizes")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=10.0, help="training budget")
    parser.add_argument("--eval-seconds", type=float, default=60.0)
    parser.add_argument("--workdir", default="runs/bench_nade")
    args = parser.parse_args(argv)
    if {"logprob", "sample"} & set(args.parts):
        from tfgen.models import NADE

        model = NADE((28, 28, 1), hidden_units=args.hidden_units, seed=0)
    if "logprob" in args.parts:
        sizes = [int(s) for s in args.batch_sizes.split(",")]
        bench_log_prob(model, sizes, args.repeats)
    if "sample" in args.parts:
        bench_sample(model, [int(s) for s in args.sample_sizes.split(",")], args.repeats)
    if "train" in args.parts:
        train(args.minutes, args.eval_seconds, args.workdir)
    if "baseline" in args.parts:
        baseline()


if __name__ == "__main__":
    main()
