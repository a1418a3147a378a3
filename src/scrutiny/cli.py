"""The ``scrutiny`` command."""

from __future__ import annotations

import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="scrutiny", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo", help="fit the DMM-MEN surrogate to a classifier on real MNIST and write a report"
    )
    demo.add_argument("--out", default="scrutiny-report", help="report folder")
    demo.add_argument("--target", type=int, default=3, help="class whose logit is explained")
    demo.add_argument("--components", type=int, default=10)
    demo.add_argument("--sweeps", type=int, default=300)
    demo.add_argument("--n-fit", type=int, default=4000, help="training digits to fit on")
    demo.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from scrutiny.demo import run_demo

        run_demo(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
