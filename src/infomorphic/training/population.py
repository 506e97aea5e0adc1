"""Population training: P configurations that differ only in their goal, trained as one model.

Each member's batches, initial weights, spikes and evaluation draws are those of the same
configuration trained alone (the batch order and the initial weights come from the shared
seed; every member has its own spike and evaluation generators), so a member's result does not
depend on P or on its neighbours, up to float rounding. One Adam per layer over the stacked
weights updates every member exactly as its own Adam would: Adam works element by element.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import torch

from infomorphic.data import Splits
from infomorphic.networks.base import batch_accuracy
from infomorphic.networks.population import PopulationNetwork
from infomorphic.networks.registry import build_model
from infomorphic.training.config import EVAL_SPLITS, OPTIMIZERS, TrainConfig
from infomorphic.training.evaluation import eval_generator
from infomorphic.training.loop import (
    PROBE_SIZE,
    EpochMeans,
    epoch_means,
    load_splits,
    torch_device,
    warn_degenerate_binning,
)
from infomorphic.training.optim import make_adam
from infomorphic.training.steps import StepOutput

__all__ = ["PopulationTrainer"]

EpochCallback = Callable[["PopulationTrainer", list[dict[str, float]]], bool | None]


class PopulationTrainer:
    """Trains P configurations (equal but for ``goal``) together; ``fit`` gives P summaries."""

    def __init__(
        self,
        configs: Sequence[TrainConfig],
        splits: Splits | None = None,
        on_epoch_end: EpochCallback | None = None,
    ) -> None:
        if not configs:
            raise ValueError("a population needs at least one configuration")
        self.configs = [c.validate() for c in configs]
        base = {k: v for k, v in self.configs[0].to_dict().items() if k != "goal"}
        for config in self.configs[1:]:
            if {k: v for k, v in config.to_dict().items() if k != "goal"} != base:
                raise ValueError("population members may differ only in their goal")
        self.config = self.configs[0]
        if self.config.compile:
            raise ValueError("population training runs eagerly; drop compile")
        self.device = torch_device(self.config.device)
        self.splits = (splits if splits is not None else load_splits(self.config)).to(self.device)
        members = []
        for config in self.configs:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(config.seed)  # as a run alone: nn.Linear's initial weights
                members.append(
                    build_model(
                        config.model, self.splits.n_features, self.splits.n_classes,
                        config.hidden, config.goal, config.activation,
                        generator=torch.Generator().manual_seed(config.seed),
                        passes=config.passes, bins=config.bins, output_bins=config.output_bins,
                        eval_context=config.eval_context,
                    )
                )  # fmt: skip
        probe = self.splits.x_train[:PROBE_SIZE].cpu()
        onehot = torch.nn.functional.one_hot(
            self.splits.y_train[:PROBE_SIZE].cpu(), self.splits.n_classes
        )
        warn_degenerate_binning(members[0], probe, onehot.to(probe.dtype))
        self.model = PopulationNetwork(members).to(self.device)
        self.optimizers = [
            make_adam(params, s.lr, s.weight_decay, self.device)
            for params, s in (
                (self.model.hidden_parameters(), OPTIMIZERS["hidden"]),
                (self.model.output_parameters(), OPTIMIZERS["output"]),
            )
        ]
        self.spike_generators = [
            torch.Generator(device=self.device).manual_seed(c.seed + 2) for c in self.configs
        ]
        self.batch_generator = torch.Generator().manual_seed(self.config.seed + 1)
        self.on_epoch_end = on_epoch_end
        self.epoch = 0
        self.seconds = 0.0
        self.histories: list[list[dict[str, float]]] = [[] for _ in self.configs]
        self.diverged: list[int | None] = [None] * len(self.configs)

    @property
    def size(self) -> int:
        return len(self.configs)

    def step(self, x: torch.Tensor, y: torch.Tensor) -> StepOutput:
        """One batch for every member: decompositions hidden (P, N, A+1) and output, and each
        member's accuracy on this training pass (P,)."""
        for opt in self.optimizers:
            opt.zero_grad(set_to_none=True)
        onehot = torch.nn.functional.one_hot(y, self.splits.n_classes).to(x.dtype)
        loss, decompositions, output = self.model.goal_loss(x, onehot, self.spike_generators)
        loss.backward()
        for opt in self.optimizers:
            opt.step()
        return StepOutput(decompositions, batch_accuracy(output, y))

    def train_epoch(self) -> EpochMeans:
        """One pass over the training data; mean decompositions hidden (P, N, A+1), output,
        and each member's mean batch accuracy (P,)."""
        return epoch_means(self.step, self.splits, self.config.batch_size, self.batch_generator)

    @torch.no_grad()
    def _outputs(self, x: torch.Tensor, split: str, epoch: int) -> torch.Tensor:
        """Evaluation outputs (n, P, K), each member drawing from its own generator."""
        generators = [eval_generator(c.seed, epoch, split, x.device) for c in self.configs]
        size, samples = self.config.eval_batch_size, self.config.eval_samples
        parts = []
        for i in range(0, len(x), size):  # in the order a member alone would draw them
            total = self.model.outputs(x[i : i + size], generators)
            for _ in range(samples - 1):
                total = total + self.model.outputs(x[i : i + size], generators)
            parts.append(total / samples if samples > 1 else total)
        return torch.cat(parts)

    def measure(self, splits: Sequence[str], epoch: int) -> list[dict[str, float]]:
        """Fit every member's readout on the training data; each member's accuracies."""
        results: list[dict[str, float]] = [{} for _ in self.configs]
        outputs = self._outputs(self.splits.x_train, "train", epoch)
        self.model.fit_readout(outputs, self.splits.y_train)
        measured = {"train": outputs}
        for split in splits:
            if split not in measured:
                measured[split] = self._outputs(getattr(self.splits, f"x_{split}"), split, epoch)
        for split in splits:
            labels = getattr(self.splits, f"y_{split}")
            correct = self.model.to_scores(measured[split]).argmax(-1) == labels[:, None]
            for member, value in enumerate(correct.float().mean(0).tolist()):
                results[member][f"{split}_accuracy"] = value
        return results

    def fit(self) -> list[dict[str, Any]]:
        """Train the remaining epochs; one summary per member (``error`` set if it diverged)."""
        while self.epoch < self.config.epochs:
            start = time.perf_counter()
            (hidden, output), accuracy = self.train_epoch()
            self.epoch += 1
            for member in range(self.size):
                finite = bool(torch.isfinite(hidden[member]).all())
                finite &= bool(torch.isfinite(output[member]).all())
                if not finite and self.diverged[member] is None:
                    self.diverged[member] = self.epoch
            splits = self.config.eval_splits
            metrics = self.measure(splits, self.epoch) if splits else [{} for _ in self.configs]
            self.seconds += time.perf_counter() - start
            rows = []
            for member, values in enumerate(metrics):
                weights = self.model.hidden_goals[member].cpu().numpy()
                goal = float(hidden[member].mean(0).cpu().numpy() @ weights)
                row = {"epoch": self.epoch, **values,
                       "train_batch_accuracy": float(accuracy[member]),
                       "seconds": self.seconds, "hidden1_goal": goal}  # fmt: skip
                self.histories[member].append(row)
                rows.append(row)
            if self.on_epoch_end is not None and self.on_epoch_end(self, rows):
                break
        return self.summaries()

    def summaries(self) -> list[dict[str, Any]]:
        final = self.measure(EVAL_SPLITS, self.epoch)
        out = []
        for member, config in enumerate(self.configs):
            summary = {
                **final[member],
                "epochs": self.epoch,
                "seconds": self.seconds,
                "population": self.size,
                "model": config.model,
                "goal": config.goal,
                "seed": config.seed,
            }
            if self.diverged[member] is not None:
                summary["error"] = f"diverged in epoch {self.diverged[member]}"
                for key in ("train_accuracy", "val_accuracy", "test_accuracy"):
                    summary[key] = float("nan")
            out.append(summary)
        return out
