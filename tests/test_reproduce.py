"""Reproduction targets: their grids at every scale, the published numbers, tables that name
the data without a machine's path, failures said once, the compute estimate, and every target
end to end at the smoke scale (the searching ones, fig8 and the long sweeps marked slow)."""

from __future__ import annotations

import json
import math
import pickle
from pathlib import Path

import numpy as np
import pytest

from infomorphic.cli import main
from infomorphic.experiments import RunSpec, run_grid
from infomorphic.reproduce import SCALES, TARGET_NAMES, TARGETS, dry_run, reproduce, summary
from infomorphic.reproduce.estimate import CPU_US_PER_SAMPLE, EVAL_FRACTION, run_cost
from infomorphic.reproduce.runner import results_table
from infomorphic.reproduce.targets import BIN_COUNTS, Scale
from infomorphic.training import RunFolder
from infomorphic.training.config import TrainConfig

DIGITS = TrainConfig(dataset="digits", batch_size=256)
#: Smaller than smoke: one seed, one or two epochs, tiny networks, the digits data.
TINY = Scale(
    "tiny",
    seeds=1,
    epochs=1,
    sizes=(6,),
    fig8_sizes=(3,),
    long_epochs=2,
    search=(2, 1),
    retrain_sizes=(6,),
    hidden=6,
)


@pytest.mark.parametrize("scale", list(SCALES))
@pytest.mark.parametrize("name", list(TARGETS))
def test_every_target_builds_a_valid_grid_at_every_scale(name, scale):
    size = SCALES[scale]
    runs = TARGETS[name].runs(TrainConfig(dataset="mnist"), size)
    assert runs
    for _, _, config in runs:
        config.validate()
    assert {config.seed for _, _, config in runs} == set(range(size.seeds))


def test_the_command_line_takes_its_choices_from_the_library():
    from infomorphic.cli import build_parser

    parser = build_parser()
    action = next(a for a in parser._subparsers._group_actions if a.dest == "command")
    reproduce_parser = action.choices["reproduce"]
    options = {a.dest: a for a in reproduce_parser._actions}
    assert tuple(options["target"].choices) == (*TARGET_NAMES, "all", "summary")
    assert tuple(options["scale"].choices) == tuple(SCALES)
    assert set(TARGET_NAMES) == set(TARGETS) | {"fig6", "table3"}


def test_fig8_is_the_authors_figure():
    runs = TARGETS["fig8"].runs(TrainConfig(), SCALES["quick"])
    groups = {g for g, _, _ in runs}
    assert groups == {
        "lateral heuristic",
        "lateral optimised",
        "context heuristic",
        "context optimised",
        "heuristic",
        "optimised",
        "optimised sparse",
        "with feedback",
        "random projection",
        "backprop",
        "readout only",
    }
    by = {(g, x, c.seed): c for g, x, c in runs}
    assert {x for g, x, _ in runs if g == "optimised"} == {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000}
    assert by["context optimised", 100, 0].goal == "context-optimized-2"  # optimized_2_100
    assert by["lateral optimised", 100, 0].goal == "lateral-optimized-2"
    assert by["optimised sparse", 100, 0].model == "setup1"  # setup 2 is setup 1 at N <= 100
    assert by["optimised sparse", 200, 0].model == "setup2"
    assert by["with feedback", 50, 0].model == "setup3"
    assert [c.model for g, x, c in runs if g == "readout only"] == ["readout-only"] * 3
    assert all(x is None for g, x, _ in runs if g == "readout only")
    assert TARGETS["fig8"].extra == ("train_batch_accuracy",)


@pytest.mark.parametrize("name", ["fig10", "fig11"])
def test_the_sweeps_train_the_long_epochs_and_measure_every_epoch(name):
    runs = TARGETS[name].runs(TrainConfig(), SCALES["paper"])
    assert all(c.epochs == 1000 and c.eval_splits == ("val", "test") for _, _, c in runs)
    assert TARGETS[name].curve == "test_accuracy"
    if name == "fig11":
        assert all(n % 2 == 0 for n in BIN_COUNTS)  # odd counts never learn on (-20, 20)
        assert {(c.bins, c.output_bins) for _, _, c in runs} == {(n, n) for n in BIN_COUNTS}
        assert not TARGETS[name].paper  # Fig. 11's values are not Fig. 4A's 94.9%


