"""Turning a refresh into scorecards: effects, health checks, recommendations.

The pipeline runs one refresh for all the experiments asked for, computes
each scorecard (statistics, health, novelty, anecdotes, money value, the
decision rule's recommendation) and, with the registry, stores it as an
immutable snapshot.

Names are imported on first use: reading a stored scorecard
(``tinylift.analysis.scorecard``) loads neither the registry nor the warehouse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tinylift._lazy import attach

if TYPE_CHECKING:
    from tinylift.analysis.pipeline import Analysis, analyze, analyze_registered
    from tinylift.analysis.plan import (
        AnecdoteNote,
        ExperimentPlan,
        MetricRole,
        plan_from_registry,
    )
    from tinylift.analysis.scorecard import Check, MetricRow, Scorecard

__all__ = [
    "Analysis",
    "AnecdoteNote",
    "Check",
    "ExperimentPlan",
    "MetricRole",
    "MetricRow",
    "Scorecard",
    "analyze",
    "analyze_registered",
    "plan_from_registry",
]

_WHERE = {
    "Analysis": "pipeline",
    "analyze": "pipeline",
    "analyze_registered": "pipeline",
    "AnecdoteNote": "plan",
    "ExperimentPlan": "plan",
    "MetricRole": "plan",
    "plan_from_registry": "plan",
    "Check": "scorecard",
    "MetricRow": "scorecard",
    "Scorecard": "scorecard",
}


__getattr__, __dir__ = attach(__name__, _WHERE, __all__)
