"""The ``scrutiny`` command: explain a model and test the explanations."""

from __future__ import annotations

import argparse
import contextlib
import itertools
import math
import re
import sys
import warnings
from pathlib import Path

DESCRIPTION = (
    "scrutiny: explain a model you can only query, test the explanations against LIME and "
    "SHAP, and find the inputs that fool it"
)


def _at_least(minimum, most=None):
    """An argparse type: an int >= minimum (and <= most), so that nonsense is refused
    before any work."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        if most is not None and value > most:
            raise argparse.ArgumentTypeError(f"must be at most {most}, got {value}")
        return value

    return parse


def _surrogate_options(p, components=None, sweeps=None, reference=False):
    """None: the Explainer's defaults, which differ between global and local fits.
    ``reference``: the command trains its reference model and splits its data by the seed
    too."""
    p.add_argument(
        "--components",
        type=_at_least(1),
        default=components,
        help="surrogate components (default: "
        + ("%(default)s)" if components else "10 for global fits, 5 for local ones)"),
    )
    p.add_argument(
        "--sweeps",
        type=_at_least(1),
        default=sweeps,
        help="Gibbs sweeps per chain (default: "
        + ("%(default)s)" if sweeps else "300 for global fits, 200 for local ones)"),
    )
    p.add_argument(
        "--superpixel",
        type=_at_least(0),
        default=0,
        help="square image blocks of this many pixels a side as features (0: pixels; "
        "default: %(default)s)",
    )
    p.add_argument(
        "--seed",
        type=_at_least(0, 2**64 - 1 if reference else None),  # torch.manual_seed's largest
        default=0,
        help=(
            "seed of the reference model's training (cached per seed; another seed trains "
            "a model of its own), the data split, the fits and perturbations"
            if reference
            else "seed of the fits and perturbations"
        )
        + ": the same seed gives the same results (default: %(default)s)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars or messages")
    p.add_argument(
        "--out",
        default="scrutiny-report",
        help="report folder: new, empty or an earlier report (default: %(default)s)",
    )


def _class_value(text):
    """An argparse type for --class: a label (a name, or a number such as -1 or 2.5) or an
    output column; a number that is neither is refused once the model's labels are known,
    NaN and inf before any work."""
    try:
        number = float(text)
    except ValueError:
        return text
    if not math.isfinite(number):
        raise argparse.ArgumentTypeError(f"must be a class label or column, got {text}")
    return text


def _cache_option(p):
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="fit again even if these fits are stored (in $SCRUTINY_CACHE/fits)",
    )


def _classes_option(p):
    p.add_argument(
        "--classes",
        type=_at_least(0),
        nargs="*",
        default=list(range(10)),
        help="classes to scrutinize (none: no scrutiny; default: 0-9)",
    )


def _model_options(p):
    p.add_argument(
        "--model",
        required=True,
        help="an .onnx file, a TorchScript or exported (.pt2) torch file, or module:name "
        "(module may be a .py file) naming a callable, a torch module or a scikit-learn "
        "classifier",
    )
    p.add_argument(
        "--fit-data",
        required=True,
        help=".npy or .csv of inputs to fit the surrogates on (a CSV whose first row names "
        "the columns keeps the names, and a model fitted on a DataFrame gets one)",
    )
    p.add_argument(
        "--outputs",
        default="probabilities",
        choices=["probabilities", "logits", "values"],  # models.OUTPUTS, without importing it
        help="what the model returns (default: %(default)s; scikit-learn: predict_proba); "
        "values: a regression model's outputs (scikit-learn: predict), explained as they are",
    )
    p.add_argument(
        "--representation",
        default=None,
        choices=["image", "tabular"],
        help="features: pixels or columns (default: image for inputs of 2 or 3 dimensions, "
        "tabular for flat ones)",
    )
    p.add_argument(
        "--baseline",
        type=float,
        default=None,
        help="value meaning 'absent' (default: 0 for images, the fit data's mean for tables; "
        "a table's columns of names keep their most frequent level)",
    )
    p.add_argument(
        "--categorical",
        nargs="+",
        default=None,
        metavar="COLUMN",
        help="table columns of numbers that name things (a zip code), by name or number: "
        "switched off to their most frequent value, as columns of words always are "
        "(default: none)",
    )
    p.add_argument(
        "--batch-size", type=_at_least(1), default=256, help="rows per model call (default: 256)"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(prog="scrutiny", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="explain an MLP on real MNIST digits and write a report")
    _surrogate_options(demo, components=10, sweeps=300, reference=True)
    demo.add_argument(
        "--n-fit", type=_at_least(2), default=4000, help="training digits to fit on (default: 4000)"
    )
    demo.add_argument(
        "--n-explain", type=_at_least(1), default=16, help="test digits to picture (default: 16)"
    )
    demo.add_argument(
        "--n-test", type=_at_least(1), default=200, help="test digits for deduction (default: 200)"
    )
    _classes_option(demo)
    _cache_option(demo)
    demo.set_defaults(superpixel=2)

    ex = sub.add_parser("explain", help="explain your own model on your own data")
    _model_options(ex)
    ex.add_argument("--data", required=True, help=".npy or .csv of inputs to explain")
    ex.add_argument(
        "--mode",
        default="global",
        choices=["global", "local", "guided"],
        help="global: one fit per class, then one query per input; local: a fit per input on "
        "its perturbations; guided: the global fit, corrected per input by perturbations "
        "(default: global)",
    )
    ex.add_argument(
        "--samples",
        type=_at_least(20),
        default=None,
        help="perturbations per input, --mode local or guided only (default: local 1000, "
        "guided 100)",
    )
    ex.add_argument(
        "--target",
        type=_class_value,
        default=None,
        help="what every input is explained for: a scikit-learn classifier's label (its "
        "classes_) or an output column 0, 1, ... (default: the class the model predicts; a "
        "regression model's first output)",
    )
    ex.add_argument(
        "--examples",
        type=_at_least(1),
        default=20,
        help="inputs pictured in the report, the first ones; every input is explained and "
        "saved (default: %(default)s)",
    )
    _surrogate_options(ex)
    _cache_option(ex)
    sc = sub.add_parser(
        "scrutinize", help="adversarial and pathological samples of your model, from explanations"
    )
    _model_options(sc)
    sc.add_argument(
        "--data", required=True, help=".npy or .csv of inputs to scrutinize the model with"
    )
    sc.add_argument(
        "--labels",
        default=None,
        help=".npy or one-column .csv of their true classes (optional; the CSV may have a "
        "first row naming the column)",
    )
    sc.add_argument(
        "--class",
        dest="classes",
        type=_class_value,
        nargs="+",
        required=True,
        help="classes to scrutinize: a scikit-learn classifier's labels (its classes_) or "
        "output columns 0, 1, ...",
    )
    sc.add_argument(
        "--mode",
        default="guided",
        choices=["global", "local", "guided"],
        help="explanations that rank the features to nullify (default: guided)",
    )
    sc.add_argument(
        "--samples",
        type=_at_least(20),
        default=None,
        help="perturbations per input, --mode local or guided only (default: guided "
        "300-1000, by the inputs' size, or 100 for rows of 14 columns or fewer; local "
        "1000)",
    )
    sc.add_argument(
        "--max-inputs",
        type=_at_least(1),
        default=None,
        help="class inputs scrutinized, the first ones (default: all)",
    )
    sc.add_argument(
        "--examples",
        type=_at_least(1),
        default=6,
        help="inputs pictured (images) or listed (table rows) per gallery (default: %(default)s)",
    )
    _surrogate_options(sc)
    _cache_option(sc)
    sc.set_defaults(out="scrutiny-report")
    bench = sub.add_parser(
        "benchmark", help="DMM-MEN against LIME, KernelSHAP and random on a reference model"
    )
    bench.add_argument("task", choices=["mnist", "fashion"])
    _surrogate_options(bench, components=10, sweeps=200, reference=True)
    bench.add_argument(
        "--n-test", type=_at_least(1), default=200, help="test inputs explained (default: 200)"
    )
    bench.add_argument(
        "--n-fit",
        type=_at_least(2),
        default=1000,
        help="inputs the global fit uses (default: 1000)",
    )
    bench.add_argument(
        "--n-stability",
        type=_at_least(1),
        default=50,
        help="inputs re-explained (stability) and perturbed (held-out RMSE) (default: 50)",
    )
    bench.add_argument(
        "--samples",
        type=_at_least(20),
        default=1000,
        help="perturbations per input of LIME, local mode and the guided row at this budget "
        "(default: 1000)",
    )
    bench.add_argument(
        "--methods",
        nargs="*",
        default=None,
        help="run only these methods, named as in the report's tables, such as 'DMM-MEN "
        "global' or LIME (an unknown name lists them; default: all)",
    )
    bench.add_argument(
        "--paper-k",
        type=_at_least(1),
        nargs="+",
        default=[20, 75],
        help="features in the authors' protocol's tests (75 in theirs; default: 20 75)",
    )
    _classes_option(bench)
    bench.set_defaults(out="benchmark-report")
    args = parser.parse_args(argv)
    if getattr(args, "samples", None) is not None and getattr(args, "mode", None) == "global":
        parser.error("--samples sets perturbations per input: --mode local or guided only")
    args.superpixel = args.superpixel or None
    for name in ("out", "data", "fit_data", "labels", "model"):  # --out=~/x: no shell's ~
        value = getattr(args, name, None)
        if isinstance(value, str) and value.startswith("~"):
            setattr(args, name, str(Path(value).expanduser()))
    if getattr(args, "classes", None):  # --class 1 1: scrutinized and reported once
        args.classes = list(dict.fromkeys(args.classes))
    # a warning in one line, as the errors (it named a line of scrutiny's own code), still
    # to whatever records or logs warnings
    formatted, warnings.formatwarning = warnings.formatwarning, _one_line(args.command)
    try:
        return _run(args)
    except (ValueError, TypeError, OSError, ImportError, RuntimeError) as exc:
        print(f"scrutiny {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except MemoryError as exc:  # --samples 1000000000: numpy's "Unable to allocate 216.
        # GiB for an array with shape (1000000000, 29)" was a traceback
        print(
            f"scrutiny {args.command}: error: out of memory ({exc}): ask for less "
            "(--samples, --components, --batch-size; a larger --superpixel)",
            file=sys.stderr,
        )
        return 2
    finally:
        warnings.formatwarning = formatted


def _one_line(command):
    """A ``warnings.formatwarning`` that says a warning as the command says its errors."""

    def say(message, category, filename, lineno, line=None):
        return f"scrutiny {command}: warning: {message}\n"

    return say


def _run(args):
    """Run the command ``args`` names; 0."""
    _check_out(Path(args.out))
    if args.command == "demo":
        from scrutiny.demo import run_demo

        run_demo(args)
    elif args.command == "benchmark":
        from scrutiny.benchmark import run_benchmark

        run_benchmark(args)
    elif args.command == "scrutinize":
        run_scrutinize(args)
    else:
        run_explain(args)
    return 0


def run_explain(args):
    from scrutiny.job import explain_and_report, status_printer

    say = status_printer(args.quiet)
    explainer, facts = _explainer(args, args.mode)
    X = explainer.check_inputs(_load_data(args.data, explainer), "--data")
    facts["explained_inputs"] = len(X)
    target = _target_column(args.target, explainer, X[:1], say)
    if target is not None:
        facts["target"] = explainer.model.class_name(target)
    return explain_and_report(
        explainer,
        X,
        args.out,
        f"scrutiny explain: {_name(args.model)}",
        facts,
        seed=args.seed,
        say=say,
        pictured=args.examples,
        target=target,
    )


def _target_column(value, explainer, first, say):
    """--target's output column, refused before any fit where the model has no such
    output; None without it, after saying which output a regression model of several is
    explained for (its first: the others were left out unsaid)."""
    model = explainer.model
    if model.n_classes is None:  # known from an answer only
        model.responses(first)
    if value is None:
        if model.regression and model.n_classes > 1:
            say(f"explaining output 0 of the model's {model.n_classes} (--target picks another)")
        return None
    (column,) = _class_columns([value], model, "--target")
    if column >= model.n_classes:
        what = "outputs" if model.regression else "classes"
        raise ValueError(
            f"--target {value}: the model has {model.n_classes} {what}, 0..{model.n_classes - 1}"
        )
    return column


def run_scrutinize(args):
    import numpy as np

    from scrutiny.job import explain_and_report, status_printer
    from scrutiny.scrutinize import no_hosts
    from scrutiny.weakness_report import check_classes

    say = status_printer(args.quiet)
    explainer, facts = _explainer(args, "local" if args.mode == "local" else "global")
    if explainer.model.regression:
        raise ValueError(
            "scrutinize looks for inputs that change the model's class, and a regression "
            "model (--outputs values) has none: explain it with scrutiny explain"
        )
    X = explainer.check_inputs(_load_data(args.data, explainer), "--data")
    labels = None if args.labels is None else _load_labels(args.labels, len(X), explainer.model)
    predicted = truth = explainer.model.predict(X)
    if labels is not None:
        truth = explainer.model.label_columns(labels)
        facts["model_accuracy_on_data"] = float((predicted == truth).mean())
        say(f"model accuracy on --data: {facts['model_accuracy_on_data']:.3f}")
    args.classes = list(dict.fromkeys(_class_columns(args.classes, explainer.model)))
    check_classes(args.classes, explainer.model.n_classes, "--class")
    for c in args.classes:  # as scrutinize needs them, before any fit, not after a class's
        if not ((predicted == c) & (truth == c)).any():
            how = "correctly classified as" if labels is not None else "called"
            name = explainer.model.class_name(c)  # the user's label beside its column
            raise ValueError(f"--class {name}: no input of --data is {how} class {name}")
        if not ((predicted != c) & (truth != c)).any():
            name = explainer.model.class_name(c)
            others = int((truth != c).sum()) if labels is not None else 0
            raise ValueError(f"--class {name}: {no_hosts(others, name, '--data')}")
    facts.update(data_inputs=len(X), classes=list(args.classes))  # a class: its n_inputs
    names = [explainer.model.class_name(c) for c in args.classes]
    if names != [str(c) for c in args.classes]:  # a classifier's labels: "2 (yes)"
        facts["class_names"] = names
    # pictured and deduction-tested: inputs called one of the classes (only those are fitted)
    rows = np.flatnonzero(np.isin(predicted, args.classes))
    mine = X[rows]
    options = {"mode": args.mode, "n_samples": args.samples, "max_inputs": args.max_inputs}
    return explain_and_report(
        explainer,
        mine[: args.examples],
        args.out,
        f"scrutiny scrutinize: {_name(args.model)}",
        facts,
        X_test=mine[:200],
        seed=args.seed,
        say=say,
        weakness={
            "X": X,
            "labels": labels,
            "classes": args.classes,
            "options": options,
            "examples": args.examples,
        },
        rows=rows[: args.examples],  # named by their rows of --data
    )


def _load_data(path, explainer):
    """--data, refused where its header names columns that --fit-data, without names,
    cannot match (nor the model's own names): taken by position, a header in another order
    gave the model permuted columns, unsaid."""
    from scrutiny._validation import column_names
    from scrutiny.categories import holds_names

    data = _load_array(path, _names_of(explainer), explainer.model.fitted_names)
    names = column_names(data)
    fitted = explainer.model.fitted_names
    numbers = names is not None and not any(holds_names(col) for _, col in data.items())
    if explainer.feature_names_ is None and numbers:  # words are refused as such, below
        if fitted is None or sorted(fitted) != sorted(names):
            shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
            raise ValueError(
                f"--data names its columns ({shown}) but --fit-data does not, so they cannot "
                "be matched: give --fit-data the same header, or write --data without one "
                "(its columns in --fit-data's order)"
            )
    return data


def _names_of(explainer):
    """The fit data's column names, or False where it had none: how --data is read."""
    return explainer.feature_names_ or False


def _class_columns(classes, model, option="--class"):
    """Output columns of --class values: a scikit-learn classifier's labels by name (as
    ``--labels`` gives them) or by value (1 is the label 1.0 of classes_ [1.0, 2.0], and -1
    a label of [-1, 1]), else whole numbers >= 0 as columns."""
    import numpy as np

    labels = [] if model.classes_ is None else np.asarray(model.classes_).tolist()
    names = [str(c) for c in labels]
    numbers = [
        float(c) if isinstance(c, int | float) and not isinstance(c, bool) else None for c in labels
    ]
    out, labelled, columns = [], [], []
    for value in classes:
        number = float(value) if _is_number(value) else None
        if value in names:
            out.append(names.index(value))
        elif number is not None and number in numbers:
            out.append(numbers.index(number))
        elif number is not None and number >= 0 and number.is_integer():
            out.append(int(number))
            columns.append(value)
            continue
        else:
            known = f"the classifier's classes_ {names} or " if names else ""
            raise ValueError(f"{option} {value}: not one of {known}the output columns 0, 1, ...")
        labelled.append(value)
    if names and labelled and columns:  # 0 and 2 of [2, 5, 9]: column 0 twice
        label, column = labelled[0], columns[0]
        raise ValueError(
            f"--class {label} is one of the classifier's classes_ {names}, --class {column} "
            "is not: give its labels only (or output columns only, none of them a label)"
        )
    return out


def _explainer(args, mode):
    """(Explainer, facts) from the model and fit-data options."""
    from scrutiny.explainer import Explainer
    from scrutiny.models import ModelAdapter, load_callable

    spec = args.model
    if spec.endswith(".py") and ":" not in spec:  # torch's "corrupted checkpoint" said nothing
        raise ValueError(f"--model {spec}: name the model the file makes, as {spec}:NAME")
    model = load_callable(spec) if ":" in spec and not Path(spec).exists() else Path(spec)
    adapter = ModelAdapter(model, outputs=args.outputs, batch_size=args.batch_size)
    X_fit = _load_array(args.fit_data, fitted=adapter.fitted_names)

    def explainer_with(baseline):
        return Explainer(
            adapter,
            X_fit,
            mode=mode,
            representation=args.representation,
            baseline=baseline,
            superpixel=args.superpixel,
            categorical=args.categorical,
            surrogate={
                key: value
                for key, value in (("n_components", args.components), ("n_sweeps", args.sweeps))
                if value is not None
            },
            n_samples=args.samples if mode == args.mode else None,
            progress=not args.quiet,
            random_state=args.seed,
            cache_fits=not args.no_cache,
        )

    if args.baseline is None:
        explainer = explainer_with(None)
    else:  # the defaults say which columns name things, and how (not the default's warnings)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            defaults = explainer_with(None).representation
        explainer = explainer_with(_baseline(args.baseline, defaults))
    facts = {"model": spec, "fit_inputs": len(X_fit), "model_kind": adapter.kind}
    return explainer, facts


def _baseline(value, rep):
    """--baseline for the representation of the fit data: a number, so a table's columns
    that name things (words, or --categorical) keep their most frequent level."""
    import numpy as np

    if rep.kind != "tabular" or not rep.categorical.size:
        return value
    baseline = np.full(rep.n_features, value)
    baseline[rep.categorical] = rep.baseline[rep.categorical]
    return baseline


def _check_out(out):
    """Refuse, before any work, a report folder that cannot be written or that holds files
    of the user's (a folder holding an earlier report, with the manifest every report
    writes, is written over; index.html and results.json alone may be the user's)."""
    import os

    from scrutiny._files import _ADVICE, _check_replaceable
    from scrutiny.explanation import FORMAT
    from scrutiny.report import MANIFEST

    if out.exists():
        if not out.is_dir():
            raise ValueError(f"--out {out} is a file, not a folder")
        report = ("index.html", "results.json", MANIFEST)
        if any(out.iterdir()) and not all((out / f).is_file() for f in report):
            raise ValueError(
                f"--out {out} holds files that are not a scrutiny report; give a new or "
                "empty folder, so that none of them is overwritten"
            )
        try:  # the saved explanation the report writes last, refused after all the work
            _check_replaceable(out / "explanation.npz", out / "explanation.json", FORMAT)
        except FileExistsError as exc:
            found = str(exc).removesuffix(f": {_ADVICE}")
            raise ValueError(f"--out {out}: {found}; give another --out or remove it") from None
    parent = out
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"cannot write the report to --out {out}: {parent} is a file")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"cannot write the report to --out {out}: {parent} is not writable")


