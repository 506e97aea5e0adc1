"""A goal search driven from Python: optuna proposes the hidden layer's goal, ``train`` scores it.

The space is the library's (``GoalSpace``: one weight in [-1, 1] per atom of the hidden goal,
named by its atom); the objective is a plain function of your own, here the validation
accuracy after a short training run on the built-in 5,000 MNIST digits. The data are loaded
once and handed to every trial. The best goal is then read in words (``explain_goal``).
``infomorphic search`` does the same with kill-safe workers, several processes and machines,
and a report; this is the version to take apart.

    python examples/search_from_python.py                     # 20 trials of 5 epochs
    python examples/search_from_python.py --trials 3 --epochs 1 --dataset digits
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import optuna

from infomorphic.nn import Goal
from infomorphic.reports.explain import explain_goal
from infomorphic.search.space import GoalSpace
from infomorphic.training import TrainConfig, load_splits, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--dataset", default="mnist-sample")
    parser.add_argument("--hidden", type=int, default=100)
    args = parser.parse_args()

    base = TrainConfig(
        dataset=args.dataset,
        model="setup1",
        hidden=[args.hidden],
        epochs=args.epochs,
        eval_splits=(),  # nothing measured per epoch: the objective is the last epoch alone
    ).validate()
    splits = load_splits(base)  # read and split once, shared by every trial
    space = GoalSpace.for_model(base.model, fixed={"H_res": 0.0})  # 18 weights searched

    def objective(trial: optuna.Trial) -> float:
        goal = space.suggest(trial)  # 19 weights in lattice order, H_res last
        summary = train(replace(base, goal=goal), splits=splits, progress=False)
        trial.set_user_attr("test_accuracy", summary["test_accuracy"])  # recorded, never used
        return summary["val_accuracy"]

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=0, multivariate=True, n_startup_trials=10)
    study = optuna.create_study(direction="maximize", sampler=sampler)  # in memory
    study.enqueue_trial(space.params("heuristic"))  # known goals first, as --enqueue does
    study.optimize(objective, n_trials=args.trials)

    for trial in sorted(study.trials, key=lambda t: -t.value)[:3]:
        test = trial.user_attrs["test_accuracy"]
        print(f"trial {trial.number}: validation {trial.value:.3f} (test {test:.3f})")
    best = Goal.from_vector(space.weights(study.best_params), space.source_names, "best")
    print(explain_goal(best).to_text())


if __name__ == "__main__":
    main()
