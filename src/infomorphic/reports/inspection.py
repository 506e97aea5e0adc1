"""A run folder as one self-contained HTML page with its figures beside it (``index.html``).

The page shows what the folder holds: the accuracy per epoch (history.csv), each trainable
layer's atoms over training with the spread across neurons and per neuron at the last epoch
(atoms.npz), the receptive fields and class selectivity of the hidden neurons (the trained
model of checkpoint.pt on the validation split), the self-cosine distance of the hidden weights
(paper eq. 4), the goal in words (``explain``) and the configuration; for anything the run does
not have (a backprop run has no atoms) it says so instead. The page needs no server and no
network: inline CSS, figures by relative links, and one inline script that counts the figures
the browser could load. Everything is read through ``RunFolder``'s readers.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from infomorphic.files import atomic_write_bytes, atomic_write_text
from infomorphic.nn.goal_files import is_goal_file, read_goal_file
from infomorphic.nn.goals import RESIDUAL
from infomorphic.reports import inspection_figures as fig
from infomorphic.reports.inspection_html import Section, render, table
from infomorphic.training.run_folder import RunFolder

__all__ = [
    "FORMATS",
    "PAGE",
    "default_sort_atom",
    "inspect_run",
    "selectivity_index",
]

FORMATS = ("html", "png")
PAGE = "index.html"
FIGURE_GLOBS = (
    "accuracy.png",
    "atoms_*.png",
    "heatmap_*.png",
    "receptive_fields.png",
    "selectivity_*.png",
    "self_cosine.png",
)
MAX_FIELDS = 100  # receptive fields shown: all up to this many, else the top and bottom halves
SPLITS = ("train", "val", "test")


def default_sort_atom(weights: Mapping[str, float]) -> str:
    """The atom (not H_res) with the largest positive weight, else the largest absolute one."""
    atoms = {k: v for k, v in weights.items() if k != RESIDUAL}
    positive = [k for k, v in atoms.items() if v > 0]
    if positive:
        return max(positive, key=lambda k: atoms[k])
    return max(atoms, key=lambda k: abs(atoms[k]))


def selectivity_index(rates: np.ndarray) -> np.ndarray:
    """rates (C, N) of non-negative mean firing: per neuron (max - m) / (max + m), m the mean
    over the other classes; 0 for a neuron silent for every class."""
    top = rates.max(axis=0)
    others = (rates.sum(axis=0) - top) / max(rates.shape[0] - 1, 1)
    total = top + others
    return np.where(total > 0, (top - others) / np.where(total > 0, total, 1.0), 0.0)


def _hidden_activity(model: Any, x: Any, batch: int, generator: Any) -> list[np.ndarray]:
    """Each hidden layer's mean firing (n, N) in evaluation (no context): the firing
    probability theta of infomorphic layers and of sigmoid (MLP) layers; for a network whose
    hidden layer only passes spikes on (the backprop baseline), the spikes' share of +1."""
    import torch

    hidden = getattr(model, "hidden", None)
    body = getattr(model, "body", None)
    captured: list[torch.Tensor] = []
    handle = None
    if hidden is None and body is None:  # spikes +-1 into the output layer: (s + 1) / 2
        handle = model.output.register_forward_pre_hook(
            lambda _module, inputs: captured.append((inputs[0] + 1) / 2)
        )
    parts: list[list[np.ndarray]] = []
    try:
        with torch.no_grad():
            for start in range(0, len(x), batch):
                xb = x[start : start + batch]
                if hidden is not None:
                    layers = [s.theta for s in model.run(xb, None, generator).hidden]
                elif body is not None:
                    layers, h = [], xb
                    for module in body:
                        h = module(h)
                        if isinstance(module, torch.nn.Sigmoid):
                            layers.append(h)
                else:
                    captured.clear()
                    model.outputs(xb, generator)
                    layers = captured[-1:]
                parts.append([t.float().cpu().numpy() for t in layers])
    finally:
        if handle is not None:
            handle.remove()
    return [np.concatenate(p) for p in zip(*parts, strict=True)]


