"""Training-step strategies: local goals (eager or compiled) and backprop.

A step takes one batch, updates the parameters and returns a ``StepOutput``: each trainable
layer's decomposition (N, n_atoms + 1) of the batch (none for backprop) and the batch's
accuracy on its own training pass (the authors' training accuracy, ``batch_accuracy``). The
loop never branches on the kind of network; it asks ``make_step`` for the right strategy, and
``epoch_means`` runs one over an epoch's batches. Optimiser settings are the paper's (Table 1),
from ``infomorphic.training.config.OPTIMIZERS``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

import torch
from torch import nn

from infomorphic.data import Splits, iterate_batches
from infomorphic.networks.base import Classifier, batch_accuracy
from infomorphic.networks.infomorphic import GoalLoss, InfomorphicNetwork
from infomorphic.training.config import OPTIMIZERS, TrainConfig
from infomorphic.training.optim import make_adam

__all__ = [
    "COMPILE_BACKEND",
    "BackpropStep",
    "CompiledLocalGoalStep",
    "LocalGoalStep",
    "EpochMeans",
    "StepOutput",
    "TrainStep",
    "epoch_means",
    "local_optimizers",
    "make_step",
    "spike_generators",
]

#: The torch.compile backend of compiled steps (tests use "aot_eager": no C compiler needed).
COMPILE_BACKEND = "inductor"


class StepOutput(NamedTuple):
    """What one step gives back: each trainable layer's decomposition of the batch, and the
    batch's accuracy on its training pass (a tensor, None if the step keeps no outputs)."""

    decompositions: list[torch.Tensor]
    accuracy: torch.Tensor | None = None


class TrainStep(Protocol):
    """One training step on a batch x (B, n_inputs), y (B,) int64."""

    optimizers: list[torch.optim.Optimizer]

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> StepOutput: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


def local_optimizers(
    model: InfomorphicNetwork, device: torch.device, compiled: bool = False
) -> list[Any]:
    """One Adam per trainable layer: the hidden layers' settings, the output layer's
    (``EagerAdam`` on a CPU, torch's fused Adam on a GPU or for a compiled step)."""
    optimizers = []
    for layer in model.trainable_layers():
        settings = OPTIMIZERS["output" if layer is model.output else "hidden"]
        params = [p for p in layer.parameters() if p.requires_grad]
        optimizers.append(make_adam(params, settings.lr, settings.weight_decay, device, compiled))
    return optimizers


def spike_generators(
    model: Classifier, device: torch.device, seed: int
) -> torch.Generator | list[torch.Generator]:
    """The spike stream of a training step: one generator, or one per member of a population
    (each seeded as the member's run alone would be)."""
    if model.members is None:
        return torch.Generator(device=device).manual_seed(seed)
    return [torch.Generator(device=device).manual_seed(seed) for _ in range(model.members)]


