"""Reproduce the paper: one target per figure or table, each a grid of runs and a report.

``targets`` defines what each target trains and the paper's numbers; ``runner.reproduce`` runs
a target through ``infomorphic.experiments`` and writes its table, figure and results.
"""

from infomorphic.reproduce.runner import reproduce, summary
from infomorphic.reproduce.targets import DELEGATED, SCALES, TARGETS, target

__all__ = ["DELEGATED", "SCALES", "TARGETS", "reproduce", "summary", "target"]
