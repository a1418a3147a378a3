"""The head-to-head benchmark: ``scrutiny benchmark`` with its defaults, on MNIST and
Fashion-MNIST in turn; prints the markdown tables kept in docs/benchmarks.md.

    python benchmarks/fidelity.py [mnist] [fashion] [-- extra scrutiny benchmark options]
"""

from __future__ import annotations

import sys

from scrutiny.cli import main

if __name__ == "__main__":
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    tasks = [a for a in (argv[: argv.index("--")] if "--" in argv else argv)] or [
        "mnist",
        "fashion",
    ]
    for task in tasks:
        code = main(["benchmark", task, "--out", f"benchmarks/results/{task}", *extra])
        if code:
            sys.exit(code)