def _name(spec):
    return spec if ":" in spec and not Path(spec).exists() else Path(spec).name


def _existing_file(path):
    """``path`` as a Path, refused unless it is a file (a folder "did not exist")."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder, not a file")
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    return path


def _load_array(path, like=None, fitted=None):
    """The array of a .npy file, or the table of a .csv file (``_load_csv``; ``like``:
    the column names of the fit data, or False if it had none; ``fitted``: the model's)."""
    import numpy as np

    path = _existing_file(path)
    if path.suffix.lower() == ".csv":
        return _load_csv(path, like, fitted)
    with open(path, "rb") as f:
        magic = f.read(6)
    if magic and magic != b"\x93NUMPY" and not magic.startswith(b"PK"):
        raise ValueError(  # numpy would call any other file a refused pickle
            f"{path} is not a .npy or .csv file; save the array with numpy.save"
        )
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, EOFError, OSError) as exc:
        raise ValueError(
            f"{path} is not a plain .npy array (pickled objects are refused): {exc}"
        ) from exc
    if not isinstance(array, np.ndarray):  # an .npz archive
        array.close()
        raise ValueError(f"{path} is an .npz archive; save the one array with numpy.save")
    return array


_DECIMAL_COMMA = re.compile(r"[^,]*|\s*[-+]?\d+,\d*\s*")  # a field of a ';' file