def _first_weights(model: Any) -> np.ndarray:
    """The feedforward weights (N, n_inputs) of the first hidden layer (of the output layer for
    a network without one)."""
    hidden = getattr(model, "hidden", None)
    if hidden:
        layer = hidden[0].feedforward
    elif hidden is not None:
        layer = model.output.feedforward
    elif getattr(model, "body", None) is not None:
        layer = model.body[0]
    else:
        layer = model.feedforward
    return layer.weight.detach().float().cpu().numpy()


def _goal_name(goal: Any, layer: str) -> str:
    """The name a layer's goal shows: its name, ``FILE.hidden2`` for a layer of a goal file of
    one goal per layer, else ``custom``."""
    if not isinstance(goal, str):
        return "custom"
    if is_goal_file(goal) and read_goal_file(goal).per_layer:
        return f"{Path(goal).stem}.{layer}"
    return goal


class _Inspector:
    def __init__(self, folder: RunFolder, sort_by: str | None) -> None:
        self.folder = folder
        self.config = folder.config()
        self.history = folder.history() if folder.file(RunFolder.HISTORY).is_file() else []
        self.summary = folder.summary() if folder.is_finished else None
        self.atoms = folder.atoms()
        self.goals: dict[str, dict[str, float]] = self.config.get("goals") or {}
        self.images: dict[str, bytes] = {}
        self.sections: list[Section] = []
        self.sort_label = self._sort_label(sort_by)

    def _sort_label(self, sort_by: str | None) -> str | None:
        if "hidden1_labels" not in self.atoms:
            return None
        labels = [str(x) for x in self.atoms["hidden1_labels"]]
        if sort_by is not None:
            wanted = "".join(sort_by.split())
            if wanted not in labels:
                raise ValueError(
                    f"--sort-by: hidden1 has no atom {sort_by!r}; its terms are {', '.join(labels)}"
                )
            return wanted
        weights = self.goals.get("hidden1") or dict.fromkeys(labels, 0.0)
        return default_sort_atom(weights)

    def _order(self, layer: str) -> tuple[np.ndarray | None, str]:
        """Neurons of ``layer`` sorted by the sort atom at the last epoch, highest first."""
        key = f"{layer}_atoms"
        labels = [str(x) for x in self.atoms.get(f"{layer}_labels", [])]
        if key not in self.atoms or self.sort_label not in labels:
            return None, "neuron index"
        values = self.atoms[key][-1][:, labels.index(self.sort_label)]
        return np.argsort(-values, kind="stable"), self.sort_label

    def add(
        self, title: str, *text: str, figure: tuple[str, bytes] | None = None, markup: str = ""
    ) -> None:
        name = None
        if figure is not None:
            name, self.images[figure[0]] = figure[0], figure[1]
        self.sections.append(Section(title, list(text), markup, name))

    # -- sections ---------------------------------------------------------------------------
    def accuracy(self) -> None:
        rows = [r for r in self.history if r.get("epoch", 0) > 0] or self.history
        curves = {
            s: [r[f"{s}_accuracy"] for r in rows]
            for s in SPLITS
            if rows and all(f"{s}_accuracy" in r for r in rows)
        }
        finals = {
            s: self.summary[f"{s}_accuracy"]
            for s in SPLITS
            if s not in curves and self.summary and self.summary.get(f"{s}_accuracy") is not None
        }
        if not curves and not finals:
            self.add(
                "Accuracy",
                "No accuracy was recorded yet: history.csv has no accuracy "
                "columns and there is no summary.json.",
            )
            return
        notes = (
            [f"Measured once, after the last epoch only: {', '.join(finals)}."] if finals else []
        )
        png = fig.accuracy_figure([int(r["epoch"]) for r in rows], curves, finals)
        self.add("Accuracy", *notes, figure=("accuracy.png", png))

    def default_goal(self) -> Any:
        """The first hidden layer's goal as the network has it (None for none)."""
        layers = self.folder.network().layers
        return layers[0].goal if layers else None

    def goal(self) -> None:
        from infomorphic.reports.explain import DEFAULT_SOURCES, explain_weights

        if not self.goals:
            self.add(
                "Goal", f"Model {self.config.get('model')} has no infomorphic layers: no goal."
            )
            return
        network = self.folder.network()
        parts = []
        for layer, weights in self.goals.items():
            if layer == "output":
                names, name = DEFAULT_SOURCES[2], "output"
            else:
                spec = network.layer(layer)
                given = self.config.get("goal")
                given = given.get(layer) if isinstance(given, dict) else given
                goal = given if isinstance(given, str) else spec.goal
                names, name = tuple(spec.sources), _goal_name(goal, layer)
            ex = explain_weights(weights, names, name=name)
            rows = [(r.index, r.label, f"{r.weight:+.3f}", r.effect, r.meaning) for r in ex.rows]
            parts.append(
                f"<h3>{html.escape(layer)}: {html.escape(name)}</h3>"
                f"<p>{html.escape(ex.summary)}</p>"
                f"<details><summary>All {len(rows)} weights in words</summary>"
                f"{table(rows, ('#', 'atom', 'weight', 'effect', 'meaning'), 'goal')}"
                "</details>"
            )
        self.add(
            "Goal",
            "Each layer's goal as infomorphic explain prints it: a positive weight "
            "pushes the neuron to encode the atom, a negative one to keep it out.",
            markup="".join(parts),
        )

    def atom_sections(self) -> None:
        layers = [k[: -len("_atoms")] for k in self.atoms if k.endswith("_atoms")]
        if not layers:
            why = (
                "it was trained by backpropagation: its neurons have no goal and no atoms"
                if not self.goals
                else "atoms.npz is missing or empty"
            )
            self.add("Atoms over training", f"This run records no atoms: {why}.")
            self.add("Atoms per neuron", "No atoms to show.")
            return
        for layer in layers:
            atoms = self.atoms[f"{layer}_atoms"]
            labels = [str(x) for x in self.atoms[f"{layer}_labels"]]
            goal = self.goals.get(layer)
            weights = [goal[label] for label in labels] if goal else None
            png = fig.atoms_figure(layer, atoms, labels, weights)
            self.add(
                f"Atoms over training: {layer}",
                f"{atoms.shape[1]} neurons, "
                f"{atoms.shape[0]} epochs; each neuron's atoms averaged over the epoch's "
                "batches.",
                figure=(f"atoms_{layer}.png", png),
            )
        for layer in layers:
            last = self.atoms[f"{layer}_atoms"][-1]
            labels = [str(x) for x in self.atoms[f"{layer}_labels"]]
            order, by = self._order(layer) if layer != "output" else (None, "")
            rows = last if order is None else last[order]
            ylabel = (
                "neuron (= class)"
                if layer == "output"
                else "neuron"
                if order is None
                else f"neuron, sorted by {by} (highest on top)"
            )
            png = fig.heatmap_figure(layer, rows, labels, ylabel)
            self.add(
                f"Atoms per neuron at the last epoch: {layer}",
                "Each column is "
                "divided by its largest absolute value, written under it in bits, so that "
                "small atoms show their pattern across neurons too.",
                figure=(f"heatmap_{layer}.png", png),
            )

    def model_sections(self) -> None:
        from infomorphic.training.inference import load_model

        try:
            model = load_model(self.folder)
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            for title in ("Receptive fields", "Class selectivity"):
                self.add(title, f"Needs the trained model, which did not load: {exc}")
            return
        self.receptive_fields(_first_weights(model))
        self.selectivity(model)

    def receptive_fields(self, weights: np.ndarray) -> None:
        order, by = self._order("hidden1")
        order = np.arange(len(weights)) if order is None else order
        note = []
        if len(order) > MAX_FIELDS:
            half = MAX_FIELDS // 2
            note = [f"{len(order)} neurons: the {half} highest and the {half} lowest by {by}."]
            order = np.concatenate([order[:half], order[-half:]])
        values = None
        if by != "neuron index":
            labels = [str(x) for x in self.atoms["hidden1_labels"]]
            values = self.atoms["hidden1_atoms"][-1][:, labels.index(by)]
        captions = [
            f"#{i}" + ("" if values is None else f" {round(values[i], 3) + 0.0:.3f}") for i in order
        ]
        shape = "x".join(map(str, fig.image_shape(weights.shape[1])))
        title = f"Feedforward weights of hidden layer 1, sorted by {by}" + (
            " (highest first)" if values is not None else ""
        )
        png = fig.receptive_fields_figure(weights, list(order), captions, title)
        caption = (
            "the neuron" if values is None else f"the neuron and its {by} at the last epoch (bits)"
        )
        self.add(
            "Receptive fields",
            f"Each neuron's {weights.shape[1]} feedforward weights as a "
            f"{shape} image, on its own scale (red positive, blue negative); the caption is "
            f"{caption}.",
            *note,
            figure=("receptive_fields.png", png),
        )

    def selectivity(self, model: Any) -> None:
        import torch

        from infomorphic.training.evaluation import eval_generator
        from infomorphic.training.loop import load_splits

        try:
            splits = load_splits(self.folder.train_config())
        except (ImportError, OSError, ValueError, RuntimeError) as exc:
            self.add("Class selectivity", f"The data did not load: {exc}")
            return
        split = "val" if len(splits.y_val) else "test"
        x, y = getattr(splits, f"x_{split}"), getattr(splits, f"y_{split}").numpy()
        epoch = int(self.summary["epochs"]) if self.summary else 0
        generator = eval_generator(int(self.config.get("seed", 0)), epoch, split, x.device)
        with torch.random.fork_rng(devices=[]):
            activity = _hidden_activity(
                model, x, int(self.config.get("eval_batch_size", 4096)), generator
            )
        spikes = getattr(model, "hidden", None) is None and getattr(model, "body", None) is None
        what, short = (
            ("firing, the share of +1 spikes,", "share of +1 spikes")
            if spikes
            else ("firing probability (theta)", "mean theta")
        )
        for k, act in enumerate(activity, 1):
            rates = np.stack(
                [
                    act[y == c].mean(axis=0) if (y == c).any() else np.zeros(act.shape[1])
                    for c in range(splits.n_classes)
                ]
            )
            index = selectivity_index(rates)
            png = fig.selectivity_figure(f"hidden{k}", rates, index, split, short)
            self.add(
                f"Class selectivity: hidden{k}",
                f"Mean {what} of each "
                f"neuron per class on the {split} split ({len(y)} examples, no context), "
                "and the selectivity index (max - mean of the other classes) / (max + mean "
                f"of the other classes): median {np.median(index):.2f}.",
                figure=(f"selectivity_hidden{k}.png", png),
            )

    def self_cosine(self) -> None:
        found = {
            k[: -len("_self_cosine")]: v
            for k, v in self.atoms.items()
            if k.endswith("_self_cosine")
        }
        if not found:
            self.add(
                "Self-cosine distance",
                "Not recorded: this run has no hidden layers trained by a goal (or no atoms.npz).",
            )
            return
        self.add(
            "Self-cosine distance",
            "1 - cos of each hidden neuron's feedforward weights "
            "between one epoch and the one before (the first: against the initial "
            "weights), paper eq. 4 and appendix Fig. 5.",
            figure=("self_cosine.png", fig.self_cosine_figure(found)),
        )

    def configuration(self) -> None:
        rows = [
            (k, v if isinstance(v, str) else json.dumps(v))
            for k, v in self.config.items()
            if k != "goals"
        ]
        self.add(
            "Configuration",
            "config.json of the run (the goals are shown above).",
            markup=table(rows, ("option", "value"), "config"),
        )

    def run(self) -> None:
        self.accuracy()
        self.goal()
        self.atom_sections()
        self.model_sections()
        self.self_cosine()
        self.configuration()


def inspect_run(
    run_dir: str | Path,
    out: str | Path | None = None,
    fmt: str = "html",
    sort_by: str | None = None,
) -> list[Path]:
    """Write the figures (and with ``fmt="html"`` the page, ``index.html``) into ``out``
    (default ``RUN_DIR/inspect``); figures of an earlier inspection that were not drawn again
    are removed. Returns the paths written, the page first."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    folder = RunFolder(run_dir)
    inspector = _Inspector(folder, sort_by)
    inspector.run()
    target = Path(out) if out is not None else folder.path / "inspect"
    target.mkdir(parents=True, exist_ok=True)
    for pattern in FIGURE_GLOBS:
        for stale in target.glob(pattern):
            if stale.name not in inspector.images:
                stale.unlink()
    written = []
    if fmt == "html":
        atomic_write_text(
            target / PAGE,
            render(
                folder.path,
                inspector.config,
                inspector.summary,
                inspector.sections,
                inspector.default_goal(),
            ),
        )
        written.append(target / PAGE)
    for name, png in inspector.images.items():
        atomic_write_bytes(target / name, png)
        written.append(target / name)
    return written
