"""The statistics engine: pure functions on per-variant sufficient statistics.

Nothing here does I/O or sees raw rows: the warehouse aggregates units into
:class:`Moments` (counts, sums, cross-products), and every test, interval,
correction and plan below works on those few numbers, vectorised over
metrics.

Names are imported on first use: ``tinylift calc srm`` loads neither scipy
nor numpy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tinylift._lazy import attach

if TYPE_CHECKING:
    from tinylift.stats.bayes import Prior, bayesian
    from tinylift.stats.boundaries import (
        constant_boundaries,
        group_sequential,
        spending_boundaries,
        spent_alpha,
    )
    from tinylift.stats.confidence_sequences import cs_half_width, msprt_p_values, sequential
    from tinylift.stats.decision import Decision, MetricEvidence, decide
    from tinylift.stats.frequentist import fixed_horizon
    from tinylift.stats.moments import ArmEstimates, Moments
    from tinylift.stats.multiple import CORRECTIONS, adjust_p_values
    from tinylift.stats.power import PowerResult, mde, sample_size
    from tinylift.stats.results import Comparison
    from tinylift.stats.srm import SrmResult, srm_test
    from tinylift.stats.tost import Equivalence, equivalence

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

_WHERE = {
    "ArmEstimates": "moments",
    "CORRECTIONS": "multiple",
    "Comparison": "results",
    "Decision": "decision",
    "Equivalence": "tost",
    "MetricEvidence": "decision",
    "Moments": "moments",
    "PowerResult": "power",
    "Prior": "bayes",
    "SrmResult": "srm",
    "adjust_p_values": "multiple",
    "bayesian": "bayes",
    "constant_boundaries": "boundaries",
    "cs_half_width": "confidence_sequences",
    "decide": "decision",
    "equivalence": "tost",
    "fixed_horizon": "frequentist",
    "group_sequential": "boundaries",
    "mde": "power",
    "msprt_p_values": "confidence_sequences",
    "sample_size": "power",
    "sequential": "confidence_sequences",
    "spending_boundaries": "boundaries",
    "spent_alpha": "boundaries",
    "srm_test": "srm",
}


__getattr__, __dir__ = attach(__name__, _WHERE, __all__)
