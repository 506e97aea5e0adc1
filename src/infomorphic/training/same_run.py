"""When two configurations are the same run: the one rule that resuming (``train``,
``resumed_config``), the grids of experiments (a folder that holds a run is reused only if it is
this run) and the search (a study's recorded setup) all apply.

Options are compared by what they build, not as written: a model's default goal and its name,
a goal file and its weights, one value and the same value given per layer, data set aliases.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from infomorphic.networks.spec import NetworkSpec
from infomorphic.training.config import OPTIONS, TrainConfig

__all__ = ["config_differences"]


def config_differences(
    saved: TrainConfig, wanted: TrainConfig, ignore: tuple[str, ...] = ("epochs",)
) -> list[str]:
    """The options (TrainConfig field names) in which ``wanted`` is another run than ``saved``.

    Values that resolve to the same thing are equal: no goal and the model's default goal
    (``optimized`` for setup 1), goal names, files and vectors with the same weights, no
    activation and the model's own, data set aliases.
    """
    a, b = _resolved_options(saved), _resolved_options(wanted)
    return [name for name in a if name not in ignore and a[name] != b.get(name)]


def _resolved_options(config: TrainConfig) -> dict[str, Any]:
    """The options as what they build: data set aliases and folders resolved, and every option
    that sets the network (``OPTIONS``' ``spec``) as the network's values, layer by layer (goals
    as their weights), so that a model's default and its name, or one value and the same value
    per layer, are one run."""
    from infomorphic.data.loading import dataset_key

    values = config.to_dict()
    values["dataset"] = dataset_key(config.dataset)
    if config.data_dir:
        values["data_dir"] = str(Path(config.data_dir).expanduser().resolve())
    try:
        spec = config.network(1, 2)
    except ValueError:  # not buildable: compared as given
        return values
    for entry in OPTIONS.values():
        if entry.spec:
            values[entry.field] = _spec_value(spec, entry.spec)
    return values


def _spec_value(spec: NetworkSpec, path: str) -> Any:
    """The value of a spec's field (``layers.bins``: one per layer, goals as weights)."""
    from infomorphic.nn.goals import Goal

    head, _, name = path.partition(".")
    if head == "layers":
        return tuple(
            Goal.resolve(layer.goal, tuple(layer.sources)).weights
            if name == "goal" and layer.goal is not None
            else getattr(layer, name)
            for layer in spec.layers
        )
    if head == "output":
        return getattr(spec.output, name)
    return getattr(spec, head)
