"""Reproduce the paper: one target per figure or table, each a grid of runs and a report.

``targets`` defines what each target trains, the paper's numbers and the scales (torch-free,
for the command line); ``runner.reproduce`` runs a target through ``infomorphic.experiments``
and writes its table, figures and results; ``searched`` runs the searching and ablating targets
(fig6, table3); ``estimate`` says what a target will cost before it runs (``dry_run``);
``shapes`` checks the paper's claims on our numbers; ``figures`` draws.
"""

from infomorphic.reproduce.runner import Outcome, dry_run, reproduce, summary
from infomorphic.reproduce.targets import SCALES, TARGET_NAMES, TARGETS, target

__all__ = [
    "SCALES",
    "TARGETS",
    "TARGET_NAMES",
    "Outcome",
    "dry_run",
    "reproduce",
    "summary",
    "target",
]