class _StepState:
    """What every step strategy saves in a checkpoint: its optimisers and its spike stream."""

    optimizers: list[Any]
    generator: torch.Generator | list[torch.Generator]

    def state_dict(self) -> dict[str, Any]:
        generator = self.generator
        if isinstance(generator, list):  # a population's: one per member
            states: Any = [g.get_state() for g in generator]
        else:
            states = generator.get_state()
        return {
            "optimizers": [opt.state_dict() for opt in self.optimizers],
            "generator": states,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for opt, saved in zip(self.optimizers, state["optimizers"], strict=True):
            opt.load_state_dict(saved)
        if isinstance(self.generator, list):
            for generator, saved in zip(self.generator, state["generator"], strict=True):
                generator.set_state(saved)
        else:
            self.generator.set_state(state["generator"])


class LocalGoalStep(_StepState):
    """Every neuron ascends its own goal; hidden spikes come from the step's own generator (one
    per member of a population, whose stacked weights one Adam per layer updates exactly as
    each member's own Adam would: Adam works element by element)."""

    def __init__(
        self,
        model: InfomorphicNetwork,
        device: torch.device,
        seed: int,
        goal_loss: Callable[[torch.Tensor, torch.Tensor], GoalLoss] | None = None,
        compiled: bool = False,
    ) -> None:
        self.model = model
        self.n_classes = model.config.n_classes
        self.optimizers = local_optimizers(model, device, compiled)
        self.generator = spike_generators(model, device, seed)
        self.goal_loss = goal_loss or (lambda x, onehot: model.goal_loss(x, onehot, self.generator))

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> StepOutput:
        for opt in self.optimizers:
            opt.zero_grad(set_to_none=True)
        onehot = nn.functional.one_hot(y, self.n_classes).to(x.dtype)
        result = self.goal_loss(x, onehot)
        result.loss.backward()
        for opt in self.optimizers:
            opt.step()
        output = result.output
        accuracy = None if output is None else batch_accuracy(output, y)
        return StepOutput(result.decompositions, accuracy)


class CompiledLocalGoalStep(LocalGoalStep):
    """The same step compiled into one graph per batch size (CUDA graphs on a GPU).

    A compiled graph cannot take a ``torch.Generator``, so its spikes come from torch's global
    generator, which this step seeds and whose state it saves: the one global side effect of
    the package, and only when compiling is asked for.
    """

    def __init__(self, model: InfomorphicNetwork, device: torch.device, seed: int) -> None:
        self.device = device
        cuda = device.type == "cuda"
        compiled = torch.compile(
            model.goal_loss,
            fullgraph=True,
            dynamic=False,
            backend=COMPILE_BACKEND,
            mode="reduce-overhead" if cuda and COMPILE_BACKEND == "inductor" else None,
        )

        def goal_loss(x: torch.Tensor, onehot: torch.Tensor) -> GoalLoss:
            if cuda:  # the previous step's graph outputs may be overwritten from here on
                torch.compiler.cudagraph_mark_step_begin()
            return compiled(x, onehot, None, True)

        super().__init__(model, device, seed, goal_loss, compiled=True)
        torch.manual_seed(seed)

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["global_rng"] = {"cpu": torch.get_rng_state()}
        if self.device.type == "cuda":
            state["global_rng"]["cuda"] = torch.cuda.get_rng_state(self.device)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        torch.set_rng_state(state["global_rng"]["cpu"].cpu())
        if self.device.type == "cuda" and "cuda" in state["global_rng"]:
            torch.cuda.set_rng_state(state["global_rng"]["cuda"].cpu(), self.device)


class BackpropStep(_StepState):
    """The network's own ``training_loss`` (cross-entropy), one Adam for all parameters (the
    paper's backprop settings); spikes, where the network has them, from the step's generator."""

    def __init__(self, model: Classifier, device: torch.device, seed: int) -> None:
        self.model = model
        self.generator = torch.Generator(device=device).manual_seed(seed)
        settings = OPTIMIZERS["backprop"]
        self.optimizers = [
            make_adam(model.parameters(), settings.lr, settings.weight_decay, device)
        ]

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> StepOutput:
        (opt,) = self.optimizers
        opt.zero_grad(set_to_none=True)
        # the end-to-end networks' own loss (make_step gives them this step)
        loss, outputs = self.model.training_loss_and_outputs(x, y, self.generator)  # type: ignore[operator]
        loss.backward()
        opt.step()
        # the polarity flip only where the readout has one (not the mlp's logits)
        return StepOutput([], batch_accuracy(outputs, y, flip=self.model.needs_readout_fit))


def make_step(model: Classifier, config: TrainConfig, device: torch.device) -> TrainStep:
    """The step strategy for ``model`` and ``config`` (spike streams seeded from config.seed)."""
    if not isinstance(model, InfomorphicNetwork):
        return BackpropStep(model, device, config.seed + 2)
    if config.compile:
        return CompiledLocalGoalStep(model, device, config.seed + 2)
    return LocalGoalStep(model, device, config.seed + 2)


class EpochMeans(NamedTuple):
    """An epoch's steps averaged over its batches: each decomposition, and the batches'
    accuracy on their own training pass (None if the step keeps no outputs)."""

    decompositions: list[torch.Tensor]
    accuracy: torch.Tensor | None


def epoch_means(
    step: Callable[[torch.Tensor, torch.Tensor], StepOutput],
    splits: Splits,
    batch_size: int,
    generator: torch.Generator,
) -> EpochMeans:
    """One shuffled pass of ``step`` over the training split; each of the decompositions it
    returns ([] for a step that returns none) and its batch accuracy, averaged over the
    batches. A last batch of one sample is skipped: a batch's PID needs at least two."""
    sums: list[torch.Tensor] = []
    accuracy: torch.Tensor | None = None
    batches = 0
    for xb, yb in iterate_batches(
        splits.x_train, splits.y_train, batch_size, shuffle=True, generator=generator
    ):
        if len(yb) < 2:
            continue
        decompositions, batch_accuracy = step(xb, yb)
        if batches == 0:
            sums = [d.clone() for d in decompositions]
            accuracy = None if batch_accuracy is None else batch_accuracy.clone()
        else:
            sums = [s + d for s, d in zip(sums, decompositions, strict=True)]
            if accuracy is not None and batch_accuracy is not None:
                accuracy = accuracy + batch_accuracy
        batches += 1
    return EpochMeans([s / batches for s in sums], None if accuracy is None else accuracy / batches)
