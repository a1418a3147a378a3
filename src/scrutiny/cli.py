"""The ``scrutiny`` command: explain a classifier and test the explanations."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _surrogate_options(p, components, sweeps):
    p.add_argument("--components", type=int, default=components, help="surrogate components")
    p.add_argument("--sweeps", type=int, default=sweeps, help="Gibbs sweeps per chain")
    p.add_argument(
        "--superpixel", type=int, default=None, help="square image blocks as features (0: pixels)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true", help="no progress bars or messages")
    p.add_argument("--out", default="scrutiny-report", help="report folder")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="scrutiny", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="explain an MLP on real MNIST digits and write a report")
    _surrogate_options(demo, components=10, sweeps=300)
    demo.add_argument("--n-fit", type=int, default=4000, help="training digits to fit on")
    demo.add_argument("--n-explain", type=int, default=16, help="test digits to picture")
    demo.add_argument("--n-test", type=int, default=200, help="test digits for deduction")
    demo.set_defaults(superpixel=2)

    ex = sub.add_parser("explain", help="explain your own model on your own data")
    ex.add_argument(
        "--model",
        required=True,
        help="an .onnx file, a TorchScript or exported (.pt2) torch file, or a "
        "module:function Python callable (module may be a .py file)",
    )
    ex.add_argument("--fit-data", required=True, help=".npy of inputs to fit the surrogates on")
    ex.add_argument("--data", required=True, help=".npy of inputs to explain")
    ex.add_argument("--outputs", default="probabilities", choices=["probabilities", "logits"])
    ex.add_argument("--mode", default="global", choices=["global", "local", "guided"])
    ex.add_argument("--representation", default=None, choices=["image", "tabular"])
    ex.add_argument("--baseline", type=float, default=None, help="value meaning 'absent'")
    ex.add_argument(
        "--samples", type=int, default=None, help="perturbations per input (local 1000, guided 100)"
    )
    ex.add_argument("--batch-size", type=int, default=256)
    _surrogate_options(ex, components=10, sweeps=300)
    bench = sub.add_parser(
        "benchmark", help="DMM-MEN against LIME, KernelSHAP and random on a reference model"
    )
    bench.add_argument("task", choices=["mnist", "fashion"])
    _surrogate_options(bench, components=10, sweeps=200)
    bench.add_argument("--n-test", type=int, default=200, help="test inputs explained")
    bench.add_argument("--n-fit", type=int, default=1000, help="inputs the global fit uses")
    bench.add_argument("--n-stability", type=int, default=50, help="inputs re-explained")
    bench.add_argument("--samples", type=int, default=1000, help="LIME / local perturbations")
    bench.add_argument("--methods", nargs="*", default=None, help="run only these methods")
    bench.set_defaults(out="benchmark-report")
    args = parser.parse_args(argv)
    args.superpixel = args.superpixel or None
    try:
        if args.command == "demo":
            from scrutiny.demo import run_demo

            run_demo(args)
        elif args.command == "benchmark":
            from scrutiny.benchmark import run_benchmark

            run_benchmark(args)
        else:
            run_explain(args)
    except (ValueError, TypeError, FileNotFoundError, ImportError, RuntimeError) as exc:
        print(f"scrutiny {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 0


def run_explain(args):

    from scrutiny.explainer import Explainer
    from scrutiny.job import explain_and_report
    from scrutiny.models import ModelAdapter, load_callable

    say = (lambda *a: None) if args.quiet else print
    spec = args.model
    model = load_callable(spec) if ":" in spec and not Path(spec).exists() else Path(spec)
    adapter = ModelAdapter(model, outputs=args.outputs, batch_size=args.batch_size)
    X_fit, X = _load_array(args.fit_data), _load_array(args.data)
    explainer = Explainer(
        adapter,
        X_fit,
        mode=args.mode,
        representation=args.representation,
        baseline=args.baseline,
        superpixel=args.superpixel,
        surrogate={"n_components": args.components, "n_sweeps": args.sweeps},
        n_samples=args.samples,
        progress=not args.quiet,
        random_state=args.seed,
    )
    return explain_and_report(
        explainer,
        X,
        args.out,
        f"scrutiny explain: {Path(spec).name if ':' not in spec else spec}",
        {
            "model": spec,
            "fit_inputs": len(X_fit),
            "explained_inputs": len(X),
            "model_kind": adapter.kind,
        },
        seed=args.seed,
        say=say,
    )


def _load_array(path):
    import numpy as np

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise ValueError(
            f"{path} is not a plain .npy array (pickled objects are refused): {exc}"
        ) from exc


if __name__ == "__main__":
    sys.exit(main())
