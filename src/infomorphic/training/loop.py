"""Training and evaluation of infomorphic networks (and the backprop baseline), with run folders.

A run folder holds everything needed to inspect or continue a run: ``config.json`` (resolved
configuration, goal vectors and the data actually read), ``history.csv`` (one row per epoch),
``atoms.npz`` (each neuron's mean atoms per epoch), ``checkpoint.pt`` (for ``resume``) and, at
the end, ``summary.json``. Every file is written atomically. ``history.csv`` is rewritten after
every epoch; ``atoms.npz`` and ``checkpoint.pt`` (tens of MB for large layers) after the first
epoch, whenever ``checkpoint_interval_s`` seconds have passed since the last save, and after the
last epoch, so an interrupted run loses at most that long of training.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from infomorphic.data import Splits, iterate_batches, load_dataset, prepare_splits
from infomorphic.networks import MODELS, InfomorphicNetwork, build_model
from infomorphic.nn.functional import self_cosine_distance

# SPEC.md section 4 (paper Table 1).
HIDDEN_OPTIM = {"lr": 0.002, "weight_decay": 0.00035}
OUTPUT_OPTIM = {"lr": 0.003, "weight_decay": 0.00015}
BACKPROP_OPTIM = {"lr": 0.001, "weight_decay": 0.0}
CHECKPOINT_INTERVAL_S = 30.0  # least time between checkpoint saves (tens of MB at large N)
COMPILE_BACKEND = "inductor"  # torch.compile backend of TrainConfig.compile (tests use aot_eager)


@dataclass
class TrainConfig:
    """What a training run does; saved as the run's ``config.json``."""

    dataset: str = "mnist-sample"
    data_dir: str | None = None
    model: str = "setup1"
    hidden: list[int] = field(default_factory=lambda: [100])
    goal: str | list[float] | dict | None = None  # None: the model's own default
    activation: str | None = None
    epochs: int = 100
    seed: int = 0
    device: str = "cpu"
    batch_size: int = 1024
    val_fraction: float = 0.2
    eval_batch_size: int = 4096
    # One fused graph per batch size for the infomorphic step (fixed-shape estimator, spikes from
    # the global RNG); CUDA graphs on a GPU. Slower on the CPU: see benchmarks/README.md.
    compile: bool = False

    def validate(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f"unknown model {self.model!r}; choose from {', '.join(MODELS)}")
        if self.epochs < 0:
            raise ValueError(f"epochs must be >= 0, got {self.epochs}")
        if self.batch_size < 2:
            raise ValueError(f"batch_size must be >= 2, got {self.batch_size}")
        if not self.hidden or any(int(h) < 1 for h in self.hidden):
            raise ValueError(f"hidden layer sizes must be positive integers, got {self.hidden}")
        if self.device.startswith("cuda") and not torch.cuda.is_available():
            raise ValueError("--device cuda was asked for but no CUDA device is available")
        if self.compile and self.model == "backprop":
            raise ValueError("--compile applies to infomorphic models; backprop runs eagerly")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write a file so that readers see the old or the new content, never a partial one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def _save_torch(path: Path, obj) -> None:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def _save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # uncompressed: random-looking floats barely compress, slowly
    atomic_write_bytes(path, buffer.getvalue())


@torch.no_grad()
def output_scores(
    model: nn.Module, x: torch.Tensor, batch_size: int, generator: torch.Generator | None
) -> torch.Tensor:
    """Evaluation-mode outputs in batches: theta (infomorphic) or logits (backprop)."""
    parts = []
    for start in range(0, len(x), batch_size):
        xb = x[start : start + batch_size]
        if isinstance(model, InfomorphicNetwork):
            parts.append(model.output_probabilities(xb, generator))
        else:
            parts.append(model(xb))
    return torch.cat(parts)


def accuracy(scores: torch.Tensor, labels: torch.Tensor) -> float:
    return float((scores.argmax(dim=1) == labels).float().mean()) if len(labels) else float("nan")


