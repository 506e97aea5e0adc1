"""A search report as Markdown (report.md): the settings, the best goals (layer by layer for
a per-layer search), the best goal in words, the comparison with the paper's goal and the
importance of the weights. A pure function of the numbers ``infomorphic.search.report``
gathers into report.json."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["markdown"]


def _cell(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _settings_lines(data: dict[str, Any]) -> list[str]:
    s = data["settings"]
    t = s["trials"]
    fixed = ", ".join(f"`{k}` = {v:g}" for k, v in s["fixed"].items()) or "none"
    layers = s.get("goal_layers") or []
    searched = "one goal, shared by every hidden layer"
    if layers:
        rest = len(s.get("hidden") or []) > len(layers)
        searched = f"one per layer: {', '.join(layers)}"
        searched += " (the other layers keep the configured goal)" if rest else ""
    lines = [
        f"# Search report: {s['study']}",
        "",
        *([f"Storage: `{data['storage']}`", ""] if data.get("storage") else []),
        "| setting | value |",
        "|---|---|",
        f"| model | {s['model']} (sources {', '.join(s['sources'] or [])}) |",
        f"| data | {data.get('data') or s['dataset']} (validation fraction {s['val_fraction']}) |",
        f"| hidden, activation | {s['hidden']}, {s['activation'] or 'model default'} |",
        f"| epochs, batch size, seed | {s['epochs']}, {s['batch_size']}, {s['seed']} |",
        f"| sampler, population | {s['sampler']}, {s['population']} |",
        f"| goals searched | {searched} |",
        f"| pruner | {s.get('pruner') or 'none'} |",
        f"| fixed weights (not searched) | {fixed} |",
        f"| objective | {s['objective']} |",
        f"| trials | {t['complete']} complete, {t['failed']} failed, {t['pruned']} pruned, "
        f"{t['running']} running, {t['waiting']} waiting |",
        f"| training time of complete trials | {s['train_seconds'] / 3600:.2f} h |",
    ]
    if t["surplus"]:
        lines.append(
            f"| surplus (not errors) | {t['surplus']} trials asked after the last slot was "
            "taken by another worker |"
        )
    return lines


def _weights_table(goals: list[dict[str, Any]], layer: str | None, fixed: Any) -> list[str]:
    """The best goals' weights (of one layer of a per-layer search) with their accuracies."""
    key = layer or "shared"
    labels = list(goals[0]["goals"][key])
    prefix = f"{layer}." if layer else ""
    head = [f"`{n}` (fixed)" if prefix + n in fixed else f"`{n}`" for n in labels]
    lines = [
        "| rank | trial | " + " | ".join(head) + " | val accuracy | test accuracy* |",
        "|---:|---:|" + "---:|" * (len(labels) + 2),
    ]
    for g in goals:
        weights = " | ".join(f"{w:+.3f}" for w in g["goals"][key].values())
        lines.append(
            f"| {g['rank']} | {g['trial']} | {weights} | {_cell(g['val_accuracy'])} | "
            f"{_cell(g['test_accuracy'])} |"
        )
    return lines


def _importance_lines(imp: dict[str, Any], per_layer: bool) -> list[str]:
    from infomorphic.search.report_layers import importance_by_layer, markdown_importance

    if "skipped" in imp:
        return [f"Skipped: {imp['skipped']}.", ""]
    lines = [
        f"Over the {len(imp['rows'])} searched weights, from {imp['trials']} complete trials, "
        "ranked by mean decrease in impurity (MDI).",
        "",
        f"- MDI: {imp['mdi_method']}.",
        f"- Permutation (cross-check): {imp['permutation_method']}.",
        "",
    ]
    if per_layer:
        lines += [
            "### By layer",
            "",
            *markdown_importance(importance_by_layer(imp["rows"])),
            "",
            "### Every weight",
            "",
        ]
    lines += [
        "| rank | weight | MDI share | permutation share | permutation: MSE increase "
        "(mean ± sd) | permutation rank |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for r in imp["rows"]:
        lines.append(
            f"| {r['mdi_rank']} | `{r['name']}` | {r['mdi']:.3f} | {r['permutation']:.3f} | "
            f"{r['permutation_mse']:.2e} ± {r['permutation_mse_std']:.1e} | "
            f"{r['permutation_rank']} |"
        )
    return [*lines, "", "![parameter importance](importance.png)", ""]


def markdown(data: dict[str, Any], explanations: dict[str | None, Any]) -> str:
    from infomorphic.reports.explain_layers import side_by_side_markdown
    from infomorphic.search.report_layers import markdown_against_paper

    s, goals = data["settings"], data["top"]
    layers = s.get("goal_layers") or []
    lines = [*_settings_lines(data), "", f"## Best {len(goals)} goals by validation accuracy", ""]
    if not layers:
        lines += _weights_table(goals, None, s["fixed"])
    else:
        for layer in layers:
            lines += [f"### {layer}", "", *_weights_table(goals, layer, s["fixed"]), ""]
    lines += ["", f"\\* {data['test_accuracy_note']}", ""]
    best = goals[0]
    if not layers:
        words = explanations[None].to_markdown()
        title = f"## The best goal (trial {best['trial']}) in words"
    else:
        words = "\n".join(side_by_side_markdown(explanations, tuple(s["fixed"])))
        title = f"## The best goal of each layer (trial {best['trial']}) in words, side by side"
    lines += [title, "", words, "", "![best goal](best_goal.png)", ""]
    files = data.get("goal_files") or []
    if files:
        lines += [
            "The best goals as goal files (`infomorphic train --goal FILE`): "
            + ", ".join(f"[{name}]({name})" for name in files)
            + ".",
            "",
        ]
    if data.get("against_paper"):
        lines += [
            "## Against the paper's optimised goal",
            "",
            *markdown_against_paper(data["against_paper"]),
            "",
        ]
    lines += ["## Parameter importance", "", *_importance_lines(data["importance"], bool(layers))]
    lines += ["## Optimisation history", "", "![optimisation history](history.png)", ""]
    return "\n".join(lines)
