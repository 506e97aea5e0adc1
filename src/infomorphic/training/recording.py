"""What a run records of its neurons each epoch: mean atoms and weight drift.

For every trainable layer: each neuron's decomposition (atoms and H_res) averaged over the
epoch's batches, the layer's mean atoms and goal as history columns, and for hidden layers the
self-cosine distance of each neuron's feedforward weights since the previous epoch (paper
eq. 4). Knows nothing of files: the run folder stores ``arrays()`` and ``state_dict()``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from infomorphic.networks.base import Classifier
from infomorphic.networks.infomorphic import InfomorphicNetwork
from infomorphic.nn.functional import Generators, self_cosine_distance

__all__ = ["NeuronRecorder"]


class NeuronRecorder:
    """Per-epoch neuron statistics of an infomorphic network (nothing for other networks)."""

    def __init__(
        self, model: Classifier, probe: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> None:
        self.model = model if isinstance(model, InfomorphicNetwork) else None
        self.probe = probe  # (x, one-hot labels) on which the lateral passes' change is measured
        self.atoms: dict[str, list[np.ndarray]] = {}
        self.cosine: dict[str, list[np.ndarray]] = {}
        self.previous_weights = self._feedforward_weights()

    def _feedforward_weights(self) -> dict[str, torch.Tensor]:
        if self.model is None:
            return {}
        return {
            f"hidden{k + 1}": layer.feedforward.weight.detach().clone()
            for k, layer in enumerate(self.model.hidden)
        }

    def record(self, means: dict[str, np.ndarray]) -> dict[str, float] | list[dict[str, float]]:
        """Store one epoch's mean decompositions {layer: (N, A+1)}; return history columns. A
        population's means are (P, N, A+1): one row of columns per member, nothing stored."""
        if self.model is not None and self.model.members is not None:
            return self._member_rows(means)
        row: dict[str, float] = {}
        if self.model is None or not means:  # no means: zero epochs, the untrained model
            return row
        layers = zip(self.model.layer_names(), self.model.trainable_layers(), strict=True)
        for name, layer in layers:
            decomposition = means[name]
            self.atoms.setdefault(name, []).append(decomposition.astype(np.float32))
            layer_mean = decomposition.mean(0)
            assert layer.goal is not None  # a trainable layer has one
            row[f"{name}_goal"] = float(layer_mean @ np.array(layer.goal.weights))
            for label, value in zip(layer.goal.labels, layer_mean, strict=True):
                row[f"{name}_{label}"] = float(value)
        if self.probe is not None and self.model.recurrent:
            for name, change in self.pass_change().items():
                row[f"{name}_pass_change"] = change
        current = self._feedforward_weights()
        for name, weights in current.items():
            distance = self_cosine_distance(self.previous_weights[name], weights)
            self.cosine.setdefault(name, []).append(distance.cpu().numpy())
            row[f"{name}_self_cosine_median"] = float(distance.median())
        self.previous_weights = current
        return row

    def _member_rows(self, means: dict[str, np.ndarray]) -> list[dict[str, float]]:
        """The columns of ``record`` for each member of a population."""
        model = self.model
        assert model is not None and model.members is not None  # record's test
        rows: list[dict[str, float]] = [{} for _ in range(model.members)]
        if not means:
            return rows
        changes = self.pass_change(per_member=True) if self.probe and model.recurrent else {}
        current = self._feedforward_weights()
        for member, row in enumerate(rows):
            layers = zip(model.layer_names(), model.trainable_layers(), strict=True)
            for name, layer in layers:
                layer_mean = means[name][member].mean(0)
                goal = layer.member_goals[member] if layer.member_goals else layer.goal
                assert goal is not None and layer.goal is not None  # a trainable layer has one
                row[f"{name}_goal"] = float(layer_mean @ np.array(goal.weights))
                for label, value in zip(layer.goal.labels, layer_mean, strict=True):
                    row[f"{name}_{label}"] = float(value)
            for name, change in changes.items():
                row[f"{name}_pass_change"] = change[member]
            for name, weights in current.items():
                previous = self.previous_weights[name][member]
                distance = self_cosine_distance(previous, weights[member])
                row[f"{name}_self_cosine_median"] = float(distance.median())
        self.previous_weights = current
        return rows

    def select(self, model: Classifier, members: list[int]) -> None:
        """Follow a population that kept only ``members`` (now ``model``)."""
        self.model = model if isinstance(model, InfomorphicNetwork) else None
        index = torch.tensor(members)
        self.previous_weights = {
            name: w.index_select(0, index.to(w.device)) for name, w in self.previous_weights.items()
        }

    @torch.no_grad()
    def pass_change(self, per_member: bool = False) -> dict[str, Any]:
        """How much the last lateral pass still moves each hidden layer: the mean absolute
        change of the firing probabilities from the pass before it, on the probe batch with
        training conditions (label context) and a fixed spike stream (appendix A.9); a list of
        one value per member with ``per_member``."""
        assert self.probe is not None and self.model is not None  # the callers' test
        x, onehot = self.probe
        members = self.model.members
        generator: Generators
        if members is None:
            generator = torch.Generator(device=x.device).manual_seed(0)
        else:
            generator = [torch.Generator(device=x.device).manual_seed(0) for _ in range(members)]
        states = self.model.run(x, onehot, generator)
        before = states.earlier[-1]
        changes: dict[str, Any] = {}
        for k, (last, prior) in enumerate(zip(states.hidden, before, strict=True)):
            change = (last.theta - prior.theta).abs()
            if per_member:
                assert members is not None  # per member: a population
                changes[f"hidden{k + 1}"] = [float(change[:, m].mean()) for m in range(members)]
            else:
                changes[f"hidden{k + 1}"] = float(change.mean())
        return changes

    def arrays(self) -> dict[str, np.ndarray]:
        """``<layer>_atoms`` (epochs, N, A+1), ``<layer>_self_cosine`` (epochs, N) and
        ``<layer>_labels`` (A+1,) of every recorded layer; empty before the first epoch."""
        if self.model is None or not self.atoms:
            return {}
        arrays = {f"{k}_atoms": np.stack(v) for k, v in self.atoms.items()}
        arrays.update({f"{k}_self_cosine": np.stack(v) for k, v in self.cosine.items()})
        for name, layer in zip(
            self.model.layer_names(), self.model.trainable_layers(), strict=True
        ):
            assert layer.goal is not None  # a trainable layer has one
            arrays[f"{name}_labels"] = np.array(layer.goal.labels)
        return arrays

    def state_dict(self) -> dict[str, Any]:
        """What a checkpoint needs beside ``arrays()``: epochs recorded and the last weights."""
        return {
            "atoms_epochs": {k: len(v) for k, v in self.atoms.items()},
            "cosine_epochs": {k: len(v) for k, v in self.cosine.items()},
            "previous_weights": self.previous_weights,
        }

    def load_state_dict(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        """Restore from a checkpoint's state and the saved ``arrays()``, which may hold later
        epochs of an interrupted run: only the checkpoint's own epochs are kept."""
        atoms, cosine = {}, {}
        for name, n in state["atoms_epochs"].items():
            kept = arrays[f"{name}_atoms"][:n]
            if len(kept) < n:
                raise ValueError(f"the atoms file holds {len(kept)} epochs of {name}, not {n}")
            atoms[name] = list(kept)
        for name, n in state["cosine_epochs"].items():
            cosine[name] = list(arrays[f"{name}_self_cosine"][:n])
        self.atoms, self.cosine = atoms, cosine
        self.previous_weights = state["previous_weights"]
