"""Turning a refresh into scorecards: effects, health checks, recommendations.

The pipeline runs one refresh for all the experiments asked for, computes
each scorecard (statistics, health, novelty, anecdotes, money value, the
decision rule's recommendation) and, with the registry, stores it as an
immutable snapshot.
"""

from tinylift.analysis.pipeline import Analysis, analyze, analyze_registered
from tinylift.analysis.plan import AnecdoteNote, ExperimentPlan, MetricRole, plan_from_registry
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
