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
    unknown = [a for a in tasks if a not in ("mnist", "fashion")]
    if unknown:  # "mnist --n-test 10" ran the whole default benchmark, then failed
        sys.exit(
            f"fidelity.py: {unknown[0]!r} is not a task (mnist, fashion); pass options to "
            "scrutiny benchmark after --: fidelity.py "
            + " ".join([*(a for a in tasks if a not in unknown), "--", *unknown])
        )
    for task in tasks:
        code = main(["benchmark", task, "--out", f"benchmarks/results/{task}", *extra])
        if code:
            sys.exit(code)
