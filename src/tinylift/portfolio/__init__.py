"""What all the experiments add up to: health, corrected impact, alignment, metric quality,
interactions.

Pure functions over :class:`Record` (one decided or running experiment, with
its latest scorecard's rows), built by :mod:`tinylift.service.portfolio` from
the registry. The pooling maths is in :mod:`tinylift.stats.pooling`.
"""

from tinylift.portfolio.alignment import alignment
from tinylift.portfolio.health import program_health
from tinylift.portfolio.impact import cumulative_impact, holdout_check, roadmap
from tinylift.portfolio.interactions import interaction_list
from tinylift.portfolio.model import MetricInfo, Record, Row
from tinylift.portfolio.quality import metric_quality
from tinylift.portfolio.report import Portfolio, build

__all__ = [
    "MetricInfo",
    "Portfolio",
    "Record",
    "Row",
    "alignment",
    "build",
    "cumulative_impact",
    "holdout_check",
    "interaction_list",
    "metric_quality",
    "program_health",
    "roadmap",
]
