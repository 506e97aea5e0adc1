"""An ablation's results as files: ablation.csv (one row per variant and seed), ablation.md
and the figures, from the rows that ``infomorphic.experiments.ablation.run_ablation`` gives.

``ablation_stats`` holds the numbers (each variant against the reference, the critical
weights), ``ablation_report`` the Markdown and ``ablation_figures`` the figures; this module
writes them all. The training lives in ``infomorphic.experiments.ablation``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from infomorphic.experiments.ablation import AblationOutcome
from infomorphic.files import atomic_write_text

__all__ = [
    "CRITICAL_COUNT",
    "CSV_COLUMNS",
    "PAPER_CRITICAL",
    "write_ablation",
    "write_csv",
]

#: The paper's four critical weights and their values as its Table 3 rounds them.
PAPER_CRITICAL = {"{F}{C}": 0.98, "{F}{L}": -0.99, "{F}{C}{L}": 0.33, "{FC}{FL}": -0.97}
#: How many of the largest zero-ablation drops the verdict names (the paper's Table 3: four).
CRITICAL_COUNT = 4
CSV_COLUMNS = (
    "kind",
    "atom",
    "change",
    "step",
    "seed",
    "weight",
    "new_weight",
    "val_accuracy",
    "test_accuracy",
    "train_batch_accuracy",
    "val_change",
    "test_change",
    "run",
    "error",
)


def write_csv(rows: Sequence[Mapping[str, Any]], path: Path) -> None:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v != v else v for k, v in row.items()})  # NaN -> empty
    atomic_write_text(path, text.getvalue())


def write_ablation(
    outcome: AblationOutcome, figures: bool = True, critical: int = CRITICAL_COUNT
) -> list[Path]:
    """Write ablation.csv, ablation.md and the figures into the ablation's folder; the paths
    written (none when every run failed: a table of nothing is no result). ``critical``: how
    many of the largest zero-ablation drops the report names critical."""
    from infomorphic.reports import ablation_report

    if not any(r.error is None for r in outcome.results):
        return []
    out = outcome.out
    out.mkdir(parents=True, exist_ok=True)
    write_csv(outcome.rows, out / "ablation.csv")
    return [
        out / "ablation.csv",
        *ablation_report.write_report(
            outcome.rows,
            outcome.goal,
            outcome.base,
            outcome.order,
            outcome.order_source,
            out,
            figures,
            critical=critical,
            layer=outcome.layer,
        ),
    ]
