"""A target's table: the paper's number, ours, the difference, our spread, extra metrics.

The paper's numbers are medians of 10 runs unless the target averages otherwise (the deep
networks: means); a published range counts as met anywhere inside it.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from infomorphic.reproduce.scales import Scale
from infomorphic.reproduce.targets import PaperValue, Target

__all__ = ["average", "results_table"]


def _paper_text(value: PaperValue | None, percent: bool) -> str:
    if value is None:
        return ""
    unit = "%" if percent else ""
    if isinstance(value, tuple):
        return f"{value[0]:g}-{value[1]:g}{unit}"
    return f"{value:g}{unit}" if percent else f"~{value:g}"


def _difference(ours: float, value: PaperValue) -> float:
    """Ours minus the paper's number; for a published range, the distance outside it."""
    if isinstance(value, tuple):
        low, high = value
        return 0.0 if low <= ours <= high else (ours - high if ours > high else ours - low)
    return ours - value


def _number(value: float, percent: bool, sign: bool = False) -> str:
    if percent:
        return f"{value:+.2f}" if sign else f"{value:.2f}"
    return f"{value:+.3g}" if sign else f"{value:.3g}"


def average(values: Sequence[float], how: str) -> float:
    return statistics.fmean(values) if how == "mean" else statistics.median(values)


def results_table(
    spec: Target,
    values: dict,
    scale: Scale,
    data: str,
    failed: int = 0,
    shape: str = "",
    epochs: int | None = None,
) -> str:
    """The markdown table: paper, ours, difference, spread, extra metrics, runs. ``epochs``:
    what the runs trained (default the scale's)."""
    percent = spec.metric.endswith("accuracy")
    unit = "%" if percent else ""
    word = "mean" if spec.average == "mean" else "median"
    paper_data = "full MNIST (60,000 training images)"
    if spec.name == "cifar":
        paper_data = "full CIFAR-10 (50,000 training images)"
    lines = [
        f"# {spec.title}",
        "",
        f"Scale `{scale.name}` ({scale.seeds} seed{'s' if scale.seeds > 1 else ''} per point, "
        f"{epochs or scale.epochs} epochs"
        + (f"; N = {scale.hidden} where the paper has 100" if scale.hidden != 100 else "")
        + "); "
        f"data: {data}. Ours: the {word} over seeds, spread min..max. The paper's numbers: "
        f"{word}s of 10 runs on {paper_data}." + (f" {spec.note}" if spec.note else ""),
        "",
    ]
    if shape:
        lines += [shape, ""]
    if failed:
        lines += [f"{failed} run{'s' if failed > 1 else ''} failed and are left out.", ""]
    extra_head = "".join(f" {m.replace('_', ' ')} (spread) |" for m in spec.extra)
    lines += [
        f"| group | {spec.xlabel or 'point'} | paper | ours | difference | spread |"
        f"{extra_head} runs |",
        "| --- | ---: | ---: | ---: | ---: | ---: |" + " ---: |" * len(spec.extra) + " ---: |",
    ]
    primary = values.get(spec.metric, {})
    for (group, x), found in primary.items():
        x_text = "" if x is None else f"{x:g}"
        extras = ""
        for metric in spec.extra:
            more = values.get(metric, {}).get((group, x), [])
            is_pct = metric.endswith("accuracy")
            cell = (
                f"{_number(average(more, spec.average), is_pct)}{'%' if is_pct else ''} "
                f"({_number(min(more), is_pct)}..{_number(max(more), is_pct)})"
                if more
                else ""
            )
            published = spec.paper_extra.get((metric, group, x))
            if published is not None:
                cell += f" (paper {_paper_text(published, is_pct)})"
            extras += f" {cell} |"
        if not found:
            lines.append(f"| {group} | {x_text} | | (no finished run) | | |{extras} 0 |")
            continue
        ours = average(found, spec.average)
        published = spec.paper.get((group, x))
        diff = ""
        if published is not None:
            diff = _number(_difference(ours, published), percent, sign=True)
        spread = f"{_number(min(found), percent)}..{_number(max(found), percent)}"
        lines.append(
            f"| {group} | {x_text} | {_paper_text(published, percent)} | "
            f"{_number(ours, percent)}{unit} | {diff} | {spread} |{extras} {len(found)} |"
        )
    return "\n".join(lines) + "\n"
