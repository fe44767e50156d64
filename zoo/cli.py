"""The `tfgen` command: list presets, train them (resumably), evaluate, sample and export.

Examples::

    tfgen list
    tfgen train vae_fast_fashion_mnist --workdir runs/vae --epochs 2
    tfgen train vae_fast_fashion_mnist --workdir runs/vae --resume      # after a kill or budget
    tfgen train vae_fast_fashion_mnist --workdir runs/vae --resume --epochs 4   # train 2 more
    tfgen train vae_fast_fashion_mnist --strategy mirrored --precision mixed_float16  # 2 GPUs
    tfgen evaluate runs/vae --importance-samples 100
    tfgen sample runs/vae --num-samples 64 --out grid.png
    tfgen export runs/vae exported/vae
    tfgen score runs/nade --out-of-distribution digits inverted --method nll complexity

`tfgen --help` and `tfgen list` do not import TensorFlow; the other commands hide TensorFlow's
start-up log lines unless `--verbose` is given.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
import threading

# TensorFlow's start-up lines: oneDNN notice, CPU features, missing CUDA, cuInit failure.
_NOISE = re.compile(
    r"absl::InitializeLog|oneDNN custom operations|cpu_feature_guard|To enable the following "
    r"instructions|rebuild TensorFlow|cuda drivers|cuInit|cudart_stub|cuda_platform|"
    r"Unable to register cu(DNN|FFT|BLAS) factory|computation placer|TF-TRT Warning|"
    r"oneDNN supports DT_|Falling back to the default Eigen"
)


_SOURCE_HELP = "a work directory written by `tfgen train`, or a preset name (its shipped weights)"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive number; got {text}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number; got {text}")
    return value


def _labels(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError(f"must be class ids such as 0,3,7; got {text}")
    return values


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tfgen",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run `tfgen COMMAND --help` for a command's options.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("list", help="list presets (name, model class, dataset, description)")
    tr = sub.add_parser("train", help="train a preset in a work directory")
    tr.add_argument("preset", help="preset name (see `tfgen list`)")
    tr.add_argument(
        "--dataset",
        help="train on another dataset: fashion_mnist, mnist, digits, synthetic, tfds:NAME, or a "
        "folder of images (class sub-folders give labels; 10%% held out as the test split)",
    )
    tr.add_argument(
        "--epochs", type=_positive_int, help="total epochs (with --resume: extend a run to N)"
    )
    tr.add_argument("--batch-size", type=_positive_int, help="training batch size")
    tr.add_argument(
        "--seed",
        type=int,
        help="the recipe's random seed replaced (weights, data order, binarization draws); "
        "the test split stays the protocol's",
    )
    tr.add_argument(
        "--minutes",
        type=_positive_float,
        help="training budget of this call in minutes (tracing, validation and saving count); "
        "training stops inside an epoch when it runs out and --resume continues",
    )
    tr.add_argument("--workdir", help="output directory (default runs/PRESET)")
    tr.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --workdir from its last saved epoch (after a kill, a budget "
        "stop, or with a larger --epochs)",
    )
    tr.add_argument(
        "--strategy",
        choices=("default", "mirrored", "multi_worker"),
        default="default",
        help="tf.distribute strategy: one device, every GPU of this machine, or the workers in "
        "TF_CONFIG (only the chief writes model, metrics, samples, logs); the batch stays the "
        "recipe's global batch",
    )
    tr.add_argument(
        "--precision",
        choices=("float32", "mixed_bfloat16", "mixed_float16"),
        help="dtype policy (default: the recipe's); mixed_float16 uses loss scaling (GPU)",
    )
    tr.add_argument(
        "--jit",
        choices=("auto", "on", "off"),
        help="XLA compilation of the train step (auto: on GPU only; default: the preset's jit, "
        "or the run's)",
    )
    ev = sub.add_parser("evaluate", help="test figures of a trained work directory")
    ev.add_argument("workdir", help=_SOURCE_HELP)
    ev.add_argument(
        "--importance-samples",
        type=_positive_int,
        metavar="K",
        help="also estimate a latent model's NLL (IWAE) with K importance samples (VAE, CVAE)",
    )
    ev.add_argument("--max-examples", type=_positive_int, help="use the first N test images")
    ev.add_argument("--seed", type=int, default=0, help="seed of samples and importance draws")
    sa = sub.add_parser("sample", help="write a PNG grid of samples")
    sa.add_argument("workdir", help=_SOURCE_HELP)
    sa.add_argument("--num-samples", type=_positive_int, default=64, help="number of images")
    sa.add_argument("--seed", type=int, default=0, help="sampling seed")
    sa.add_argument(
        "--labels",
        type=_labels,
        help="class ids for a conditional model, e.g. 3 or 0,1,2 (repeated to --num-samples; "
        "default: every class in turn)",
    )
    sa.add_argument("--out", required=True, help="PNG path")
    ex = sub.add_parser("export", help="export a SavedModel (sample, log_prob, ... endpoints)")
    ex.add_argument("workdir", help=_SOURCE_HELP)
    ex.add_argument("outdir", help="new directory for the SavedModel")
    rp = sub.add_parser("report", help="one HTML page of a run: curves, samples, recipe, figures")
    rp.add_argument("workdir", help="a work directory written by `tfgen train`")
    rp.add_argument("--out", help="HTML path (default WORKDIR/report.html)")
    from zoo import scoring

    sc = scoring.add_parser(sub)
    for command in (tr, ev, sa, ex, rp, sc):
        command.add_argument(
            "--verbose",
            nargs="?",
            type=int,
            const=1,
            choices=(0, 1, 2),
            metavar="LEVEL",
            help="show TensorFlow's start-up log lines; for train also Keras' verbosity LEVEL "
            "(1, the default with --verbose: progress bar; 2: one line per epoch, as without "
            "--verbose; 0: silent)",
        )
    return parser


@contextlib.contextmanager
def _quiet_stderr(verbose: bool):
    """Filters TensorFlow's start-up and oneDNN lines out of file descriptor 2 (C++ logs
    included) while the command runs; ``verbose`` keeps everything."""
    if verbose:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)

    sink_fd = os.dup(saved)

    def forward() -> None:
        with os.fdopen(read_end, "rb") as source, os.fdopen(sink_fd, "wb", 0) as sink:
            for line in source:
                if not _NOISE.search(line.decode(errors="replace")):
                    sink.write(line)

    thread = threading.Thread(target=forward, daemon=True)
    thread.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)  # closes the pipe's last write end: the thread drains and stops
        os.close(saved)
        thread.join(timeout=5)


def _list() -> None:
    import zoo

    rows = [(n, zoo.get(n).model_class, zoo.get(n).train.dataset) for n in zoo.list_presets()]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for name, cls, dataset in rows:
        description = zoo.get(name).description
        print(f"{name:{widths[0]}}  {cls:{widths[1]}}  {dataset:{widths[2]}}  {description}")


def _run(args) -> None:
    from zoo import train as runner

    if args.command == "train":
        workdir = args.workdir or os.path.join("runs", args.preset)
        metrics = runner.train(
            args.preset,
            workdir,
            dataset=args.dataset,
            epochs=args.epochs,
            batch_size=args.batch_size,
            max_minutes=args.minutes,
            resume=args.resume,
            verbose=2 if args.verbose is None else args.verbose,
            strategy=args.strategy,
            precision=args.precision,
            jit=args.jit,
            seed=args.seed,
        )
        keys = ("epochs", "steps", "stopped_by", "train_seconds_this_session", "test")
        print(json.dumps({"workdir": workdir, **{k: metrics[k] for k in keys}}, indent=2))
    elif args.command == "evaluate":
        result = runner.evaluate(args.workdir, args.importance_samples or 0, args.max_examples)
        print(json.dumps(result, indent=2))
    elif args.command == "sample":
        path = runner.sample(args.workdir, args.num_samples, args.out, args.seed, args.labels)
        print(path)
    elif args.command == "export":
        print(runner.export(args.workdir, args.outdir))
    elif args.command == "report":
        from zoo.report import write_report

        print(write_report(args.workdir, args.out))
    elif args.command == "score":
        from zoo import scoring

        scoring.run(args)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `tfgen` console script; returns the process exit code."""
    args = _parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        if args.command == "list":
            _list()
        else:
            with _quiet_stderr(args.verbose is not None):
                _run(args)
    except (KeyError, ValueError, FileNotFoundError, RuntimeError) as e:
        if isinstance(e, RuntimeError) and type(e).__name__ != "WorkdirError":
            raise  # a bug, not a usage error: keep the traceback
        print(f"tfgen {args.command}: error: {e.args[0] if e.args else e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