def evaluate(model: nn.Module, splits: Splits, batch_size: int, seed: int) -> dict[str, float]:
    """Train/val/test accuracy; an infomorphic model first fixes its output polarity on the
    training data (context zero, as at test time)."""
    device = next(model.buffers(), next(model.parameters())).device
    generator = torch.Generator(device=device).manual_seed(seed)
    results = {}
    train_scores = output_scores(model, splits.x_train, batch_size, generator)
    if isinstance(model, InfomorphicNetwork):
        model.fit_polarity(train_scores, splits.y_train)
        train_scores = model.scores(train_scores)
    results["train_accuracy"] = accuracy(train_scores, splits.y_train)
    for name in ("val", "test"):
        x, y = getattr(splits, f"x_{name}"), getattr(splits, f"y_{name}")
        scores = output_scores(model, x, batch_size, generator)
        if isinstance(model, InfomorphicNetwork):
            scores = model.scores(scores)
        results[f"{name}_accuracy"] = accuracy(scores, y)
    return results


def _global_rng_state(device: torch.device) -> dict[str, torch.Tensor]:
    """torch's global RNG state (compiled steps sample their spikes from it)."""
    state = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def _set_global_rng_state(state: dict[str, torch.Tensor], device: torch.device) -> None:
    torch.set_rng_state(state["cpu"].cpu())
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"].cpu(), device)


def layer_names(model: InfomorphicNetwork) -> list[str]:
    names = [f"hidden{k + 1}" for k, layer in enumerate(model.hidden) if layer.goal is not None]
    return [*names, "output"]


