"""Beyond the paper: goals per layer, goals for feedback, a better goal for setup 1 (issue
"goals per layer, goals for feedback"). Every step is resumable: run the script again after an
interruption and it continues (a search until its trials are done, the retraining runs that are
not finished yet); finished work is read back, never redone.

    python docs/results/beyond/run_all.py --scale tiny    # every step end to end: minutes
    python docs/results/beyond/run_all.py --scale quick   # the real sizes: hours (README.md)

Steps (``--steps a,b,...`` runs some; later steps need the earlier searches' reports):

a. a per-layer TPE search of a 200-100-10 network of setup 2 (label context and at most 100
   lateral inputs in both layers), one goal per layer, seeded with the paper's goal in both;
b. a TPE search of setup 3 at N = 100 (output feedback as context), seeded with the setup-1 goal
   the paper used there (``optimized``);
c. a TPE search of setup 1 at N = 100 at 100 epochs per trial, with Hyperband pruning and
   population training, seeded with the paper's goal;
d. retraining on the test split: a's best per-layer goal beside the paper's shared goal on the
   same network, b's best goal beside the setup-1 goal on setup 3, c's best three beside the
   paper's goal on setup 1 (seeds 0..K-1);
e. Fashion-MNIST (the full 60,000/10,000 set): the found goals against the shared goal;
f. the reports: search-report of each study into DOCS/<study>/ and the retraining table
   (``table.py``) into DOCS/retraining.md, its runs' accuracies into DOCS/retraining.json;
g. a TPE search of setup 3 at N = 100 as c searches setup 1: 100 epochs per trial, Hyperband,
   populations of 8, seeded with the setup-1 goal (b's 25-epoch objective misled);
h. a TPE search of the deep feedback network (label and output feedback as context in both
   hidden layers of 200-100-10), one goal shared by both layers as the paper uses it, 100
   epochs per trial with Hyperband, one trial per process (populations of this network save
   almost nothing per step: benchmarks/README.md);
i, j. a's network with one layer searched and the other keeping the paper's goal (i: the first
   hidden layer's goal, j: the second's), 100 epochs per trial with Hyperband: each layer's
   own best goal, in 19 weights instead of a's 38.

Steps d and e retrain the goals of every search whose report is there (``--groups`` narrows
them); a found goal equal to the paper's is not trained again, and step e trains only the best
found goal of each search against the paper's.

Runs and studies go to RUNS (default runs/beyond, not committed); reports to DOCS (default this
folder for --scale quick, RUNS/reports for --scale tiny, so a smoke test never overwrites the
committed reports).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import table  # noqa: E402  (this folder's table script)


@dataclass(frozen=True)
class Scale:
    """The sizes of one scale; ``data`` is (dataset, data dir relative to the repository)."""

    data: tuple[str, str | None]
    fashion: tuple[str, str | None]
    layers_hidden: str  # a
    feedback_hidden: str  # b
    setup1_hidden: str  # c
    trials_a: int
    trials_b: int
    trials_c: int
    epochs_a: int
    epochs_b: int
    epochs_c: int
    population_c: int
    min_epochs_c: int
    retrain_epochs: int
    seeds: int
    fashion_epochs: int
    fashion_seeds: int
    top_c: int = 3
    trials_g: int = 4
    trials_h: int = 4
    trials_ij: int = 4
    deep_hidden: str = "16,8"


MNIST = ("mnist", "../shared/data/mnist-10k")
FASHION = ("fashion-mnist", "/usr/share/datasets/fashion-mnist")
SCALES = {
    # every step on small data: digits for the searches and retraining, one epoch of the real
    # Fashion-MNIST at N = 16 (its loading is part of what is tested)
    "tiny": Scale(
        ("digits", None), FASHION, "16,8", "16", "16", 4, 4, 6, 2, 2, 3, 2, 1, 2, 2, 1, 1
    ),
    "quick": Scale(
        MNIST,
        FASHION,
        "200,100",
        "100",
        "100",
        300,
        300,
        300,
        25,
        25,
        100,
        8,
        4,
        100,
        5,
        100,
        3,
        trials_g=300,
        trials_h=120,
        trials_ij=150,
        deep_hidden="200,100",
    ),
}
STUDIES = {
    "a": "layers-setup2-200-100",
    "b": "feedback-setup3-100",
    "c": "setup1-100-hyperband",
    "g": "feedback-setup3-100-hyperband",
    "h": "deep-feedback-200-100-hyperband",
    "i": "layers-setup2-200-100-hidden1",
    "j": "layers-setup2-200-100-hidden2",
}
#: Each search's network (model, the Scale field of its hidden sizes).
NETWORKS = {
    "a": ("setup2", "layers_hidden"),
    "b": ("setup3", "feedback_hidden"),
    "c": ("setup1", "setup1_hidden"),
    "g": ("setup3", "feedback_hidden"),
    "h": ("deep-feedback", "deep_hidden"),
    "i": ("setup2", "layers_hidden"),
    "j": ("setup2", "layers_hidden"),
}


def infomorphic(*args: str) -> None:
    command = [sys.executable, "-m", "infomorphic", *args]
    print("$ infomorphic " + " ".join(args), flush=True)
    subprocess.run(command, check=True)


def data_args(data: tuple[str, str | None]) -> list[str]:
    name, folder = data
    return ["--dataset", name, *(["--data-dir", folder] if folder else [])]


def search(step: str, scale: Scale, runs: Path, workers: int) -> None:
    study = STUDIES[step]
    common = [
        "--sampler",
        "tpe",
        "--seed",
        "0",
        "--enqueue",
        "optimized",
        "--study",
        study,
        "--out",
        str(runs / study),
        *data_args(scale.data),
    ]
    if step == "a":
        args = [
            "--model",
            "setup2",
            "--hidden",
            scale.layers_hidden,
            "--goal-layers",
            "all",
            "--trials",
            str(scale.trials_a),
            "--epochs",
            str(scale.epochs_a),
            "--workers",
            str(workers),
        ]
    elif step == "b":
        args = [
            "--model",
            "setup3",
            "--hidden",
            scale.feedback_hidden,
            "--trials",
            str(scale.trials_b),
            "--epochs",
            str(scale.epochs_b),
            "--workers",
            str(workers),
        ]
    else:
        model, hidden_field = NETWORKS[step]
        trials = {"c": scale.trials_c, "g": scale.trials_g, "h": scale.trials_h}.get(
            step, scale.trials_ij
        )
        # populations of the two-layer networks save almost nothing per step; one trial each
        population = [] if step in "hij" else ["--population", str(scale.population_c)]
        layer = {"i": ["--goal-layers", "hidden1"], "j": ["--goal-layers", "hidden2"]}
        args = [
            "--model",
            model,
            "--hidden",
            getattr(scale, hidden_field),
            "--trials",
            str(trials),
            "--epochs",
            str(scale.epochs_c),
            "--pruner",
            "hyperband",
            "--min-epochs",
            str(scale.min_epochs_c),
            *population,
            *layer.get(step, []),
            "--workers",
            str(workers),
        ]
    infomorphic("search", *args, *common)


def retrained_goals(step: str, scale: Scale) -> int:
    """How many of a search's best goals are trained again: c's best three; b's best; the
    others' best two, because a search seeded with the paper's goal may keep that goal as its
    best."""
    return {"b": 1, "c": scale.top_c}.get(step, 2)


def report(step: str, scale: Scale, runs: Path, docs: Path) -> None:
    study = STUDIES[step]
    top = str(retrained_goals(step, scale))
    infomorphic("search-report", str(runs / study), "--out", str(docs / study), "--top", top)


def goal_of_file(path: Path, layers: list[str]):
    """A goal file's goal as a configuration records it (weights, not the file's path: a run
    keeps the goal it trained even if the report is written again)."""
    from infomorphic.nn.goal_files import read_goal_file

    parsed = read_goal_file(path)
    if not parsed.per_layer:
        return parsed.goals[None].spec()
    return {
        layer: parsed.goals[layer].spec() if layer in parsed.goals else None for layer in layers
    }


def is_paper_goal(goal: object) -> bool:
    """Whether a goal as ``goal_of_file`` gives it is the paper's optimised goal (in every
    layer), which the reference runs train already."""
    from infomorphic.nn.goal_files import is_per_layer
    from infomorphic.nn.goals import Goal

    paper = Goal.named("optimized").as_dict()
    layers = list(goal.values()) if is_per_layer(goal) else [goal]
    return all(isinstance(g, dict) and g == paper for g in layers)


def retraining_specs(scale: Scale, docs: Path, runs: Path, fashion: bool, groups: list[str]):
    """The retraining runs and the aliases: runs whose configuration an earlier group trains
    already (g's reference is b's), as (their folder, the folder that trains it)."""
    from infomorphic.experiments.runner import RunSpec
    from infomorphic.training import TrainConfig

    data, epochs, seeds = scale.data, scale.retrain_epochs, scale.seeds
    if fashion:
        data, epochs, seeds = scale.fashion, scale.fashion_epochs, scale.fashion_seeds
    name, folder = data
    tiny_fashion = fashion and name == "fashion-mnist" and scale is SCALES["tiny"]
    specs: list = []
    aliases: list[tuple[Path, Path]] = []
    trained: dict[str, Path] = {}
    for step in groups:
        report_dir = docs / STUDIES[step]
        if not (report_dir / "best_goal.json").is_file():
            print(f"step {step}: no report in {report_dir} yet; its retraining waits", flush=True)
            continue
        model, hidden_field = NETWORKS[step]
        hidden = getattr(scale, hidden_field)
        if tiny_fashion:
            hidden = "16,8" if "," in hidden else "16"
        sizes = [int(n) for n in hidden.split(",")]
        layers = [f"hidden{k + 1}" for k in range(len(sizes))]
        files = ["best_goal.json"]
        files += [f"goal_rank{k}.json" for k in range(2, retrained_goals(step, scale) + 1)]
        goals: dict[str, object] = {"paper": "optimized"}
        for k, file in enumerate(files, 1):
            if (report_dir / file).is_file():
                goal = goal_of_file(report_dir / file, layers)
                if is_paper_goal(goal):
                    print(f"step {step}: found{k} is the paper's goal; not trained again")
                    continue
                goals[f"found{k}"] = goal
                if fashion:
                    break  # the check of the conclusion: the best found goal, not the runners-up
        group = f"{'fashion-' if fashion else ''}{STUDIES[step]}"
        for label, goal in goals.items():
            for seed in range(seeds):
                config = TrainConfig(
                    dataset=name,
                    data_dir=folder,
                    model=model,
                    hidden=sizes,
                    goal=goal,
                    epochs=epochs,
                    seed=seed,
                    eval_splits=(),
                ).validate()
                out = runs / "retrain" / group / label / f"seed{seed}"
                key = json.dumps(config.to_dict(), sort_keys=True, default=str)
                if key in trained:
                    aliases.append((out, trained[key]))
                    continue
                trained[key] = out
                specs.append(RunSpec(config, out, f"{group}/{label}"))
    return specs, aliases


def retrain(
    scale: Scale, docs: Path, runs: Path, workers: int, fashion: bool, groups: list[str]
) -> None:
    from infomorphic.experiments.runner import run_grid

    specs, aliases = retraining_specs(scale, docs, runs, fashion, groups)

    def progress(p, result):
        state = "failed: " + result.error if result.error else "reused" if result.reused else "ok"
        print(
            f"[{p.done}/{p.total}] {result.spec.label} {result.spec.out.name}: {state}", flush=True
        )

    results = run_grid(specs, workers=workers, threads=1, on_progress=progress)
    failed = [r for r in results if r.error]
    if failed:
        raise SystemExit(f"{len(failed)} retraining runs failed; run the script again")
    for alias, target in aliases:
        # the same configuration as a run of another group: link to it rather than train it twice
        if not alias.exists():
            alias.parent.mkdir(parents=True, exist_ok=True)
            alias.symlink_to(os.path.relpath(target, alias.parent), target_is_directory=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=SCALES, default="tiny")
    parser.add_argument(
        "--steps",
        default="a,b,c,g,h,i,j,d,e,f",
        help="steps to run, in this order (default all)",
    )
    parser.add_argument(
        "--groups",
        default=",".join(STUDIES),
        help="the searches whose goals steps d and e retrain (default all)",
    )
    parser.add_argument("--runs", type=Path, default=Path("runs/beyond"))
    parser.add_argument("--docs", type=Path, default=None)
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    parser.add_argument(
        "--mnist-dir",
        default=None,
        help="folder of the MNIST IDX files of the quick scale (default ../shared/data/mnist-10k, "
        "relative to where the script runs)",
    )
    args = parser.parse_args(argv)
    scale = SCALES[args.scale]
    if args.mnist_dir is not None and args.scale == "quick":
        scale = replace(scale, data=("mnist", args.mnist_dir))
    runs = args.runs if args.scale == "quick" else args.runs / args.scale
    docs = args.docs or (HERE if args.scale == "quick" else runs / "reports")
    steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    groups = [g.strip() for g in args.groups.split(",") if g.strip()]
    unknown = [g for g in groups if g not in STUDIES]
    if unknown:
        raise SystemExit(
            f"--groups: unknown search {unknown[0]!r}; choose from {', '.join(STUDIES)}"
        )
    compute_file = runs / "compute.json"
    runs.mkdir(parents=True, exist_ok=True)
    compute = json.loads(compute_file.read_text()) if compute_file.is_file() else {}
    for step in steps:
        start = time.monotonic()
        if step in STUDIES:
            search(step, scale, runs, args.workers)
            report(step, scale, runs, docs)
        elif step in ("d", "e"):
            retrain(scale, docs, runs, args.workers, fashion=step == "e", groups=groups)
        elif step == "f":
            for study in STUDIES:
                if (runs / STUDIES[study]).is_dir():
                    report(study, scale, runs, docs)
            # the runs' accuracies are kept beside the table, so that a later invocation on a
            # machine without these runs adds to them instead of dropping them
            record = docs / "retraining.json"
            found = table.merge(table.load(record), table.collect(runs / "retrain"))
            table.save(record, found)
            text = table.markdown(found)
            (docs / "retraining.md").write_text(text)
            print(text)
        else:
            raise SystemExit(f"--steps: unknown step {step!r}; choose from a to j")
        # wall-clock seconds of this invocation of the step (summed over resumed invocations)
        compute[step] = compute.get(step, 0.0) + time.monotonic() - start
        compute_file.write_text(json.dumps(compute, indent=2) + "\n")
    print("wall-clock seconds per step (all invocations): " + json.dumps(compute))
    return 0


if __name__ == "__main__":
    sys.exit(main())