def test_published_numbers_and_labels():
    assert TARGETS["linear"].paper["linear", None] == (94.9, 95.1)  # a range
    assert TARGETS["deep"].average == "mean"  # appendix A.10 reports means
    values = {"test_accuracy": {("linear", None): [95.0, 94.0, 96.0]}}
    table = results_table(TARGETS["linear"], values, SCALES["quick"], "some data")
    assert "| linear |  | 94.9-95.1% | 95.00% | +0.00 |" in table  # inside the range
    values = {"test_accuracy": {("own goal", None): [40.0, 41.0, 45.0]}}
    table = results_table(TARGETS["cifar"], values, SCALES["quick"], "some data")
    assert "CIFAR-10" in table and "MNIST" not in table
    values = {"test_accuracy": {("800-200, label context", None): [90.0, 91.0, 95.0]}}
    table = results_table(TARGETS["deep"], values, SCALES["quick"], "some data")
    assert "| 92.00% | -5.20 |" in table and "means of 10 runs" in table  # the mean, not 91


def test_a_target_end_to_end_names_its_data_without_a_path_and_is_reused(tmp_path):
    seen = []
    outcome = reproduce(
        "linear", TINY, DIGITS, tmp_path, workers=1, on_progress=lambda p, r: seen.append(p)
    )
    folder = outcome.folder
    table = (folder / "table.md").read_text()
    assert "| modulated |" in table and "| linear |" in table and "94.9-95.1%" in table
    assert "scikit-learn digits, 1,438 train / 359 test, sha256 " in table
    assert "The paper: the linear activation about as good" in table  # the shape check
    results = json.loads((folder / "results.json").read_text())
    assert [p["group"] for p in results["points"]] == ["modulated", "linear"]
    assert all(len(p["values"]) == 1 and 0 <= p["values"][0] <= 100 for p in results["points"])
    assert (folder / "figure.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for text in (table, json.dumps(results), summary(tmp_path)):
        assert str(tmp_path) not in text and "/work/" not in text
    assert seen[-1].done == 2
    again = []
    reproduce("linear", TINY, DIGITS, tmp_path, workers=1, on_progress=lambda p, r: again.append(r))
    assert all(result.reused for result in again)


def test_summary_links_point_into_each_targets_folder(tmp_path):
    """A table's own links (table3's to ablation.md) work from the summary's folder and from
    any other; absolute and anchor links stay."""
    folder = tmp_path / "out" / "table3"
    folder.mkdir(parents=True)
    (folder / "table.md").write_text(
        "# Critical weights\n\n[ablation.md](ablation.md), [paper](https://x.org/a), [s](#s)\n"
    )
    text = summary(tmp_path / "out")
    assert "[ablation.md](table3/ablation.md)" in text
    assert "[paper](https://x.org/a)" in text and "[s](#s)" in text
    assert "[ablation.md](out/table3/ablation.md)" in summary(tmp_path / "out", tmp_path)


def test_self_cosine_over_epochs(tmp_path):
    tiny = Scale("tiny", seeds=1, epochs=3, sizes=(4, 8))
    folder = reproduce("fig5", tiny, DIGITS, tmp_path, workers=1).folder
    results = json.loads((folder / "results.json").read_text())
    assert {p["group"] for p in results["points"]} == {"setup 1", "setup 2"}
    assert all(0 <= p["values"][0] <= 2 for p in results["points"])  # a distance, not percent
    assert all(len(c["runs"][0]) == 3 for c in results["curves"])  # one value per epoch
    assert (folder / "figure_curves.png").is_file()
    assert "figure_curves.png" in summary(tmp_path)


def test_a_convergence_sweep_records_every_epoch(tmp_path):
    outcome = reproduce("fig10", TINY, DIGITS, tmp_path, workers=1)
    results = json.loads((outcome.folder / "results.json").read_text())
    assert {p["x"] for p in results["points"]} == {128, 256, 512, 1024, 2048}
    assert all(len(c["runs"][0]) == 2 for c in results["curves"])  # long_epochs = 2
    names = {r.spec.out.name for r in outcome.results}
    assert all(name.endswith("-evvt") for name in names)  # never a run of another target


def test_failures_are_said_once_and_leave_no_table(tmp_path, capsys):
    argv = [
        "reproduce",
        "linear",
        "--scale",
        "smoke",
        "--dataset",
        "digits",
        "--device",
        "cuda:7",
        "--out",
        str(tmp_path),
        "--workers",
        "1",
    ]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("sees no CUDA device") == 1 and "error (2 runs)" in err
    # not a terminal (a log file): a progress line per run, no carriage returns
    assert "\r" not in err
    assert [line for line in err.splitlines() if " runs done" in line][-1].startswith(
        "2/2 runs done, 2 failed"
    )
    assert "no run finished, so no table was written" in err
    assert not (tmp_path / "linear").exists()
    for workers in ("0", "-1"):
        assert main(["reproduce", "linear", "--workers", workers]) == 2
    missing = [
        "reproduce",
        "linear",
        "--data-dir",
        str(tmp_path / "nowhere"),
        "--out",
        str(tmp_path),
    ]
    assert main(missing) == 2  # the data is checked once, before any run
    assert "not found" in capsys.readouterr().err.lower()


def test_dry_run_lists_the_runs_and_estimates_the_compute(tmp_path, capsys):
    argv = [
        "reproduce",
        "fig4",
        "--scale",
        "smoke",
        "--dataset",
        "digits",
        "--out",
        str(tmp_path),
        "--dry-run",
    ]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "fig4 at scale smoke" in text and "2 runs" in text
    assert "setup1-heuristic-digits-N20-e3-seed0" in text
    assert "on 2 CPU cores" in text and "on one GPU" in text
    assert not (tmp_path / "runs").exists()  # nothing trained
    reproduce("fig4", SCALES["smoke"], DIGITS, tmp_path, workers=1)
    text, estimate = dry_run("fig4", "smoke", DIGITS, tmp_path)
    assert text.count("(finished)") == 2 and estimate.to_train == 0
    for name in ("fig6", "table3"):
        text, estimate = dry_run(name, "paper", TrainConfig(dataset="mnist"), tmp_path)
        assert estimate.to_train > 0 and "estimate:" in text


def test_trials_sets_the_length_of_fig6s_searches_and_nothing_else(tmp_path, capsys):
    argv = ["reproduce", "fig6", "--dataset", "digits", "--out", str(tmp_path), "--dry-run"]
    assert main([*argv, "--scale", "smoke", "--trials", "7"]) == 0
    text = capsys.readouterr().out
    assert text.count("tpe, 7 trials of 2 epochs") == 3
    assert text.count("cmaes, 7 trials of 2 epochs (H_res fixed at 0)") == 3
    assert "42 search trials" in text and "fig6 here: 7 trials x 2 epochs" in text
    assert main(["reproduce", "fig4", "--trials", "7", "--dry-run"]) == 2
    assert "--trials" in capsys.readouterr().err


def test_the_estimate_by_hand():
    config = TrainConfig(dataset="mnist", hidden=[100], epochs=10, eval_splits=())
    cost = run_cost(config, 8_000, 2_000)  # 6,400 train, 1,600 validation, 2,000 test
    us = CPU_US_PER_SAMPLE[100]
    expected = 1e-6 * us * (10 * 6_400 + EVAL_FRACTION * (6_400 + 1_600 + 2_000))
    assert cost.core_s == pytest.approx(expected)
    per_epoch = run_cost(TrainConfig(epochs=10, eval_splits=("val", "test")), 8_000, 2_000)
    extra = 1e-6 * us * EVAL_FRACTION * 10 * (6_400 + 1_600 + 2_000)
    assert per_epoch.core_s == pytest.approx(expected + extra)
    wide = run_cost(TrainConfig(epochs=10, eval_splits=(), hidden=[1000]), 8_000, 2_000)
    assert wide.core_s / cost.core_s == pytest.approx(CPU_US_PER_SAMPLE[1000] / us)
    deep = run_cost(TrainConfig(epochs=10, eval_splits=(), hidden=[1000, 100]), 8_000, 2_000)
    assert deep.core_s == pytest.approx(wide.core_s + cost.core_s)
    between = run_cost(TrainConfig(epochs=10, eval_splits=(), hidden=[300]), 8_000, 2_000)
    assert (
        cost.core_s
        < between.core_s
        < run_cost(TrainConfig(epochs=10, eval_splits=(), hidden=[500]), 8_000, 2_000).core_s
    )
    assert math.isfinite(cost.gpu_s) and cost.gpu_s > 0


def test_a_finished_run_without_a_column_the_grid_reads_is_trained_again(tmp_path):
    config = TrainConfig(dataset="digits", hidden=[6], epochs=1, batch_size=256).validate()
    spec = RunSpec(config, tmp_path / "run", requires=("train_batch_accuracy",))
    first = run_grid([spec], workers=1)[0]
    history = (tmp_path / "run" / "history.csv").read_text().splitlines()
    columns = history[0].split(",")  # as a version without the column would have written it
    keep = [k for k, c in enumerate(columns) if c != "train_batch_accuracy"]
    old = [",".join(line.split(",")[k] for k in keep) for line in history]
    (tmp_path / "run" / "history.csv").write_text("\n".join(old) + "\n")
    assert run_grid([spec], workers=1)[0].reused is False  # trained again, the column back
    assert "train_batch_accuracy" in RunFolder(tmp_path / "run").history()[-1]
    assert run_grid([spec], workers=1)[0].reused is True
    assert first.summary["test_accuracy"] == RunFolder(tmp_path / "run").summary()["test_accuracy"]


def _cifar_files(folder: Path, n: int = 60) -> Path:
    """Six CIFAR-10 python batches of random images (the format, not the data)."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    for name in [*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]:
        batch = {
            b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            b"labels": list(rng.integers(0, 10, n)),
        }
        (folder / name).write_bytes(pickle.dumps(batch))
    return folder


def test_cifar_runs_on_small_cifar_format_files(tmp_path):
    data = _cifar_files(tmp_path / "cifar")
    base = TrainConfig(dataset="mnist", data_dir=str(data), batch_size=64)
    outcome = reproduce("cifar", TINY, base, tmp_path / "out", workers=1)
    assert not outcome.failed
    table = (outcome.folder / "table.md").read_text()
    assert "CIFAR-10 python batches, 300 train / 60 test, sha256" in table
    assert "| own goal |" in table and "| MNIST goal |" in table and "| backprop |" in table
    assert str(tmp_path) not in table


SEARCH_TINY = Scale(
    "tiny", seeds=1, epochs=1, sizes=(6,), search=(2, 1), retrain_sizes=(6,), hidden=6
)


def test_fig6_searches_reports_and_the_goals_trained_again(tmp_path, monkeypatch):
    """Two of the six searches (the smoke test, marked slow, runs all six)."""
    pytest.importorskip("optuna")
    from infomorphic.reproduce import fig6 as module
    from infomorphic.search import report

    for name, small in (("TREES", 5), ("REPEATS", 2), ("MDI_TREES", 8)):  # the forests' cost
        monkeypatch.setattr(report, name, small)
    assert [s[0] for s in module.SEARCHES] == [
        "tpe-1",
        "tpe-2",
        "tpe-3",
        "cmaes-1",
        "cmaes-2",
        "cmaes-3",
    ]
    monkeypatch.setattr(module, "SEARCHES", (("tpe-1", "tpe", 1), ("cmaes-1", "cmaes", 1)))
    fig6 = reproduce("fig6", SEARCH_TINY, DIGITS, tmp_path, workers=1)
    table = (fig6.folder / "table.md").read_text()
    for label in ("tpe-2", "tpe-3", "cmaes-2", "cmaes-3"):  # the published goals, trained again
        assert f"| {label} |" in table
    for label in ("tpe-1", "cmaes-1"):
        assert f"| {label} | 2 |" in table and f"| found {label} |" in table
        report = (fig6.folder / label / "report" / "report.md").read_text()
        assert "sqlite:///../study.db (relative to this report's folder)" in report
        assert "scikit-learn digits, 1,438 train" in report and str(tmp_path) not in report
    cmaes = json.loads((fig6.folder / "cmaes-1" / "report" / "report.json").read_text())
    assert cmaes["settings"]["fixed"] == {"H_res": 0.0}  # the paper's CMA-ES runs
    assert "The paper: of its six goals, the first TPE goal" in table and str(tmp_path) not in table
    assert "#### fig6:" in summary(tmp_path)


def test_fig6_remark_weighs_the_difference_against_the_seed_spread():
    from infomorphic.reproduce.fig6 import _remark

    def points(best: list[float]) -> dict:
        return {
            ("tpe-1", 100): {"val": [90.0, 91.0, 92.0]},
            ("tpe-1", 500): {"val": [93.0, 93.5, 93.6]},
            ("found cmaes-1", 500): {"val": best},
        }

    # medians 93.9 against 93.5: 0.40 points; ranges 0.30 and 0.60 (tpe-1's)
    text = _remark(points([93.6, 93.9, 93.9]), [100, 500])
    assert "at N = 500: Holds: of the published goals, best is `tpe-1` with 93.50%" in text
    assert "best is `found cmaes-1` with 93.90% against 93.50% for `tpe-1`" in text
    assert "0.40 points, within the seed spread (0.60 points" in text
    # medians 95.0 against 93.5: 1.50 points, beyond both ranges (0.60 and 0.20)
    text = _remark(points([94.9, 95.0, 95.1]), [100, 500])
    assert "1.50 points, larger than the seed spread (0.60 points" in text
    behind = _remark(points([90.0, 90.0, 90.0]), [100, 500])
    assert behind.endswith("Holds: of the published goals, best is `tpe-1` with 93.50%.")
    beaten = {**points([90.0]), ("tpe-2", 500): {"val": [94.0, 94.0]}}
    text = _remark(beaten, [100, 500])
    assert "Does not hold: of the published goals, best is `tpe-2` with 94.00%." in text
    assert "0.50 points, within the seed spread (0.60 points" in text


def test_table3_gives_the_papers_verdict(tmp_path):
    table3 = reproduce("table3", SEARCH_TINY, DIGITS, tmp_path, workers=1)
    text = (table3.folder / "table.md").read_text()
    assert "The paper: the four critical weights" in text and "Critical here:" in text
    assert "drop when removed in the cumulative ablation" in text
    assert (table3.folder / "ablation_cumulative.png").is_file()
    assert "#### table3:" in summary(tmp_path)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=[] if name in ("fig4", "linear") else pytest.mark.slow)
        for name in TARGET_NAMES
    ],
)
def test_every_target_runs_at_smoke_scale(name, tmp_path):
    """The smoke scale of each target, as `reproduce TARGET --scale smoke` runs it (digits
    instead of the built-in MNIST sample, whose parsing takes seconds per run)."""
    if name == "fig6":
        pytest.importorskip("optuna")
    argv = ["reproduce", name, "--scale", "smoke", "--out", str(tmp_path), "--workers", "1"]
    if name == "cifar":
        argv += ["--data-dir", str(_cifar_files(tmp_path / "cifar"))]
    else:
        argv += ["--dataset", "digits"]
    assert main(argv) == 0
    assert (tmp_path / name / "table.md").is_file()
