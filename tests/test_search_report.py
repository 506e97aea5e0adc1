"""``infomorphic search-report``: a study built directly with optuna (no training) whose
validation accuracy is a known function of two weights, reported as markdown, JSON and figures."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna")
pytest.importorskip("matplotlib")

from infomorphic.cli import main  # noqa: E402
from infomorphic.search.space import GoalSpace  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"
FIXED = {"H_res": 0.0}
SPACE = GoalSpace(("F", "C", "L"), FIXED)
CONFIG = {
    "dataset": "mnist-sample",
    "model": "setup1",
    "hidden": [100],
    "activation": None,
    "epochs": 3,
    "seed": 0,
    "device": "cpu",
    "batch_size": 1024,
    "val_fraction": 0.2,
}


def accuracy(params: dict[str, float], rng: random.Random) -> float:
    return 0.9 + 0.05 * params["{F}{C}"] - 0.04 * params["{F}{L}"] + rng.gauss(0, 0.002)


def make_study(tmp_path: Path, trials: int, name: str = "toy") -> tuple[str, list]:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(study_name=name, storage=url, direction="maximize")
    study.set_user_attr(
        "infomorphic",
        {
            "config": CONFIG,
            "sources": ["F", "C", "L"],
            "fixed": FIXED,
            "sampler": "random",
            "population": 1,
        },
    )
    rng = random.Random(1)
    distributions = {n: optuna.distributions.FloatDistribution(-1, 1) for n in SPACE.searched}
    made = []
    for _ in range(trials):
        params = {n: rng.uniform(-1, 1) for n in SPACE.searched}
        value = accuracy(params, rng)
        attrs = {
            "test_accuracy": value - 0.01,
            "train_accuracy": value + 0.01,
            "epochs": 3,
            "seconds": 60.0,
        }
        trial = optuna.trial.create_trial(
            params=params, distributions=distributions, value=value, user_attrs=attrs
        )
        study.add_trial(trial)
        made.append((value, params))
    failed = optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL)
    study.add_trial(failed)
    return url, made


def is_png(path: Path) -> bool:
    data = path.read_bytes()
    return data.startswith(PNG) and len(data) > 5_000


def test_report_ranks_goals_and_finds_the_weights_that_matter(tmp_path, capsys):
    url, made = make_study(tmp_path, 30)
    out = tmp_path / "report"
    assert main(["search-report", "toy", "--storage", url, "--out", str(out), "--top", "3"]) == 0
    assert capsys.readouterr().out.strip() == str(out / "report.md")

    text = (out / "report.md").read_text()
    best_value, best_params = max(made, key=lambda m: m[0])
    rows = [line for line in text.splitlines() if line.startswith("| 1 | ")]
    best_row = rows[0].split(" | ")
    assert f"{best_value:.4f}" in best_row and f"{best_params['{F}{C}']:+.3f}" in best_row
    for fragment in (
        "setup1",
        "mnist-sample",
        "random",
        "30 complete, 1 failed, 0 pruned",
        "never used to select",
        "`H_res` (fixed)",
        "## The best goal",
        "| # | atom | weight | effect | meaning |",
        "MeanDecreaseImpurity",
        "held-out",
        "](history.png)",
        "](importance.png)",
        "](best_goal.png)",
    ):
        assert fragment in text, fragment

    report = json.loads((out / "report.json").read_text())
    best_three = sorted((v for v, _ in made), reverse=True)[:3]
    assert [g["val_accuracy"] for g in report["top"]] == best_three
    assert report["best"]["weights"]["H_res"] == 0.0
    assert list(report["best"]["weights"]) == list(SPACE.labels)
    rows = report["importance"]["rows"]
    assert {r["name"] for r in rows if r["mdi_rank"] <= 2} == {"{F}{C}", "{F}{L}"}
    assert {r["name"] for r in rows if r["permutation_rank"] <= 2} == {"{F}{C}", "{F}{L}"}
    assert "H_res" not in {r["name"] for r in rows}  # fixed: not searched, no importance
    assert sum(r["mdi"] for r in rows) == pytest.approx(1.0)
    assert report["figures"] == ["history.png", "importance.png", "best_goal.png"]
    for name in report["figures"]:
        assert is_png(out / name), name


def test_a_search_folder_gives_storage_study_and_default_out(tmp_path, capsys):
    folder = tmp_path / "runs" / "toy"
    folder.mkdir(parents=True)
    make_study(folder, 6)
    # storage written with an old absolute path: the folder was moved, study.db is found beside
    meta = {"storage": "sqlite:////nowhere/study.db", "study": "toy", "trials": 6}
    (folder / "search.json").write_text(json.dumps(meta))
    assert main(["search-report", str(folder)]) == 0
    assert (folder / "report-toy" / "report.md").is_file()
    assert capsys.readouterr().out.strip() == str(folder / "report-toy" / "report.md")


def test_one_trial_still_reports_and_says_importance_was_skipped(tmp_path, capsys):
    url, _ = make_study(tmp_path, 1)
    out = tmp_path / "report"
    assert main(["search-report", "toy", "--storage", url, "--out", str(out)]) == 0
    assert "importance skipped" in capsys.readouterr().err
    text = (out / "report.md").read_text()
    assert "Skipped: importance needs at least 2 complete trials" in text
    assert "| 1 | 0 | " in text and "](importance.png)" not in text
    assert is_png(out / "history.png") and is_png(out / "best_goal.png")
    assert not (out / "importance.png").exists()
    assert "skipped" in json.loads((out / "report.json").read_text())["importance"]


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["nope", "--storage", "{url}"], "no study 'nope' in sqlite:///"),
        (["toy", "--storage", "sqlite:///{tmp}/missing.db"], "no study database at"),
        (["not-a-folder"], "is no search folder"),
        (["toy", "--storage", "{url}", "--top", "0"], "want a number >= 1"),
    ],
)
def test_errors_say_what_is_wrong(tmp_path, capsys, argv, fragment):
    url, _ = make_study(tmp_path, 2)
    argv = [a.format(url=url, tmp=tmp_path) for a in argv]
    assert main(["search-report", *argv, "--out", str(tmp_path / "r")]) == 2
    assert fragment in capsys.readouterr().err
    assert not (tmp_path / "missing.db").exists()  # no empty database made on the way


def test_a_study_without_complete_trials_is_an_error(tmp_path, capsys):
    url, _ = make_study(tmp_path, 0)
    assert main(["search-report", "toy", "--storage", url, "--out", str(tmp_path / "r")]) == 2
    assert "no complete trial" in capsys.readouterr().err


def test_missing_matplotlib_names_the_extra(tmp_path, capsys, monkeypatch):
    import sys

    url, _ = make_study(tmp_path, 2)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(["search-report", "toy", "--storage", url, "--out", str(tmp_path / "r")]) == 2
    assert "pip install 'infomorphic[figures]'" in capsys.readouterr().err


def test_the_parser_does_not_import_optuna_or_torch():
    import subprocess
    import sys

    code = (
        "import sys\nfrom infomorphic.cli import build_parser\nbuild_parser()\n"
        "print(sorted(m for m in ('torch', 'optuna', 'matplotlib') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr
