"""`scrutiny demo` through the command line, at a tiny setting: it runs and its outputs parse."""

import json
import subprocess
import sys
from html.parser import HTMLParser

import pytest

pytest.importorskip("mlxtend")


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.sources.append(dict(attrs)["src"])


def test_demo_writes_a_report(tmp_path):
    out = tmp_path / "report"
    cmd = [sys.executable, "-m", "scrutiny.cli", "demo", "--out", str(out), "--quiet"]
    cmd += ["--n-fit", "400", "--sweeps", "30", "--components", "4"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    results = json.loads((out / "results.json").read_text())
    assert results["data"]["n_fit"] == 400 and results["data"]["n_features"] == 784
    assert 0.8 < results["classifier_test_accuracy"] <= 1.0
    assert sum(c["rows"] for c in results["components"]) == 400
    page = _Images()
    page.feed((out / "index.html").read_text())
    assert page.sources and all(s.startswith("data:image/png;base64,") for s in page.sources)
    occupied = sum(c["rows"] > 0 for c in results["components"])
    assert len(list(out.glob("component_*.png"))) == occupied


def test_cli_without_a_command_explains_usage():
    done = subprocess.run([sys.executable, "-m", "scrutiny.cli"], capture_output=True, text=True)
    assert done.returncode == 2 and "usage" in done.stderr