def _refuse_other_separators(path, lines):
    """Refuse Excel's CSV of many locales (';', decimal commas that split "4,9;3,0" into
    cells holding ';') and tab-separated files: the first two lines split on the separator
    into as many fields, two or more (a name "dose;mg" in a comma-separated file does not
    repeat below), or a lone first line into fields without commas but decimal ones."""
    import csv

    lines = [line for line in lines if line.strip()]
    for sep, shown in ((";", "';'"), ("\t", "tabs")):
        counts = [len(next(csv.reader([line], delimiter=sep))) for line in lines]
        if len(counts) == 2:
            found = counts[0] == counts[1] >= 2 and not _commas_split_cells(lines, sep)
        else:
            fields = lines[0].rstrip("\r\n").split(sep) if lines else []
            found = len(fields) > 1 and all(_DECIMAL_COMMA.fullmatch(f) for f in fields)
        if found:
            comma = ", and decimal=',' where its decimals are commas" if sep == ";" else ""
            raise ValueError(
                f"{path} separates its columns with {shown}: scrutiny reads "
                f"comma-separated files (pandas: pd.read_csv(path, sep={sep!r})"
                f".to_csv(path, index=False){comma})"
            )


def _commas_split_cells(lines, sep):
    """Whether two lines that split on ``sep`` also split on commas into as many cells,
    two or more, by commas that are not decimal ones: a comma-separated file with ``sep``
    inside its cells ("w;kg","h;cm" or id,note;unit), not a ';' file of decimal commas."""
    import csv

    commas = [len(next(csv.reader([line]))) for line in lines]
    if not commas[0] == commas[1] >= 2:
        return False
    cells = next(csv.reader([lines[1]], delimiter=sep))
    return not all(_DECIMAL_COMMA.fullmatch(c.strip()) for c in cells if "," in c)


