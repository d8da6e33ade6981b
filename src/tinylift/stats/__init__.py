"""The statistics engine: pure functions on per-variant sufficient statistics.

Nothing here does I/O or sees raw rows: the warehouse aggregates units into
:class:`Moments` (counts, sums, cross-products), and every test, interval,
correction and plan below works on those few numbers, vectorised over
metrics.
"""

from tinylift.stats.bayes import Prior, bayesian
from tinylift.stats.decision import Decision, MetricEvidence, decide
from tinylift.stats.equivalence import Equivalence, equivalence
from tinylift.stats.frequentist import fixed_horizon
from tinylift.stats.group_sequential import (
    constant_boundaries,
    group_sequential,
    spending_boundaries,
    spent_alpha,
)
from tinylift.stats.moments import ArmEstimates, Moments
from tinylift.stats.multiple import CORRECTIONS, adjust_p_values
from tinylift.stats.power import PowerResult, mde, sample_size
from tinylift.stats.results import Comparison
from tinylift.stats.sequential import cs_half_width, msprt_p_values, sequential
from tinylift.stats.srm import SrmResult, srm_test

__all__ = [
    "CORRECTIONS",
    "ArmEstimates",
    "Comparison",
    "Decision",
    "Equivalence",
    "MetricEvidence",
    "Moments",
    "PowerResult",
    "Prior",
    "SrmResult",
    "adjust_p_values",
    "bayesian",
    "constant_boundaries",
    "cs_half_width",
    "decide",
    "equivalence",
    "fixed_horizon",
    "group_sequential",
    "mde",
    "msprt_p_values",
    "sample_size",
    "sequential",
    "spending_boundaries",
    "spent_alpha",
    "srm_test",
]
