"""Goals: one weight per PID atom plus one for H_res, readable by atom label.

A goal vector follows ``lattice(n).labels`` order with H_res last, so the paper's 19-vector and
5-vector paste in unchanged: for three sources that is the atom order of the paper's Table 2
(appendix A.8) followed by H_res as in eq. (3); for two, {1}, {2}, {1}{2}, {12}, H_res, the
order of the authors' published configuration, in which the paper's Table 1 gives the output
layer's goal (docs/protocol.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from infomorphic.nn.goal_files import GoalText, parse_numbers, read_goal_file
from infomorphic.pid.lattice import lattice

RESIDUAL = "H_res"

# The exact values are from the authors' published configuration (docs/protocol.md): the paper
# shows the optimised goals only as figures (MNIST, TPE: Fig. 4.A; CIFAR-10, one CMA-ES run:
# Fig. 4.D, with the H_res weight at 0 like the CMA-ES runs of appendix A.6), and its Table 3
# rounds four of the MNIST weights ({F}{C} 0.98, {F}{L} -0.99, {F}{C}{L} 0.33, {FC}{FL} -0.97),
# which are entries 1, 2, 0 and 11 below.
_OPTIMIZED_MNIST = (
    0.3307283306516516,
    0.9780761799548087,
    -0.9935002057481923,
    0.40173303106031233,
    0.2427806207519021,
    0.6255375402143335,
    0.47128370476190684,
    0.02120506738070921,
    0.06053998481721795,
    -0.9469786302806626,
    -0.01985334149032275,
    -0.9676614963177035,
    -0.6924498112774857,
    0.42701490050101726,
    0.9736446648870112,
    0.7369645864450716,
    -0.12183291675207343,
    -0.21512478790202927,
    0.035001249394734923,
)
_OPTIMIZED_CIFAR = (
    0.9837820726191796,
    0.6048455749515627,
    -0.21334943315606067,
    0.24265712902806794,
    0.33962813939570347,
    -0.5790385828040313,
    0.04999679463591504,
    0.03361529158166076,
    0.5973862257913375,
    -0.07824457437830484,
    0.4762356584665217,
    -0.8475447215243984,
    -0.3991893069538312,
    0.5563392672403792,
    0.2714717752741452,
    -0.46227689740518685,
    -0.06276458120619889,
    -0.26289699781803655,
    0.0,
)
# The six goals of the paper's Fig. 6 (setup 1, N = 100: three TPE and three CMA-ES searches),
# one found for N = 1000, and the optimised goal reduced to its four critical weights (Table 3),
# from the authors' published configuration: conf/goals/infomorphic_context_lateral/
# opt_{1,2,3}_100_{tpe,cmaes}.yaml, opt_1_1000.yaml and opt_1_100_modified.yaml of
# https://github.com/Priesemann-Group/Infomorphic_Networks. ``tpe-1`` is the optimised MNIST goal
# above. The CMA-ES sweep fixed H_res at 0 (its optuna_sweep.yaml), and cmaes-1 has H_res 0, but
# the published cmaes-2 and cmaes-3 carry H_res 0.0350... and 0.0687..., the H_res of tpe-1 and
# tpe-2, and cmaes-3's {FL}{CL} equals tpe-2's: the files were probably edited by hand. The goals
# here are the published weights as they stand (docs/protocol.md).
_PUBLISHED_SEARCHES = {
    "tpe-2": (
        0.4063135506411676,
        0.59642166494369,
        -0.8235204285446064,
        0.9654765761019054,
        0.5364842713869633,
        0.5807958977979149,
        -0.3774872905728335,
        0.20916590739897695,
        -0.6977798433941902,
        0.694756257614332,
        -0.9706972360830098,
        -0.24991966366746965,
        -0.1526133221412383,
        -0.044334681899615896,
        0.05911586780462447,
        -0.9609138708592532,
        -0.7670746910676481,
        -0.34865750277047475,
        0.06870920081104473,
    ),
    "tpe-3": (
        0.004673879439999862,
        0.9309777589132915,
        -0.7651052254240589,
        0.6217247288394926,
        0.8812527440395411,
        -0.09925207692605181,
        0.40139583567089476,
        0.039309939935334215,
        0.45069424950903547,
        0.23407029839336696,
        -0.2552550407621431,
        0.07487422433634684,
        0.5513869857887319,
        0.7033284197785392,
        -0.13705318733144678,
        -0.3116118316643789,
        -0.06500373208414506,
        -0.4912864312816089,
        0.007691717436092205,
    ),
    "cmaes-1": (
        0.21015528909422065,
        0.986042844320863,
        -0.44867761323689065,
        0.4683457097422675,
        -0.6237555701283991,
        0.43270029582303726,
        0.8412668868268378,
        0.009733914135339042,
        -0.4120943286023191,
        -0.4813479632488419,
        -0.14115376106328242,
        -0.7057867218129715,
        -0.5328849254593179,
        0.14942040366049106,
        0.7098626364076295,
        0.3391552454909269,
        0.7866424327513093,
        0.05718732638281174,
        0.0,
    ),
    "cmaes-2": (
        -0.04317877469673284,
        0.5292351400041198,
        -0.9112867464562194,
        -0.2560558459519244,
        0.4608500686428271,
        -0.19348305888463146,
        0.4576466736392613,
        -0.06561337575458076,
        -0.4901344180605686,
        -0.6261647609773964,
        -0.17032612495650984,
        0.16578047742445834,
        -0.4323563514144559,
        0.14677089048946018,
        0.4752523903931801,
        -0.6428682822262763,
        -0.1899536816265111,
        0.3085049047894687,
        0.035001249394734923,
    ),
    "cmaes-3": (
        0.14956977148776304,
        0.778956621291974,
        -0.78089208012629,
        0.6631149140213546,
        0.6466615969262965,
        0.835835318439909,
        0.4122717888704891,
        0.016746152980997023,
        0.22905860326514704,
        -0.8100915427563122,
        -0.20902454382181096,
        -0.5307962161900797,
        -0.45924474501665513,
        -0.044334681899615896,
        -0.174890213965818,
        -0.2895764722229578,
        -0.33714439432675436,
        0.14698031908149956,
        0.06870920081104473,
    ),
    "opt-1-1000": (
        0.9540437557611278,
        -0.45393914646691425,
        -0.9784468828423021,
        -0.8978242928743202,
        0.19495775138233973,
        0.10177639082990408,
        -0.8267991334321677,
        0.9747659959199149,
        0.4571288989388105,
        -0.8035564169553195,
        0.04951122272878117,
        0.9631986612529871,
        0.9137954495018125,
        -0.47918851166247556,
        -0.22818102813114682,
        -0.06659245418356763,
        0.48537496790045487,
        0.8913289376634462,
        -0.22141751837541856,
    ),
}
#: The goals of the paper's Fig. 6 by search, in the figure's order.
SEARCHED_GOALS = ("tpe-1", "tpe-2", "tpe-3", "cmaes-1", "cmaes-2", "cmaes-3")

# The output layer's goal is the paper's Table 1 (appendix A.4); the optimised bivariate hidden
# goals (two runs each, CMA-ES as for the trivariate goal: Fig. 8) are the authors' published
# configuration's.
_BIVARIATE = {
    "output": (-0.2, 0.1, 1.0, 0.1, 0.0),
    "context-optimized": (
        -0.09897422104624026,
        0.3916122183491769,
        0.5117811143405198,
        0.5941935589368678,
        0.08852570460263162,
    ),
    "context-optimized-2": (
        0.03790207886343058,
        0.31846647873373646,
        0.7754715864603647,
        0.1535975630019188,
        0.007582022614057774,
    ),
    "lateral-optimized": (
        0.8280595043322676,
        -0.20382187154968667,
        0.9029595669837212,
        0.5267465629054332,
        0.13500766640505008,
    ),
    "lateral-optimized-2": (
        0.8050669838297834,
        -0.4079175158311413,
        0.5380270551460712,
        0.5634098766546485,
        -0.009729245933249309,
    ),
}

# name -> (vector or {label: weight}, default source names). The heuristics: Pi_{F}{C} for the
# trivariate neuron (the paper's section 3, Fig. 2.D and appendix A.10); for bivariate hidden
# neurons the redundancy of F and the label context, or the unique information of F next to the
# lateral input (section 2).
NAMED_GOALS: dict[str, tuple[Sequence[float] | Mapping[str, float], tuple[str, ...]]] = {
    "heuristic": ({"{F}{C}": 1.0}, ("F", "C", "L")),
    "optimized": (_OPTIMIZED_MNIST, ("F", "C", "L")),
    "cifar": (_OPTIMIZED_CIFAR, ("F", "C", "L")),
    "tpe-1": (_OPTIMIZED_MNIST, ("F", "C", "L")),
    **{name: (vector, ("F", "C", "L")) for name, vector in _PUBLISHED_SEARCHES.items()},
    # opt_1_100_modified: the four critical weights of Table 3, rounded, the rest 0
    "critical-4": (
        {"{F}{C}{L}": 0.33, "{F}{C}": 1.0, "{F}{L}": -1.0, "{FC}{FL}": -1.0},
        ("F", "C", "L"),
    ),
    "output": (_BIVARIATE["output"], ("F", "C")),
    "context-heuristic": ({"{F}{C}": 1.0}, ("F", "C")),
    "lateral-heuristic": ({"{F}": 1.0}, ("F", "L")),
    "context-optimized": (_BIVARIATE["context-optimized"], ("F", "C")),
    "context-optimized-2": (_BIVARIATE["context-optimized-2"], ("F", "C")),
    "lateral-optimized": (_BIVARIATE["lateral-optimized"], ("F", "L")),
    "lateral-optimized-2": (_BIVARIATE["lateral-optimized-2"], ("F", "L")),
}
_ALIASES = {"optimised": "optimized", "mnist": "optimized", "cifar10": "cifar"}


def _normalise_label(label: str) -> str:
    return re.sub(r"\s+", "", label)


def _weight(value: object, what: str) -> float:
    """One goal weight as a float; a ValueError names the entry (``what``) and its value."""
    try:
        if isinstance(value, bool):
            raise TypeError
        return float(value)  # type: ignore[arg-type]  # any object: its error names it
    except (TypeError, ValueError):
        raise ValueError(f"goal {what} is {value!r}, not a number") from None


@dataclass(frozen=True)
class Goal:
    """Weights gamma over (atoms..., H_res) for neurons with ``len(source_names)`` sources."""

    weights: tuple[float, ...]
    source_names: tuple[str, ...]
    name: str = "custom"

    def __post_init__(self) -> None:
        n = len(self.source_names)
        expected = len(lattice(n)) + 1
        if len(self.weights) != expected:
            raise ValueError(
                f"a goal for {n} sources needs {expected} weights ({expected - 1} atoms in "
                f"lattice order, then H_res); got {len(self.weights)}"
            )
        if any(w != w or w in (float("inf"), float("-inf")) for w in self.weights):
            raise ValueError("goal weights must be finite numbers")

    @property
    def n_sources(self) -> int:
        return len(self.source_names)

    @property
    def labels(self) -> tuple[str, ...]:
        return (*lattice(self.n_sources).labels_for(self.source_names), RESIDUAL)

    def as_dict(self) -> dict[str, float]:
        return dict(zip(self.labels, self.weights, strict=True))

    def tensor(self, dtype: torch.dtype = torch.float32, device=None) -> torch.Tensor:
        return torch.tensor(self.weights, dtype=dtype, device=device)

    def describe(self) -> str:
        """The non-zero terms in words-friendly form, largest first."""
        terms = sorted(self.as_dict().items(), key=lambda kv: -abs(kv[1]))
        return " ".join(f"{w:+.3f}*{label}" for label, w in terms if w != 0) or "0"

    @classmethod
    def from_vector(
        cls, values: Sequence[float], source_names: Sequence[str], name: str = "custom"
    ) -> Goal:
        return cls(
            tuple(_weight(v, f"weight {k + 1}") for k, v in enumerate(values)),
            tuple(source_names),
            name,
        )

    @classmethod
    def from_dict(
        cls, terms: Mapping[str, float], source_names: Sequence[str], name: str = "custom"
    ) -> Goal:
        """Build from ``{"{F}{C}": 1.0, "H_res": 0.1}``; labels may use names or numbers."""
        names = tuple(source_names)
        lat = lattice(len(names))
        positions = {label: k for k, label in enumerate(lat.labels_for(names))}
        positions.update({label: k for k, label in enumerate(lat.labels)})
        positions[RESIDUAL] = len(lat)
        weights = [0.0] * (len(lat) + 1)
        for label, value in terms.items():
            key = _normalise_label(str(label))
            if key not in positions:
                known = ", ".join((*lat.labels_for(names), RESIDUAL))
                raise ValueError(
                    f"unknown atom label {label!r} for sources {names}; use one of {known}"
                )
            weights[positions[key]] = _weight(value, f"weight of {label}")
        return cls(tuple(weights), names, name)

    @classmethod
    def named(cls, name: str, source_names: Sequence[str] | None = None) -> Goal:
        key = _ALIASES.get(name.lower(), name.lower())
        if key not in NAMED_GOALS:
            raise ValueError(f"unknown goal {name!r}; known goals: {', '.join(NAMED_GOALS)}")
        spec, default_names = NAMED_GOALS[key]
        names = tuple(source_names) if source_names is not None else default_names
        if len(names) != len(default_names):
            raise ValueError(f"goal {name!r} is for {len(default_names)} sources, not {len(names)}")
        if isinstance(spec, Mapping):
            relabel = dict(zip(default_names, names, strict=True))
            renamed = {
                re.sub(r"[A-Z]", lambda m: relabel.get(m.group(0), m.group(0)), k): v
                for k, v in spec.items()
            }
            return cls.from_dict(renamed, names, key)
        return cls.from_vector(spec, names, key)

    @classmethod
    def from_text(cls, text: GoalText, source_names: Sequence[str]) -> Goal:
        """A goal as a goal file writes it (``infomorphic.nn.goal_files``) for a layer with
        these sources; labels in the file's declared source names are read in those."""
        names = tuple(source_names)
        if text.named is not None:
            return cls.named(text.named, names)
        if text.sources is not None and len(text.sources) != len(names):
            raise ValueError(
                f"goal {text.name!r} is for the sources {', '.join(text.sources)}, the layer "
                f"has {len(names)} ({', '.join(names)})"
            )
        if isinstance(text.weights, Mapping):
            declared = cls.from_dict(text.weights, text.sources or names, text.name)
            return cls(declared.weights, names, text.name)
        return cls.from_vector(text.weights or (), names, text.name)

    @classmethod
    def from_file(cls, path: str | Path, source_names: Sequence[str]) -> Goal:
        """A file of one goal (docs/goals.md, "Goal files"); a file of one goal per layer is
        refused here (``infomorphic.nn.goal_files.layer_goals`` spreads it over a network)."""
        parsed = read_goal_file(path)
        if parsed.per_layer:
            raise ValueError(
                f"goal file {parsed.path} holds one goal per layer ({', '.join(parsed.layers)}); "
                "give it as the goal of the whole network"
            )
        try:
            return cls.from_text(parsed.goals[None], source_names)
        except ValueError as exc:
            raise ValueError(f"goal file {parsed.path}: {exc}") from None

    @classmethod
    def resolve(
        cls, spec: str | Sequence[float] | Mapping[str, float] | Goal, source_names: Sequence[str]
    ) -> Goal:
        """A goal from a name, a file path, an inline vector (``"0.1,0.2,..."``), a vector or a
        dict."""
        if isinstance(spec, Goal):
            if spec.n_sources != len(source_names):
                raise ValueError(
                    f"goal {spec.name!r} is for {spec.n_sources} sources, the layer has "
                    f"{len(source_names)}"
                )
            return spec
        if isinstance(spec, str):
            numbers = parse_numbers(spec)
            if numbers is not None:
                return cls.from_vector(numbers, source_names, "inline")
            if Path(spec).is_file():
                return cls.from_file(spec, source_names)
            return cls.named(spec, source_names)
        if isinstance(spec, Mapping):
            return cls.from_dict(spec, source_names)
        return cls.from_vector(spec, source_names)


__all__ = ["NAMED_GOALS", "RESIDUAL", "SEARCHED_GOALS", "Goal"]
