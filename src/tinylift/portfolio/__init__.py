"""What all the experiments add up to: program health, corrected cumulative impact.

Pure functions over :class:`Record` (one decided or running experiment, with
its latest scorecard's rows), built by :mod:`tinylift.service.portfolio` from
the registry. The pooling maths is in :mod:`tinylift.stats.pooling`.
"""

from tinylift.portfolio.health import program_health
from tinylift.portfolio.impact import cumulative_impact
from tinylift.portfolio.model import MetricInfo, Record, Row
from tinylift.portfolio.report import Portfolio, build

__all__ = [
    "MetricInfo",
    "Portfolio",
    "Record",
    "Row",
    "build",
    "cumulative_impact",
    "program_health",
]
