"""The HTML of ``infomorphic inspect``: one page, inline CSS, figures by relative links.

``render`` lays out the ``Section``s that ``inspection`` collects (``table`` builds their HTML
tables, every cell escaped).

No external resource of any kind: the page opens from disk (file://) without a server or a
network. Its one inline script, run when the page has loaded, writes how many of the figures
the browser could load into the element ``#image-check`` (``data-loaded``, ``data-total``), so a
reader (or a test in a headless browser) sees at once whether a figure is missing.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Section", "render", "table"]

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #222; background: #fafafa; line-height: 1.45; }
main { max-width: 1180px; margin: 0 auto; padding: 1.5rem 2rem 3rem; background: #fff; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.25rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem;
     margin-top: 2.2rem; }
h3 { font-size: 1.05rem; margin-bottom: 0.3rem; }
.path { color: #666; font-family: ui-monospace, monospace; font-size: 0.9rem; }
.facts { display: flex; flex-wrap: wrap; gap: 0.6rem; margin: 1rem 0; }
.fact { background: #eef3f9; border-radius: 6px; padding: 0.45rem 0.8rem; }
.fact b { display: block; font-size: 1.15rem; }
nav ul { columns: 2; padding-left: 1.2rem; margin: 0.4rem 0; }
figure { margin: 0.8rem 0; }
img { max-width: 100%; height: auto; border: 1px solid #e4e4e4; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0 1rem; width: 100%; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.5rem; text-align: left;
         vertical-align: top; }
th { background: #f0f0f0; }
table.goal td:nth-child(2) { font-family: ui-monospace, monospace; white-space: nowrap; }
table.config td:nth-child(2) { font-family: ui-monospace, monospace; word-break: break-all; }
.note { color: #8a4b00; }
details summary { cursor: pointer; color: #2166ac; margin-bottom: 0.3rem; }
footer { color: #666; font-size: 0.85rem; margin-top: 2.5rem; }
.warn { color: #b2182b; font-weight: bold; }
"""

SCRIPT = """
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var loaded = images.filter(function (i) { return i.complete && i.naturalWidth > 0; });
  var check = document.getElementById("image-check");
  check.setAttribute("data-loaded", String(loaded.length));
  check.setAttribute("data-total", String(images.length));
  check.textContent = loaded.length + " of " + images.length + " figures loaded.";
  if (loaded.length < images.length) { check.className = "warn"; }
});
"""


@dataclass
class Section:
    """One part of the page: a title, text (escaped when rendered), HTML and a figure."""

    title: str
    text: list[str] = field(default_factory=list)
    html: str = ""
    figure: str | None = None


def table(rows: Sequence[Sequence[Any]], head: Sequence[str], css: str = "") -> str:
    """An HTML table of escaped cells; ``css``: its class."""
    cells = "".join(f"<th>{html.escape(str(h))}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f'<table class="{css}"><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>'


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def _percent(value: Any) -> str:
    return f"{100 * value:.2f} %" if isinstance(value, (int, float)) else "n/a"


def _goal_fact(goal: Any, default: Any) -> str:
    """A run's goal in a few words: its name or file, ``custom vector``, the model's default,
    or each layer's (``hidden1: heuristic, hidden2: custom vector``)."""
    if isinstance(goal, Mapping) and goal and all(str(k).startswith("hidden") for k in goal):
        return ", ".join(f"{k}: {_goal_fact(v, default)}" for k, v in goal.items())
    if isinstance(goal, str):
        return goal
    if goal:
        return "custom vector" if isinstance(goal, (list, tuple)) else "custom"
    return f"{default} (model default)" if isinstance(default, str) else "none"


def _facts(
    config: Mapping[str, Any], summary: Mapping[str, Any] | None, default: Any = None
) -> str:
    goal = _goal_fact(config.get("goal"), default)
    facts = [
        ("model", config.get("model")),
        ("data", config.get("dataset")),
        ("hidden", ", ".join(map(str, config.get("hidden", [])))),
        ("goal", goal),
    ]
    if summary:
        facts += [
            ("epochs", summary.get("epochs")),
            ("test accuracy", _percent(summary.get("test_accuracy"))),
            ("validation accuracy", _percent(summary.get("val_accuracy"))),
            ("train accuracy", _percent(summary.get("train_accuracy"))),
            ("training time", f"{summary.get('seconds', 0):.1f} s"),
        ]
    cells = "".join(
        f'<div class="fact">{html.escape(str(k))}<b>{html.escape(str(v))}</b></div>'
        for k, v in facts
    )
    note = (
        ""
        if summary
        else (
            '<p class="note">No summary.json: the run has not finished (or was interrupted); '
            "this shows it as far as it got.</p>"
        )
    )
    return f'<div class="facts">{cells}</div>{note}'


def render(
    run_path: Path,
    config: Mapping[str, Any],
    summary: Mapping[str, Any] | None,
    sections: Sequence[Section],
    default_goal: Any = None,
) -> str:
    """The page: a header with the run's facts (``default_goal``: the model's own, for a run
    that named none), a table of contents, the sections (each with ``title``, ``text``,
    ``html`` and ``figure``) and the footer with the figure check."""
    toc = "".join(
        f'<li><a href="#{_slug(s.title)}">{html.escape(s.title)}</a></li>' for s in sections
    )
    body = []
    for s in sections:
        part = [f'<section id="{_slug(s.title)}"><h2>{html.escape(s.title)}</h2>']
        part += [f"<p>{html.escape(t)}</p>" for t in s.text]
        part.append(s.html)
        if s.figure:
            source = html.escape(s.figure, quote=True)
            part.append(
                f'<figure><img src="{source}" alt="{html.escape(s.title, quote=True)}"></figure>'
            )
        body.append("".join(part) + "</section>")
    title = f"infomorphic run: {run_path.name or run_path}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{STYLE}</style>
</head>
<body>
<main>
<h1>{html.escape(title)}</h1>
<div class="path">{html.escape(str(run_path))}</div>
{_facts(config, summary, default_goal)}
<nav><b>Contents</b><ul>{toc}</ul></nav>
{"".join(body)}
<footer>
<p id="image-check" data-loaded="" data-total="">Figures: not checked (scripts are off).</p>
<p>Written by <code>infomorphic inspect</code> from the run folder's config.json, history.csv,
atoms.npz, checkpoint.pt and summary.json. The figures are the PNG files beside this page.</p>
</footer>
</main>
<script>{SCRIPT}</script>
</body>
</html>
"""
