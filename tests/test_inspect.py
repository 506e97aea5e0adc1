"""``infomorphic inspect``: the page and its figures for a tiny run, what it says about a run
without atoms, the selectivity index, and the page in a real headless browser (Debian's
chromium; skipped when no chromium binary is found)."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from infomorphic.cli import main
from infomorphic.reports.inspection import default_sort_atom, selectivity_index
from infomorphic.training import TrainConfig, train

CHROMIUM = next((p for n in ("chromium", "chromium-browser") if (p := shutil.which(n))), None)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no chromium binary on PATH (Debian: apt-get install -y chromium); the page's "
    "browser check is skipped",
)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A tiny trained run: digits, 16 hidden neurons, 3 epochs (a few seconds)."""
    out = tmp_path_factory.mktemp("inspect") / "run"
    config = TrainConfig(dataset="digits", hidden=[16], epochs=3, batch_size=128)
    train(config, out, progress=False)
    return out


@pytest.fixture(scope="module")
def page(run_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("page")
    assert main(["inspect", str(run_dir), "--out", str(out)]) == 0
    return out / "index.html"


def _sources(html: str) -> list[str]:
    return re.findall(r'<img[^>]*\ssrc="([^"]+)"', html)


def test_page_links_only_figures_that_exist(page):
    html = page.read_text()
    sources = _sources(html)
    expected = {
        "accuracy.png",
        "atoms_hidden1.png",
        "atoms_output.png",
        "heatmap_hidden1.png",
        "heatmap_output.png",
        "receptive_fields.png",
        "selectivity_hidden1.png",
        "self_cosine.png",
    }
    assert set(sources) == expected
    for source in sources:
        assert not re.match(r"^[a-z]+:", source)  # relative: opens from disk
        figure = page.parent / source
        assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", source
    assert not re.search(r"(src|href)=\"(https?:)?//", html)  # nothing from the network
    assert "<script src" not in html
    for text in (
        "Receptive fields",
        "Class selectivity",
        "Self-cosine distance",
        "{F}{C}",
        "Configuration",
        'id="image-check"',
    ):
        assert text in html


def test_png_format_writes_only_figures_and_sort_by_is_checked(run_dir, tmp_path, capsys):
    out = tmp_path / "figures"
    assert (
        main(["inspect", str(run_dir), "--out", str(out), "--format", "png", "--sort-by", "{F}{L}"])
        == 0
    )
    names = {p.name for p in out.iterdir()}
    assert "index.html" not in names and "receptive_fields.png" in names
    assert main(["inspect", str(run_dir), "--out", str(out), "--sort-by", "{X}"]) == 2
    assert "--sort-by" in capsys.readouterr().err


def test_a_run_without_atoms_says_so(tmp_path):
    run = tmp_path / "mlp"
    train(
        TrainConfig(dataset="digits", model="mlp", hidden=[8], epochs=1, batch_size=256),
        run,
        progress=False,
    )
    assert main(["inspect", str(run)]) == 0
    html = (run / "inspect" / "index.html").read_text()
    assert "This run records no atoms" in html
    assert set(_sources(html)) == {
        "accuracy.png",
        "receptive_fields.png",
        "selectivity_hidden1.png",
    }


def test_selectivity_index_and_default_sort_atom():
    rates = np.array([[1.0, 0.5, 0.0], [0.0, 0.5, 0.0], [0.0, 0.5, 0.0]])  # (classes, neurons)
    assert selectivity_index(rates) == pytest.approx([1.0, 0.0, 0.0])
    assert default_sort_atom({"{F}{C}": 0.9, "{F}{L}": -1.0, "H_res": 2.0}) == "{F}{C}"
    assert default_sort_atom({"{F}{C}": -0.2, "{F}{L}": -1.0}) == "{F}{L}"


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@needs_chromium
def test_every_figure_loads_in_a_headless_browser(page, tmp_path):
    base = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=5000",
    ]
    url = page.resolve().as_uri()
    dom = subprocess.run([*base, "--dump-dom", url], capture_output=True, text=True, timeout=120)
    check = re.search(r'id="image-check" data-loaded="(\d+)" data-total="(\d+)"', dom.stdout)
    assert check, f"the page's figure check did not run:\n{dom.stderr[-2000:]}"
    loaded, total = map(int, check.groups())
    assert total == len(_sources(page.read_text())) and loaded == total

    shot = tmp_path / "page.png"
    subprocess.run(
        [*base, f"--screenshot={shot}", "--window-size=1280,2000", url],
        capture_output=True,
        timeout=120,
    )
    assert _png_size(shot) == (1280, 2000)
    assert shot.stat().st_size > 50_000  # a rendered page, not a blank one


def test_a_run_with_a_goal_per_layer_shows_each_layers_goal(tmp_path):
    """A goal file of one goal per layer: the page explains each layer's own goal under the
    file's name for that layer."""
    import json

    goals = tmp_path / "layers.json"
    goals.write_text(json.dumps({"hidden1": "heuristic", "hidden2": {"{F}{L}": -0.5}}))
    config = TrainConfig(dataset="digits", hidden=[8, 6], epochs=1, goal=str(goals))
    train(config, tmp_path / "run", progress=False)
    assert main(["inspect", str(tmp_path / "run"), "--out", str(tmp_path / "page")]) == 0
    text = re.sub(r"<[^>]+>", " ", (tmp_path / "page" / "index.html").read_text())
    hidden1 = text[text.index(" hidden1: layers.hidden1  Mostly") :]
    hidden2 = text[text.index(" hidden2: layers.hidden2  Mostly") :]
    assert hidden1.split("weights in words")[0].count("encode {F}{C}") == 1
    assert "suppress {F}{L}" in hidden2.split("weights in words")[0]
