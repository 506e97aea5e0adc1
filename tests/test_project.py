"""The files every project has, the README as a front page, and an interface promise: what
``infomorphic search`` says about its data and workers (the prediction API's return types:
tests/test_inference.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import tomllib

from infomorphic.cli import main

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def test_license_citation_changelog_and_urls() -> None:
    license_text = (REPO / "LICENSE").read_text()
    assert license_text.startswith("MIT License") and PYPROJECT["license"] == "MIT"
    assert "Copyright (c) 2026 the infomorphic developers" in license_text
    yaml = pytest.importorskip("yaml")
    citation = yaml.safe_load((REPO / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0" and citation["version"] == PYPROJECT["version"]
    paper = citation["preferred-citation"]
    assert paper["title"].startswith("What should a neuron aim for?") and paper["year"] == 2025
    assert [a["family-names"] for a in paper["authors"]][:3] == ["Schneider", "Neuhaus", "Ehrlich"]
    assert "2412.02482" in paper["url"]
    changelog = (REPO / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in changelog and f"## [{PYPROJECT['version']}]" in changelog
    assert PYPROJECT["urls"]["Paper"] == "https://arxiv.org/abs/2412.02482"
    for extra in ("docs", "notebook", "tensorboard"):
        assert PYPROJECT["optional-dependencies"][extra]


def test_readme_is_a_front_page_whose_links_resolve() -> None:
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) < 200
    assert "arXiv:2412.02482" in readme and "CITATION.cff" in readme
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme):
        if not target.startswith("http"):
            assert (REPO / target).exists(), f"README links to {target}, which does not exist"
    assert "../shared" not in readme and "/work/" not in readme


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = (REPO / "README.md").read_text()
    commands = re.findall(r"```bash\n(.*?)\n```", readme, flags=re.DOTALL)
    test_command = next(c for c in commands if "pytest" in c)
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert test_command in ci and "mkdocs build --strict" in "\n".join(ci)


def test_search_names_its_data_set_and_workers(tmp_path: Path, capsys) -> None:
    pytest.importorskip("optuna")
    argv = [
        "search",
        "--sampler",
        "random",
        "--trials",
        "1",
        "--dataset",
        "digits",
        "--hidden",
        "6",
        "--epochs",
        "1",
        "--out",
        str(tmp_path / "s"),
    ]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "worker None" not in err
    assert re.search(r"study search-setup1-random in \S+study.db; data set digits; 1 worker", err)
    worker = re.search(
        r"^worker (\S+): data digits: 1150 training / 288 validation / 359 test",
        err,
        flags=re.MULTILINE,
    )
    assert worker and re.fullmatch(r"[^:]+:\d+", worker.group(1))  # host:process
    assert re.search(
        rf"^worker {re.escape(worker.group(1))}: 1 completed, 0 pruned", err, flags=re.MULTILINE
    )