def _load_csv(path, like=None, fitted=None):
    """A comma-separated table: a DataFrame when its first row names the columns, so that
    explanations keep the names and the columns are matched by name; else an array of its
    numbers. The first row names them when any cell of it is a name (neither a number nor
    a missing value, which makes a row of numbers with a gap data, refused for its gap),
    or when it is 0, 1, ..., as pandas writes an array's columns, or distinct whole
    numbers over rows with fractions; a first name left empty marks the index pandas
    writes (``to_csv`` without ``index=False``), which is left out (row numbers or names,
    each once: a first column of other numbers with no name is refused), and over whole
    numbers first in every row, a header of whole numbers.
    A UTF-8 byte-order mark (Excel's "CSV UTF-8") is not part of the first name.
    ``like``, the fit data's column names, settles a first row of numbers: a header when it
    is those names, in any order (the fit data's header of years over fractions, the same
    header over whole numbers here), but pandas' 0, 1, ... in that order only (a row of data
    may hold them in another); ``like=False`` (fit data without names): a first row of
    numbers is data (warned of if it counts 0, 1, 2, ... as pandas names columns), unless
    under pandas' index. ``fitted``, the names a scikit-learn model was fitted on: a first
    row of them, in any order, names the columns (42,3.5 was a row of data: the fit data
    and the inputs explained each one row more, the model's column names lost).
    A row of numbers taken as names is warned of."""
    import csv

    import numpy as np

    leading, fractions = [], False  # each row's first cell; fractions in the first rows
    with _readable_csv(path), open(path, newline="", encoding="utf-8-sig") as f:
        _refuse_other_separators(path, [f.readline(), f.readline()])
        f.seek(0)
        rows = csv.reader(f)
        first = next(rows, None)
        if not first:
            raise ValueError(f"{path} is empty")
        for i, row in enumerate(rows):  # every row's first cell only under an empty name
            if i >= 1000 and first[0] != "":
                break
            if row:
                leading.append(row[0])
                fractions = fractions or (i < 1000 and any(map(_fraction, row)))
    names = first[1:] if first[0] == "" else first  # without pandas' unnamed index
    whole = [int(n) if n.isdigit() else -1 for n in names]
    distinct = -1 not in whole and len(set(whole)) == len(whole)
    rising = distinct and all(a < b for a, b in itertools.pairwise(whole))
    # pandas' index (an empty first name, a whole number first in every row) under
    # columns named by distinct whole numbers: df[[2022, 2021]].to_csv()
    indexed = first[0] == "" and distinct and all(_whole(c) for c in leading)
    # columns named by rising whole numbers over fractions: df.drop(columns=0), no index
    numbered = names == [str(j) for j in range(len(names))]
    named = any(not _is_number(c) and c not in _MISSING for c in first)
    header = numbered or indexed or named or (first[0] != "" and rising and fractions)
    if like:  # the fit data's names (in any order but pandas' 0, 1, ..., which a row of
        # data may be), or a name (other names: refused by name)
        counted = list(like) == [str(j) for j in range(len(like))]
        same = names == list(like) if counted else sorted(names) == sorted(like)
        header = named or same
    elif like is False:
        header = named or indexed
    header = header or (fitted is not None and sorted(names) == sorted(fitted))
    row = f"{path}: its first row, {','.join(first[:5])}{',...' if len(first) > 5 else ''},"
    if like is False and numbered and not header:
        warnings.warn(
            f"{row} counts the columns as pandas names them, but is read as data: the fit "
            "data names no columns",
            stacklevel=3,
        )
    if header and not named:
        warnings.warn(f"{row} is read as the columns' names, not as data", stacklevel=3)
    if header and first[0] == "" and not _pandas_index(leading):
        raise ValueError(
            f"{path}'s first column has no name but holds data ({leading[0]}, ...): name it "
            "(an unnamed first column of row numbers or names, pandas' index, is left out)"
        )
    try:
        import pandas as pd
    except ImportError as exc:
        if header:
            raise ImportError(
                f"{path} names its columns in its first row; reading it needs pandas: "
                "pip install pandas"
            ) from exc
        pd = None
    try:
        if pd is None:
            return np.loadtxt(path, delimiter=",", ndmin=2, encoding="utf-8-sig")
        if not header:
            return pd.read_csv(path, header=None, encoding="utf-8-sig").to_numpy()
        index = 0 if first[0] == "" else None
        frame = pd.read_csv(path, index_col=index, encoding="utf-8-sig")
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc
    if len(frame) == 0:
        raise ValueError(f"{path} names its columns but has no rows")
    return frame


