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
   (``table.py``) into DOCS/retraining.md.

Runs and studies go to RUNS (default runs/beyond, not committed); reports to DOCS (default this
folder for --scale quick, RUNS/reports for --scale tiny, so a smoke test never overwrites the
committed reports).
"""

from __future__ import annotations

import argparse
import json
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


MNIST = ("mnist", "../shared/data/mnist-10k")
FASHION = ("fashion-mnist", "/usr/share/datasets/fashion-mnist")
SCALES = {
    # every step on small data: digits for the searches and retraining, one epoch of the real
    # Fashion-MNIST at N = 16 (its loading is part of what is tested)
    "tiny": Scale(
        ("digits", None), FASHION, "16,8", "16", "16", 4, 4, 6, 2, 2, 3, 2, 1, 2, 2, 1, 1
    ),
    "quick": Scale(
        MNIST, FASHION, "200,100", "100", "100", 300, 300, 300, 25, 25, 100, 8, 4, 100, 5, 100, 3
    ),
}
STUDIES = {"a": "layers-setup2-200-100", "b": "feedback-setup3-100", "c": "setup1-100-hyperband"}


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
        args = [
            "--model",
            "setup1",
            "--hidden",
            scale.setup1_hidden,
            "--trials",
            str(scale.trials_c),
            "--epochs",
            str(scale.epochs_c),
            "--pruner",
            "hyperband",
            "--min-epochs",
            str(scale.min_epochs_c),
            "--population",
            str(scale.population_c),
            "--workers",
            str(workers),
        ]
    infomorphic("search", *args, *common)


def retrained_goals(step: str, scale: Scale) -> int:
    """How many of a search's best goals are trained again: c's best three; a's best two,
    because a per-layer search seeded with the paper's goal may keep that goal as its best;
    b's best."""
    return {"a": 2, "c": scale.top_c}.get(step, 1)


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


def retraining_specs(scale: Scale, docs: Path, runs: Path, fashion: bool):
    """The retraining runs: (group, goal label) -> configurations of every seed."""
    from infomorphic.experiments.runner import RunSpec
    from infomorphic.training import TrainConfig

    data, epochs, seeds = scale.data, scale.retrain_epochs, scale.seeds
    if fashion:
        data, epochs, seeds = scale.fashion, scale.fashion_epochs, scale.fashion_seeds
    name, folder = data
    hidden = {"a": scale.layers_hidden, "b": scale.feedback_hidden, "c": scale.setup1_hidden}
    if fashion and name == "fashion-mnist" and scale is SCALES["tiny"]:
        hidden = dict.fromkeys(hidden, "16")
        hidden["a"] = "16,8"
    models = {"a": "setup2", "b": "setup3", "c": "setup1"}
    specs = []
    for step in ("a", "b", "c"):
        report_dir = docs / STUDIES[step]
        if not (report_dir / "best_goal.json").is_file():
            print(f"step {step}: no report in {report_dir} yet; its retraining waits", flush=True)
            continue
        sizes = [int(n) for n in hidden[step].split(",")]
        layers = [f"hidden{k + 1}" for k in range(len(sizes))]
        files = ["best_goal.json"]
        files += [f"goal_rank{k}.json" for k in range(2, retrained_goals(step, scale) + 1)]
        goals = {"paper": "optimized"}
        for k, file in enumerate(files, 1):
            if (report_dir / file).is_file():
                goals[f"found{k}"] = goal_of_file(report_dir / file, layers)
        group = f"{'fashion-' if fashion else ''}{STUDIES[step]}"
        for label, goal in goals.items():
            for seed in range(seeds):
                config = TrainConfig(
                    dataset=name,
                    data_dir=folder,
                    model=models[step],
                    hidden=sizes,
                    goal=goal,
                    epochs=epochs,
                    seed=seed,
                    eval_splits=(),
                ).validate()
                out = runs / "retrain" / group / label / f"seed{seed}"
                specs.append(RunSpec(config, out, f"{group}/{label}"))
    return specs


def retrain(scale: Scale, docs: Path, runs: Path, workers: int, fashion: bool) -> None:
    from infomorphic.experiments.runner import run_grid

    specs = retraining_specs(scale, docs, runs, fashion)

    def progress(p, result):
        state = "failed: " + result.error if result.error else "reused" if result.reused else "ok"
        print(
            f"[{p.done}/{p.total}] {result.spec.label} {result.spec.out.name}: {state}", flush=True
        )

    results = run_grid(specs, workers=workers, threads=1, on_progress=progress)
    failed = [r for r in results if r.error]
    if failed:
        raise SystemExit(f"{len(failed)} retraining runs failed; run the script again")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=SCALES, default="tiny")
    parser.add_argument("--steps", default="a,b,c,d,e,f", help="steps to run (default all)")
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
    compute_file = runs / "compute.json"
    runs.mkdir(parents=True, exist_ok=True)
    compute = json.loads(compute_file.read_text()) if compute_file.is_file() else {}
    for step in steps:
        start = time.monotonic()
        if step in STUDIES:
            search(step, scale, runs, args.workers)
            report(step, scale, runs, docs)
        elif step in ("d", "e"):
            retrain(scale, docs, runs, args.workers, fashion=step == "e")
        elif step == "f":
            for study in STUDIES:
                if (runs / STUDIES[study]).is_dir():
                    report(study, scale, runs, docs)
            text = table.markdown(table.collect(runs / "retrain"))
            (docs / "retraining.md").write_text(text)
            print(text)
        else:
            raise SystemExit(f"--steps: unknown step {step!r}; choose from a, b, c, d, e, f")
        # wall-clock seconds of this invocation of the step (summed over resumed invocations)
        compute[step] = compute.get(step, 0.0) + time.monotonic() - start
        compute_file.write_text(json.dumps(compute, indent=2) + "\n")
    print("wall-clock seconds per step (all invocations): " + json.dumps(compute))
    return 0


if __name__ == "__main__":
    sys.exit(main())
