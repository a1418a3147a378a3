"""A self-contained HTML report: images inline as base64, no network, no scripts."""

from __future__ import annotations

import base64
import html
import io
import warnings
from pathlib import Path

from scrutiny._files import to_json

MANIFEST = ".scrutiny-images"  # the files a report wrote, for the next one in its folder


def figure_png(fig):
    """PNG bytes of a matplotlib figure (closed afterwards)."""
    import matplotlib
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    try:  # tick labels are made as the figure is drawn: as written too
        with (
            matplotlib.rc_context({"text.parse_math": False}),
            warnings.catch_warnings(record=True) as caught,
        ):
            warnings.simplefilter("always")
            fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    finally:  # also when saving fails: a long-lived process would keep it
        plt.close(fig)
    _pass_on(caught)
    return buf.getvalue()


_told = {"glyphs": False}  # said once per process, not once per character and picture
_registry = {}  # per file, the warnings of drawing passed on: once per place, as Python's


def _pass_on(caught):
    """Warnings of drawing, each again, but matplotlib's one per character its font lacks
    (hundreds for a table of Chinese column names) as one."""
    glyphs = [w for w in caught if "missing from font" in str(w.message)]
    for w in caught:
        if w not in glyphs:
            once = _registry.setdefault(w.filename, {})
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, registry=once)
    if glyphs and not _told["glyphs"]:
        _told["glyphs"] = True
        warnings.warn(
            f"the plotting font lacks characters of the names drawn ({glyphs[0].message}): "
            "they are boxes in the report's pictures, and written out in its text; install "
            "a font that has them and name it in matplotlib.rcParams['font.family']",
            UserWarning,
            stacklevel=3,
        )


def write_report(out_dir, title, sections, results, also=()):
    """Write ``index.html``, ``results.json`` and every image as its own PNG. Files an
    earlier report in the folder wrote (listed in its ``MANIFEST``) and this one does not
    are removed, so the folder shows only this report's: ``also`` names the report's other
    files, which its caller writes (a benchmark's tables, an explanation's arrays).

    sections: list of (heading, text, [(image_name, png_bytes), ...]).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = {name for _, _, images in sections for name, _ in images} | set(also)
    manifest = out / MANIFEST
    if manifest.is_file():
        for name in set(manifest.read_text(encoding="utf-8").split("\n")) - written - {""}:
            if Path(name).name == name:  # only files of this folder, as written
                (out / name).unlink(missing_ok=True)
    manifest.write_text("\n".join(sorted(written)), encoding="utf-8")
    (out / "results.json").write_text(to_json(results, null_nan=True, indent=2), encoding="utf-8")
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
        "figure{display:inline-block;margin:4px;text-align:center;font-size:12px;max-width:100%}"
        "img{max-width:100%;height:auto}"
        "pre{background:#f5f5f5;padding:8px;overflow-x:auto}"
        # a heading naming a class of 300 letters without a space scrolled the page sideways
        "h1,h2{overflow-wrap:anywhere}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for heading, text, images in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        if text:
            parts.append(f"<pre>{html.escape(text)}</pre>")
        for name, png in images:
            (out / name).write_bytes(png)
            data = base64.b64encode(png).decode("ascii")
            label = html.escape(Path(name).stem.replace("_", " "))
            parts.append(
                f"<figure><img alt='{label}' src='data:image/png;base64,{data}'>"
                f"<figcaption>{label}</figcaption></figure>"
            )
    parts.append("</body></html>")
    (out / "index.html").write_text("\n".join(parts), encoding="utf-8")
    return out / "index.html"
