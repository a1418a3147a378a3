"""Reports open in a real headless Chromium (Debian's ``chromium``): no console errors, no
network, every image decodes, and the page is not blank. ``.ci/run`` installs Chromium."""

import os

import numpy as np
import pytest

from tests.browser import assert_page_renders, check_page, chromium
from tests.test_cli import scrutiny

if chromium() is None and os.environ.get("SCRUTINY_REQUIRE_CHROMIUM"):
    raise RuntimeError("SCRUTINY_REQUIRE_CHROMIUM is set but no chromium is on the PATH")
pytestmark = pytest.mark.skipif(
    chromium() is None, reason="needs Chromium: apt-get install chromium"
)

PNG_1x1 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8Dw"
    "HwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


def test_the_page_check_catches_what_it_claims_to(tmp_path):
    good = tmp_path / "good.html"
    good.write_text(f"<h1>ok</h1><img src='data:image/png;base64,{PNG_1x1}'>")
    assert check_page(good).images == [[1, 1]]
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<img src='data:image/png;base64,iVBORw0KGgo='>"
        "<img src='http://192.0.2.1/x.png'>"
        "<script>console.error('boom'); missing();</script>"
    )
    check = check_page(bad)
    assert "boom" in check.errors
    assert any("missing is not defined" in e for e in check.errors)
    assert check.requests == ["http://192.0.2.1/x.png"]
    assert all(isinstance(i, str) and i.startswith("failed") for i in check.images)
    blank = tmp_path / "blank.html"  # passes every other check: only the screenshot fails it
    import base64
    import io

    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(png, format="PNG")
    white_png = base64.b64encode(png.getvalue()).decode()
    blank.write_text(
        f"<body style='background:white'><img src='data:image/png;base64,{white_png}'></body>"
    )
    with pytest.raises(AssertionError, match="one colour"):
        assert_page_renders(blank)


def test_scrutinize_report_renders(tmp_path):
    rng = np.random.default_rng(0)
    own = [(9, 10, 11), (27, 28, 29), (50, 51, 52)]

    def images(n):
        labels = rng.integers(3, size=n)
        X = rng.uniform(0.0, 0.5, size=(n, 64))
        for i, c in enumerate(labels):
            X[i, list(own[c])] = 1.0
        return X.reshape(n, 8, 8).astype(np.float32), labels

    X_fit, _ = images(300)
    X, labels = images(120)
    np.save(tmp_path / "fit.npy", X_fit)
    np.save(tmp_path / "data.npy", X)
    np.save(tmp_path / "labels.npy", labels)
    (tmp_path / "px.py").write_text(
        "import numpy as np\n"
        f"OWN = {own!r}\n"
        "def logits(x):\n"
        "    x = x.reshape(len(x), -1)\n"
        "    return np.stack([4.0 * x[:, list(p)].sum(axis=1) for p in OWN], axis=1)\n"
    )
    out = tmp_path / "report"
    done = scrutiny(
        "scrutinize",
        "--model",
        "px.py:logits",
        "--outputs",
        "logits",
        "--fit-data",
        "fit.npy",
        "--data",
        "data.npy",
        "--labels",
        "labels.npy",
        "--class",
        1,
        2,
        "--out",
        out,
        "--quiet",
        "--sweeps",
        60,
        "--components",
        3,
        "--examples",
        3,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    import json

    results = json.loads((out / "results.json").read_text())
    assert results["model_accuracy_on_data"] == 1.0
    assert set(results["scrutiny"]) == {"1", "2"}
    for c in ("1", "2"):
        adv = results["scrutiny"][c]["adversarial"]
        assert adv["rate"][adv["k"].index(5)] == 1.0  # its 3 pixels are in the top 5
        assert results["scrutiny"][c]["patterns"]
    for name in ("class_1_adversarial.png", "class_2_pathological.png", "class_1_fooled.png"):
        assert (out / name).is_file()
    html = (out / "index.html").read_text()
    assert "adversarial gallery" in html and "patterns" in html and "R-hat" in html
    assert_page_renders(out / "index.html")


def test_a_heading_of_a_long_name_without_spaces_does_not_scroll_the_page(tmp_path):
    """A class label of 300 letters in a section's heading made the page scroll sideways."""
    import base64

    from scrutiny.report import write_report

    png = base64.b64decode(PNG_1x1)
    label = "X" * 300
    sections = [(f"Class 0 ({label}): patterns", "text", [("a.png", png)])]
    page = write_report(tmp_path / "out", f"scrutiny explain: {label}", sections, {})
    assert_page_renders(page)
