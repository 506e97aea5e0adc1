"""Reports: readable accounts of goals and (later) of finished runs and studies.

``explain`` puts a goal into words, atom by atom (``explain_goal``, ``explain_weights``,
``describe_antichain``). Names load lazily, so that importing the package costs nothing until a
report is asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from infomorphic._lazy import lazy_getattr

if TYPE_CHECKING:
    from infomorphic.reports.explain import (
        AtomRow,
        GoalExplanation,
        describe_antichain,
        explain_goal,
        explain_weights,
        goal_from_spec,
    )

__getattr__ = lazy_getattr(
    __name__,
    {
        name: "explain"
        for name in (
            "AtomRow",
            "GoalExplanation",
            "describe_antichain",
            "explain_goal",
            "explain_weights",
            "goal_from_spec",
        )
    },
)

__all__ = [
    "AtomRow",
    "GoalExplanation",
    "describe_antichain",
    "explain_goal",
    "explain_weights",
    "goal_from_spec",
]