@contextlib.contextmanager
def _readable_csv(path):
    """The csv module's errors (a quote left open: "field larger than field limit") and a
    file that is not UTF-8, as one line naming the file, not a traceback."""
    import csv

    try:
        yield
    except csv.Error as exc:
        raise ValueError(f"{path} is not a readable CSV ({exc}): is a quote left open?") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not UTF-8 text (save it as CSV UTF-8): {exc}") from None


# cells pandas reads as missing values (the common ones of its na_values), not names
_MISSING = ("", "NA", "N/A", "n/a", "NULL", "null", "None", "<NA>", "#N/A")


def _pandas_index(cells):
    """Whether an unnamed first column reads as the index pandas writes: names, or whole
    numbers each once (rows kept from a frame) or in runs 0, 1, 2, ... (pd.concat's)."""
    if not all(_whole(c) for c in cells):
        return not any(map(_is_number, cells))
    rows = [int(c) for c in cells]
    runs = all(b in (0, a + 1) for a, b in itertools.pairwise([-1, *rows]))
    return runs or len(set(rows)) == len(rows)


def _whole(text):
    return text.strip().lstrip("-").isdigit()


def _fraction(text):
    """A finite number that is not whole: 2.8, not 5, nan or inf."""
    try:
        value = float(text)
    except ValueError:
        return False
    return math.isfinite(value) and not _whole(text)


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _load_labels(path, n, model=None):
    """The (n,) classes of --labels: a .npy array, or a one-column CSV of a scikit-learn
    classifier's labels as written (True, "010"; matched to its classes_ as text) or of
    output columns, whose first row is the column's name when it has n + 1 rows or is no
    label."""
    import csv

    import numpy as np

    if Path(path).suffix.lower() != ".csv":
        labels = _load_array(path)
    else:
        _existing_file(path)
        with _readable_csv(path), open(path, newline="", encoding="utf-8-sig") as f:
            rows = [row for row in csv.reader(f) if row]
        if any(len(row) != 1 for row in rows):
            raise ValueError(f"--labels {path} must have one column")
        cells = [row[0] for row in rows]
        classes = getattr(model, "classes_", None)
        names = {} if classes is None else {str(c): c for c in classes}

        def label(cell):
            return cell in names or _is_number(cell)  # 1 for 1.0, True

        # a first row naming the column: one more than n, or no label above labels (above
        # no labels, the rows are labels the classifier's check names: Good, Bad for its
        # good, bad were "59 rows for 60 inputs")
        if len(cells) == n + 1 or (cells and not label(cells[0]) and all(map(label, cells[1:]))):
            cells = cells[1:]
        if len(cells) != n:
            raise ValueError(f"--labels {path} has {len(cells)} rows for {n} inputs of --data")
        labels = np.array(cells)
        if names and all(c in names for c in cells):  # as the classifier names them
            labels = np.array([names[c] for c in cells], dtype=object)
        elif all(_is_number(c) for c in cells):
            numbers = labels.astype(np.float64)
            integral = np.all(numbers == np.round(numbers))
            labels = numbers.astype(np.int64) if integral else numbers
    if labels.shape != (n,):
        raise ValueError(f"--labels has shape {labels.shape}, expected ({n},)")
    return labels


if __name__ == "__main__":
    sys.exit(main())
