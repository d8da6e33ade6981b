"""The portfolio's inputs: experiments as the registry and their snapshots record them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

__all__ = ["Z95", "MetricInfo", "Record", "Row"]

#: The two-sided 95 % normal quantile, turning an interval back into a standard error.
Z95 = 1.959963984540054


@dataclass(frozen=True)
class Row:
    """One metric of one treatment in an experiment's latest scorecard."""

    metric: str
    variant: str
    effect: float
    ci_low: float
    ci_high: float
    rel_effect: float | None
    rel_se: float | None
    verdict: str  # better | worse | flat | inconclusive
    significant: bool
    lower_is_better: bool
    control_value: float | None = None
    level: float = 0.95

    @property
    def se(self) -> float:
        """The standard error of the effect, from its interval."""
        return (self.ci_high - self.ci_low) / (2 * Z95)


@dataclass(frozen=True)
class Record:
    """One experiment: who ran it, when, what was decided, what its data said."""

    key: str
    team: str
    area: str
    status: str
    started_at: datetime | None
    stopped_at: datetime | None
    decided_at: datetime | None = None
    outcome: str | None = None  # ship | abandon | iterate ... (the registry's decision)
    shipped_variant: str | None = None
    oec: str | None = None
    planned_mde: float | None = None
    kind: str = "experiment"
    rows: tuple[Row, ...] = field(default_factory=tuple)
    #: Flagged tests of the interaction scan that involve it (from its snapshot).
    interactions: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    @property
    def is_test(self) -> bool:
        """An experiment or a market test (not a holdout)."""
        return self.kind in ("experiment", "market")

    @property
    def shipped(self) -> bool:
        """Whether a treatment was shipped."""
        return self.outcome == "ship" and self.shipped_variant is not None

    @cached_property
    def _by_metric(self) -> dict[str, list[Row]]:
        out: dict[str, list[Row]] = {}
        for r in self.rows:
            out.setdefault(r.metric, []).append(r)
        return out

    def row(self, metric: str) -> Row | None:
        """The metric's row for the shipped variant (else the first treatment's)."""
        rows = self._by_metric.get(metric)
        if not rows:
            return None
        for r in rows:
            if r.variant == self.shipped_variant:
                return r
        return rows[0]


@dataclass(frozen=True)
class MetricInfo:
    """What the portfolio needs of a catalog metric."""

    name: str
    role: str | None  # oec | guardrail | secondary | None
    lower_is_better: bool = False
    value_per_unit: float | None = None
    team: str | None = None

    @property
    def shared(self) -> bool:
        """A shared priority (the OEC) or a guardrail: every scorecard leads with these."""
        return self.role in ("oec", "guardrail")
