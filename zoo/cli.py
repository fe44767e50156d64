"""The `tfgen` command: list presets, train them (resumably), evaluate, sample and export.

Examples::

    tfgen list
    tfgen train vae_fast_fashion_mnist --workdir runs/vae --epochs 2
    tfgen train vae_fast_fashion_mnist --workdir runs/vae --resume      # after a kill
    tfgen evaluate runs/vae --importance-samples 100
    tfgen sample runs/vae --num-samples 64 --out grid.png
    tfgen export runs/vae exported/vae
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number; got {text}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tfgen", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list presets")
    tr = sub.add_parser("train", help="train a preset in a work directory")
    tr.add_argument("preset")
    tr.add_argument(
        "--dataset", help="train on another dataset (fashion_mnist, mnist, digits, synthetic)"
    )
    tr.add_argument("--epochs", type=_positive_int)
    tr.add_argument("--batch-size", type=_positive_int)
    tr.add_argument("--minutes", type=_positive_float, help="stop training after this long")
    tr.add_argument("--workdir", help="output directory (default runs/PRESET)")
    tr.add_argument("--resume", action="store_true", help="continue an unfinished run in --workdir")
    tr.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2), help="Keras fit verbosity")
    ev = sub.add_parser("evaluate", help="test metrics of a trained work directory")
    ev.add_argument("workdir")
    ev.add_argument(
        "--importance-samples",
        type=int,
        default=0,
        metavar="K",
        help="also estimate a latent model's NLL (IWAE) with K importance samples",
    )
    ev.add_argument(
        "--max-examples", type=_positive_int, help="evaluate on the first N test images"
    )
    sa = sub.add_parser("sample", help="write a PNG grid of samples")
    sa.add_argument("workdir")
    sa.add_argument("--num-samples", type=_positive_int, default=64)
    sa.add_argument("--seed", type=int, default=0)
    sa.add_argument("--out", required=True, help="PNG path")
    ex = sub.add_parser("export", help="export a SavedModel (sample, log_prob, ... endpoints)")
    ex.add_argument("workdir")
    ex.add_argument("outdir")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `tfgen` console script; returns the process exit code."""
    args = _parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import zoo
    from zoo import train as runner

    try:
        if args.command == "list":
            for name in zoo.list_presets():
                p = zoo.get(name)
                print(f"{name:40s} {p.model_class:14s} {p.train.dataset:14s} {p.description}")
        elif args.command == "train":
            workdir = args.workdir or os.path.join("runs", args.preset)
            metrics = runner.train(
                args.preset,
                workdir,
                dataset=args.dataset,
                epochs=args.epochs,
                batch_size=args.batch_size,
                max_minutes=args.minutes,
                resume=args.resume,
                verbose=args.verbose,
            )
            print(json.dumps({"workdir": workdir, "test": metrics["test"]}, indent=2))
        elif args.command == "evaluate":
            result = runner.evaluate(args.workdir, args.importance_samples, args.max_examples)
            print(json.dumps(result, indent=2))
        elif args.command == "sample":
            print(runner.sample(args.workdir, args.num_samples, args.out, seed=args.seed))
        elif args.command == "export":
            print(runner.export(args.workdir, args.outdir))
    except (KeyError, ValueError, FileNotFoundError, runner.WorkdirError) as e:
        print(f"tfgen {args.command}: error: {e.args[0] if e.args else e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