class Trainer:
    """Runs epochs of local learning (or backprop) and keeps the run folder up to date."""

    def __init__(
        self,
        config: TrainConfig,
        out_dir: str | Path,
        splits: Splits | None = None,
        progress: bool = True,
        checkpoint_interval_s: float = CHECKPOINT_INTERVAL_S,
    ) -> None:
        config.validate()
        if not checkpoint_interval_s >= 0:
            raise ValueError(f"checkpoint_interval_s must be >= 0, got {checkpoint_interval_s}")
        self.checkpoint_interval_s = checkpoint_interval_s
        self.saved_epoch: int | None = None
        self.config = config
        self.out_dir = Path(out_dir)
        self.progress = progress
        self.device = torch.device(config.device)
        if splits is None:
            raw = load_dataset(config.dataset, data_dir=config.data_dir)
            splits = prepare_splits(raw, config.val_fraction, config.seed)
        self.splits = splits.to(self.device) if hasattr(splits, "to") else splits
        torch.manual_seed(config.seed)
        init = torch.Generator().manual_seed(config.seed)
        self.model = build_model(
            config.model,
            splits.n_features,
            splits.n_classes,
            config.hidden,
            config.goal,
            config.activation,
            generator=init,
        ).to(self.device)
        self.infomorphic = isinstance(self.model, InfomorphicNetwork)
        self.optimizers = self._optimizers()
        self.batch_generator = torch.Generator().manual_seed(config.seed + 1)
        self.sample_generator = torch.Generator(device=self.device).manual_seed(config.seed + 2)
        self.goal_loss = self._goal_loss_function()
        self.epoch = 0
        self.history: list[dict[str, float]] = []
        self.neuron_atoms: dict[str, list[np.ndarray]] = {}
        self.cosine: dict[str, list[np.ndarray]] = {}
        self.previous_weights = self._feedforward_weights()
        self.seconds = 0.0

    # -- set-up -----------------------------------------------------------------------------
    def _optimizers(self) -> list[torch.optim.Optimizer]:
        if not self.infomorphic:
            return [torch.optim.Adam(self.model.parameters(), **BACKPROP_OPTIM)]
        model: InfomorphicNetwork = self.model
        fused = True if self.device.type == "cuda" else None  # one kernel per step on a GPU
        optimizers = []
        for layer in model.trainable_layers():
            settings = OUTPUT_OPTIM if layer is model.output else HIDDEN_OPTIM
            params = [p for p in layer.parameters() if p.requires_grad]
            optimizers.append(torch.optim.Adam(params, **settings, fused=fused))
        return optimizers

    def _goal_loss_function(self) -> Callable | None:
        """(x, onehot) -> (loss, decompositions) of one batch: eager, or compiled into one graph
        per batch size (its spikes then come from torch's global RNG, seeded and checkpointed)."""
        if not self.infomorphic:
            return None
        model: InfomorphicNetwork = self.model
        if not self.config.compile:
            return lambda x, onehot: model.goal_loss(x, onehot, self.sample_generator)
        cuda = self.device.type == "cuda"
        compiled = torch.compile(
            model.goal_loss,
            fullgraph=True,
            dynamic=False,
            backend=COMPILE_BACKEND,
            mode="reduce-overhead" if cuda and COMPILE_BACKEND == "inductor" else None,
        )

        def run(x: torch.Tensor, onehot: torch.Tensor):
            if cuda:  # the previous step's graph outputs may be overwritten from here on
                torch.compiler.cudagraph_mark_step_begin()
            return compiled(x, onehot, None, True)

        return run

    def _feedforward_weights(self) -> dict[str, torch.Tensor]:
        if not self.infomorphic:
            return {}
        return {
            f"hidden{k + 1}": layer.feedforward.weight.detach().clone()
            for k, layer in enumerate(self.model.hidden)
        }

    def resolved_config(self) -> dict:
        cfg = asdict(self.config)
        cfg["data_source"] = self.splits.source
        cfg["n_train"], cfg["n_val"], cfg["n_test"] = (
            len(self.splits.y_train),
            len(self.splits.y_val),
            len(self.splits.y_test),
        )
        cfg["standardisation"] = {"mean": float(self.splits.mean), "std": float(self.splits.std)}
        if self.infomorphic:
            model: InfomorphicNetwork = self.model
            cfg["network"] = model.config.to_dict()
            cfg["goals"] = {
                name: layer.goal.as_dict()
                for name, layer in zip(layer_names(model), model.trainable_layers(), strict=True)
            }
            cfg["optimizers"] = {"hidden": HIDDEN_OPTIM, "output": OUTPUT_OPTIM}
        else:
            cfg["optimizers"] = {"backprop": BACKPROP_OPTIM}
        return cfg

    # -- one epoch --------------------------------------------------------------------------
    def _train_epoch(self) -> dict[str, np.ndarray]:
        """One pass over the training data; returns per-layer mean decompositions (N, A+1)."""
        self.model.train()
        sums: dict[str, torch.Tensor] = {}
        batches = 0
        for xb, yb in iterate_batches(
            self.splits.x_train, self.splits.y_train, self.config.batch_size,
            shuffle=True, generator=self.batch_generator,
        ):  # fmt: skip
            if len(yb) < 2:
                continue
            for opt in self.optimizers:
                opt.zero_grad(set_to_none=True)
            if self.infomorphic:
                onehot = nn.functional.one_hot(yb, self.splits.n_classes).to(xb.dtype)
                loss, decompositions = self.goal_loss(xb, onehot)
                for name, d in zip(layer_names(self.model), decompositions, strict=True):
                    sums[name] = sums[name] + d if name in sums else d.clone()
            else:
                loss = nn.functional.cross_entropy(self.model(xb), yb)
            loss.backward()
            for opt in self.optimizers:
                opt.step()
            batches += 1
        return {name: (s / max(batches, 1)).cpu().numpy() for name, s in sums.items()}

    def _record(self, means: dict[str, np.ndarray], metrics: dict[str, float]) -> None:
        row: dict[str, float] = {"epoch": self.epoch, **metrics, "seconds": self.seconds}
        if self.infomorphic and means:  # no means: zero epochs, the untrained model
            model: InfomorphicNetwork = self.model
            for name, layer in zip(layer_names(model), model.trainable_layers(), strict=True):
                decomposition = means[name]
                self.neuron_atoms.setdefault(name, []).append(decomposition.astype(np.float32))
                layer_mean = decomposition.mean(0)
                row[f"{name}_goal"] = float(layer_mean @ np.array(layer.goal.weights))
                for label, value in zip(layer.goal.labels, layer_mean, strict=True):
                    row[f"{name}_{label}"] = float(value)
            current = self._feedforward_weights()
            for name, weights in current.items():
                distance = self_cosine_distance(self.previous_weights[name], weights)
                self.cosine.setdefault(name, []).append(distance.cpu().numpy())
                row[f"{name}_self_cosine_median"] = float(distance.median())
            self.previous_weights = current
        self.history.append(row)

    # -- persistence ------------------------------------------------------------------------
    def _write_outputs(self, checkpoint: bool = True) -> None:
        """history.csv, and with ``checkpoint`` atoms.npz and checkpoint.pt (config.json does
        not change during a run: ``fit`` writes it once)."""
        if self.history:
            columns = list(self.history[0])
            for row in self.history[1:]:
                columns += [c for c in row if c not in columns]
            text = io.StringIO()
            writer = csv.DictWriter(text, fieldnames=columns)
            writer.writeheader()
            writer.writerows(self.history)
            atomic_write_text(self.out_dir / "history.csv", text.getvalue())
        if not checkpoint:
            return
        self.saved_epoch = self.epoch
        if self.neuron_atoms:
            arrays = {f"{k}_atoms": np.stack(v) for k, v in self.neuron_atoms.items()}
            arrays.update({f"{k}_self_cosine": np.stack(v) for k, v in self.cosine.items()})
            model: InfomorphicNetwork = self.model
            for name, layer in zip(layer_names(model), model.trainable_layers(), strict=True):
                arrays[f"{name}_labels"] = np.array(layer.goal.labels)
            _save_npz(self.out_dir / "atoms.npz", arrays)
        _save_torch(
            self.out_dir / "checkpoint.pt",
            {
                "config": asdict(self.config),
                "epoch": self.epoch,
                "seconds": self.seconds,
                "model": self.model.state_dict(),
                "optimizers": [opt.state_dict() for opt in self.optimizers],
                "batch_generator": self.batch_generator.get_state(),
                "sample_generator": self.sample_generator.get_state(),
                "global_rng": _global_rng_state(self.device),
                "history": self.history,
                # the per-epoch atoms live in atoms.npz (written just before), not twice
                "atoms_epochs": {k: len(v) for k, v in self.neuron_atoms.items()},
                "cosine_epochs": {k: len(v) for k, v in self.cosine.items()},
                "previous_weights": self.previous_weights,
            },
        )

    def load_checkpoint(self) -> None:
        """Continue from ``checkpoint.pt`` in the run folder (same configuration required)."""
        path = self.out_dir / "checkpoint.pt"
        if not path.is_file():
            raise FileNotFoundError(f"no checkpoint to resume from at {path}")
        state = torch.load(path, map_location=self.device, weights_only=False)
        saved = dict(state["config"])
        mine = asdict(self.config)
        for key, default in asdict(TrainConfig()).items():  # runs saved before a field existed
            saved.setdefault(key, default)
        differing = [k for k in mine if k != "epochs" and saved[k] != mine[k]]
        if differing:
            details = ", ".join(f"{k}: run {saved[k]!r} vs now {mine[k]!r}" for k in differing)
            raise ValueError(f"cannot resume: the configuration differs ({details})")
        self.model.load_state_dict(state["model"])
        for opt, opt_state in zip(self.optimizers, state["optimizers"], strict=True):
            opt.load_state_dict(opt_state)
        self.batch_generator.set_state(state["batch_generator"])
        self.sample_generator.set_state(state["sample_generator"])
        if "global_rng" in state:
            _set_global_rng_state(state["global_rng"], self.device)
        self.epoch = self.saved_epoch = state["epoch"]
        self.seconds = state["seconds"]
        self.history = state["history"]
        if "neuron_atoms" in state:  # checkpoints written before the atoms moved out
            self.neuron_atoms, self.cosine = state["neuron_atoms"], state["cosine"]
        else:
            self.neuron_atoms, self.cosine = self._load_atoms(
                state["atoms_epochs"], state["cosine_epochs"]
            )
        self.previous_weights = state["previous_weights"]

    def _load_atoms(
        self, atoms_epochs: dict[str, int], cosine_epochs: dict[str, int]
    ) -> tuple[dict[str, list[np.ndarray]], dict[str, list[np.ndarray]]]:
        """The checkpoint's epochs of atoms.npz (which may hold later ones of an interrupted
        run: it is written first)."""
        if not atoms_epochs:
            return {}, {}
        path = self.out_dir / "atoms.npz"
        if not path.is_file():
            raise FileNotFoundError(f"cannot resume: {path} is missing; the checkpoint needs it")
        with np.load(path) as arrays:
            atoms = {k: list(arrays[f"{k}_atoms"][:n]) for k, n in atoms_epochs.items()}
            cosine = {k: list(arrays[f"{k}_self_cosine"][:n]) for k, n in cosine_epochs.items()}
        short = [k for k, n in atoms_epochs.items() if len(atoms[k]) < n]
        if short:
            raise ValueError(f"cannot resume: {path} holds fewer epochs than the checkpoint")
        return atoms, cosine

    # -- the loop ---------------------------------------------------------------------------
    def summary(self) -> dict:
        last = self.history[-1] if self.history else {}
        return {
            "test_accuracy": last.get("test_accuracy"),
            "val_accuracy": last.get("val_accuracy"),
            "train_accuracy": last.get("train_accuracy"),
            "epochs": self.epoch,
            "seconds": self.seconds,
            "dataset": self.config.dataset,
            "data_source": self.splits.source,
            "model": self.config.model,
            "hidden": list(self.config.hidden),
            "goal": self._goal_name(),
            "activation": self.config.activation,
            "seed": self.config.seed,
            "device": self.config.device,
        }

    def _goal_name(self) -> str | list[float] | dict | None:
        if self.config.goal is not None or not self.infomorphic:
            return self.config.goal
        goals = [layer.goal.name for layer in self.model.hidden if layer.goal is not None]
        return goals[0] if goals else None

    def _check_finite(self, means: dict[str, np.ndarray]) -> None:
        """Stop before a diverged epoch is saved: the checkpoint keeps the last good one."""
        broken = [name for name, m in means.items() if not np.isfinite(m).all()]
        weights_ok = all(torch.isfinite(p).all() for p in self.model.parameters())
        if broken or not weights_ok:
            where = ", ".join(broken) if broken else "the weights"
            kept = (
                f"{self.out_dir} keeps the checkpoint of epoch {self.saved_epoch} (--resume "
                "continues from there)"
                if self.saved_epoch is not None
                else "no checkpoint was saved yet"
            )
            raise FloatingPointError(
                f"training diverged in epoch {self.epoch + 1}: non-finite values in {where}. "
                f"{kept}; try another seed, a smaller learning rate or a different goal"
            )

    def fit(self) -> dict:
        total = self.config.epochs
        bar = None
        if self.progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=total, initial=self.epoch, unit="epoch", desc=self.config.model)
        atomic_write_text(  # also creates the run folder
            self.out_dir / "config.json", json.dumps(self.resolved_config(), indent=2)
        )
        if self.history:
            # Resumed: history.csv may still hold an interrupted run's epochs after the
            # checkpoint; they are trained again below, so it restarts from the checkpoint's.
            self._write_outputs(checkpoint=False)
        last_save = time.monotonic()
        while self.epoch < total:
            start = time.perf_counter()
            means = self._train_epoch()
            self._check_finite(means)
            self.epoch += 1
            metrics = evaluate(
                self.model, self.splits, self.config.eval_batch_size,
                seed=self.config.seed * 100_003 + self.epoch,
            )  # fmt: skip
            self.seconds += time.perf_counter() - start
            self._record(means, metrics)
            due = (
                self.epoch == total
                or self.saved_epoch is None
                or time.monotonic() - last_save >= self.checkpoint_interval_s
            )
            self._write_outputs(checkpoint=due)
            if due:
                last_save = time.monotonic()
            if bar is not None:
                bar.update(1)
                bar.set_postfix(
                    train=f"{metrics['train_accuracy']:.3f}",
                    val=f"{metrics['val_accuracy']:.3f}",
                    test=f"{metrics['test_accuracy']:.3f}",
                )
        if bar is not None:
            bar.close()
        if not self.history:  # zero epochs: still evaluate the untrained model
            self._record({}, evaluate(self.model, self.splits, self.config.eval_batch_size, 0))
            self._write_outputs()
        summary = self.summary()
        atomic_write_text(self.out_dir / "summary.json", json.dumps(summary, indent=2))
        return summary


def train(
    config: TrainConfig,
    out_dir: str | Path,
    resume: bool = False,
    splits: Splits | None = None,
    progress: bool = True,
    checkpoint_interval_s: float = CHECKPOINT_INTERVAL_S,
) -> dict:
    """Train one model and return its summary (also written to ``out_dir/summary.json``).

    ``checkpoint_interval_s``: least time between two saves of the checkpoint and atoms (0:
    after every epoch); the history is written after every epoch regardless, and the last
    epoch is always saved.
    """
    trainer = Trainer(
        config, out_dir, splits=splits, progress=progress,
        checkpoint_interval_s=checkpoint_interval_s,
    )  # fmt: skip
    if resume:
        trainer.load_checkpoint()
    return trainer.fit()


__all__ = [
    "BACKPROP_OPTIM",
    "CHECKPOINT_INTERVAL_S",
    "HIDDEN_OPTIM",
    "OUTPUT_OPTIM",
    "TrainConfig",
    "Trainer",
    "accuracy",
    "atomic_write_bytes",
    "evaluate",
    "train",
]
