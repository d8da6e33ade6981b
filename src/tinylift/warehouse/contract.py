"""What the warehouse and the analysis agree on: what to compute, and what comes back.

No query engine is imported here, so the analysis layer can name these
types without loading Ibis or DuckDB.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Final

# Quantile metrics: each arm's quantiles at q - delta and q + delta give the
# density estimate behind the standard error (see tinylift.stats.quantile).
from tinylift.metrics.model import QUANTILE_DELTA
from tinylift.results import Result

if TYPE_CHECKING:
    from tinylift.stats.moments import Moments
    from tinylift.stats.quantile import QuantileStats

__all__ = [
    "DIMENSIONS",
    "QUANTILE_DELTA",
    "ExperimentStats",
    "ExperimentWindow",
    "PairStats",
    "Refresh",
    "StateReport",
    "dimension_column",
]

#: Exposure columns every refresh can break results down by; any other name is
#: looked up in the exposure's ``attributes`` (see ``dimension_column``).
DIMENSIONS: Final = ("country", "platform")


def dimension_column(name: str) -> str:
    """The per-unit column holding a dimension's value."""
    return name if name in DIMENSIONS else f"dim_{name}"


@dataclass(frozen=True)
class StateReport:
    """What one update of the state did."""

    #: experiments computed afresh (new, changed, or ``full``)
    rebuilt: tuple[str, ...] = ()
    #: experiments brought forward from their watermark
    updated: tuple[str, ...] = ()
    #: experiments whose state was already current
    current: tuple[str, ...] = ()
    #: loads folded in (after the oldest watermark of the updated experiments)
    loads: int = 0
    #: entries rebuilt from all their rows (new, moved, or restated units)
    touched: int = 0
    #: watermark after the update
    seq: int = 0
    #: experiments whose kept sums of entries with closed windows were reused
    kept: tuple[str, ...] = ()
    #: per experiment brought forward or current: its watermark before the update,
    #: and the entry time before which no entry changed in this update
    prior: dict[str, int] = field(default_factory=dict)
    unchanged_before: dict[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True)
class ExperimentWindow:
    """What to compute for one experiment: its variants (control first), metrics, dates."""

    key: str
    variants: tuple[str, ...]
    metrics: tuple[str, ...]
    start: datetime | None = None
    #: The data cutoff (exclusive): no exposure or event at or after it counts.
    end: datetime | None = None
    #: When enrolment ended (exclusive), if before ``end``: stopping an experiment
    #: ends enrolment, while each unit's events count to the end of its own window.
    enrol_end: datetime | None = None
    #: Planned weights, in variant order (equal when None), for checks of the split.
    weights: tuple[float, ...] | None = None
    #: The layer whose units it shares with no other running experiment.
    layer: str | None = None


@dataclass(frozen=True)
class ExperimentStats:
    """One experiment's sufficient statistics after a refresh."""

    key: str
    variants: tuple[str, ...]
    units: dict[str, int]
    multi_variant_units: int
    unplanned_variant_units: int
    metrics: dict[str, Moments]
    breakdowns: dict[str, dict[str, dict[str, Moments]]] = field(default_factory=dict)
    quantiles: dict[str, QuantileStats] = field(default_factory=dict)
    daily: list[tuple[date, dict[str, Moments]]] = field(default_factory=list)
    #: Per metric: units whose window had not ended at the cutoff (left out of it).
    in_progress: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class PairStats:
    """Two concurrent experiments' shared units, by (variant of ``a``, variant of ``b``).

    ``counts[i, j]``: units in variant ``i`` of ``a`` and ``j`` of ``b`` (each
    seen in one variant of both). ``metrics[name]`` holds the moments of each
    cell, measured in ``a``'s windows (from each unit's entry into ``a``), as
    one :class:`Moments` whose variants are the cells in row-major order.
    """

    a: str
    b: str
    variants_a: tuple[str, ...]
    variants_b: tuple[str, ...]
    counts: Any  # numpy array (len(variants_a), len(variants_b))
    metrics: dict[str, Moments] = field(default_factory=dict)


@dataclass(frozen=True, repr=False)
class Refresh(Result):
    """The result of a refresh: statistics per experiment, and the SQL that ran."""

    experiments: dict[str, ExperimentStats]
    sql: str
    #: Per pair of concurrent experiments asked for: their shared units' cells.
    pairs: dict[tuple[str, str], PairStats] = field(default_factory=dict)
    #: What the incremental refresh did to its state (None: read the raw data).
    state: StateReport | None = None

    _repr_fields = ("experiments",)

    def to_dict(self) -> dict[str, Any]:
        """Per experiment: units per arm, excluded units, and every metric's moments."""
        return {
            "experiments": {
                key: {
                    "units": dict(st.units),
                    "multi_variant_units": st.multi_variant_units,
                    "unplanned_variant_units": st.unplanned_variant_units,
                    "metrics": {
                        name: {"n": mo.n.tolist(), "s": mo.s.tolist(), "ss": mo.ss.tolist()}
                        for name, mo in st.metrics.items()
                    },
                }
                for key, st in self.experiments.items()
            },
            "sql": self.sql,
        }

    def to_dicts(self) -> list[dict[str, Any]]:
        """One row per (experiment, variant): its units."""
        return [
            {"experiment": key, "variant": v, "units": st.units.get(v, 0)}
            for key, st in self.experiments.items()
            for v in st.variants
        ]
