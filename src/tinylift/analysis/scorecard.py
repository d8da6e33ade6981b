"""The scorecard: one experiment's results, health checks and recommendation.

Immutable and JSON-ready: a snapshot stores ``to_dict()``; the CLI, the
report and the web app rebuild it with :meth:`Scorecard.from_dict`. Numbers
are kept to 10 significant digits, so the engine's parallel summation order
cannot change a stored snapshot (see :func:`canonical`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any, Literal

from tinylift.results import Result, frozen_mapping

__all__ = ["Check", "MetricRow", "Scorecard", "canonical"]

Status = Literal["ok", "info", "warn", "fail"]


def canonical(value: Any) -> Any:
    """JSON-ready copy: floats to 10 significant digits, NaN and infinities as None."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return float(f"{value:.10g}")
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return canonical(value.item())
    raise TypeError(f"cannot store {type(value).__name__} in a scorecard")


@dataclass(frozen=True, slots=True)
class MetricRow:
    """One metric, one treatment against control."""

    metric: str
    role: str
    variant: str
    kind: str
    lower_is_better: bool
    control_value: float | None
    treatment_value: float | None
    effect: float | None
    ci_low: float | None
    ci_high: float | None
    rel_effect: float | None
    rel_ci_low: float | None
    rel_ci_high: float | None
    rel_se: float | None
    p_value: float | None
    p_value_adjusted: float | None
    chance_to_win: float | None
    n_control: int
    n_treatment: int
    cuped: bool
    significant: bool
    flags: tuple[str, ...] = ()
    #: ``fixed`` once the planned sample is reached; ``sequential`` (always-valid
    #: intervals, safe to peek) while it runs; ``quantile`` for quantile metrics.
    method: str = "fixed"
    #: ``better`` or ``worse`` (significant, in the metric's good direction),
    #: ``flat`` (shown equivalent within ``margin``, by TOST) or ``inconclusive``.
    verdict: str | None = None
    #: The relative margin within which an effect is flat (None: none declared).
    margin: float | None = None
    #: Shown to lie within ``margin`` (TOST); a significant effect still counts first.
    equivalent: bool = False

    def __post_init__(self) -> None:
        if self.verdict is None:  # worked out here, and for snapshots stored without one
            verdict = self.direction() or ("flat" if self.equivalent else "inconclusive")
            object.__setattr__(self, "verdict", verdict)

    def direction(self) -> str | None:
        """``better`` or ``worse`` when significant, else None."""
        if not self.significant or self.effect is None:
            return None
        up = self.effect > 0
        return "worse" if up == self.lower_is_better else "better"


@dataclass(frozen=True, slots=True)
class Check:
    """A health check: ``ok``, ``info``, ``warn`` or ``fail``, with a sentence for people."""

    name: str
    status: Status
    message: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, repr=False)
class Scorecard(Result):
    """Everything an analysis found for one experiment."""

    experiment: str
    variants: tuple[str, ...]
    data_cutoff: str
    units: dict[str, int]
    rows: tuple[MetricRow, ...]
    checks: tuple[Check, ...]
    recommendation: str  # ship | don't ship | keep running
    ship_variant: str | None
    reasons: tuple[str, ...]
    decisions: dict[str, Any] = field(default_factory=dict)  # per treatment
    over_time: tuple[dict[str, Any], ...] = ()
    breakdowns: tuple[dict[str, Any], ...] = ()
    novelty: tuple[dict[str, Any], ...] = ()
    value: tuple[dict[str, Any], ...] = ()
    anecdotes: tuple[dict[str, Any], ...] = ()
    alpha: float = 0.05
    #: Flagged tests of the interaction scan that involve this experiment.
    interactions: tuple[dict[str, Any], ...] = ()

    _repr_fields = ("experiment", "recommendation", "units")

    def __post_init__(self) -> None:
        object.__setattr__(self, "units", frozen_mapping(self.units))
        object.__setattr__(self, "decisions", frozen_mapping(self.decisions))

    @property
    def control(self) -> str:
        """The control arm."""
        return self.variants[0]

    def rows_of(self, role: str) -> list[MetricRow]:
        """Rows of one role (oec, secondary, guardrail), in plan order."""
        return [r for r in self.rows if r.role == role]

    def row(self, metric: str, variant: str | None = None) -> MetricRow:
        """One metric's row (for the first treatment unless named)."""
        v = variant or self.variants[1]
        for r in self.rows:
            if r.metric == metric and r.variant == v:
                return r
        raise KeyError(f"{metric} / {v}")

    def check(self, name: str) -> Check:
        """A health check by name."""
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def flagged(self) -> list[Check]:
        """Checks that need a person's attention (warn or fail)."""
        return [c for c in self.checks if c.status in ("warn", "fail")]

    def to_dict(self) -> dict[str, Any]:
        """A canonical, JSON-ready dict (what a snapshot stores)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["rows"] = [asdict(r) for r in self.rows]
        out["checks"] = [asdict(c) for c in self.checks]
        return dict(canonical(out))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scorecard:
        """Rebuild from :meth:`to_dict` output, of this or an earlier version.

        Snapshots are never rewritten, so fields added since a snapshot was
        stored read as missing (None) and fields since dropped are ignored.
        """
        d = _known(cls, data)
        d["rows"] = tuple(
            MetricRow(**{**_known(MetricRow, r, fill=True), "flags": tuple(r.get("flags", ()))})
            for r in data["rows"]
        )
        d["checks"] = tuple(Check(**_known(Check, c)) for c in data["checks"])
        for name in (
            "variants",
            "reasons",
            "over_time",
            "breakdowns",
            "novelty",
            "value",
            "interactions",
        ):
            d[name] = tuple(d.get(name, ()))
        d["anecdotes"] = tuple(d.get("anecdotes", ()))
        return cls(**d)

    def to_dicts(self) -> list[dict[str, Any]]:
        """One dict per (metric, treatment): the scorecard's table."""
        return [asdict(r) for r in self.rows]


def _known(cls: type, data: dict[str, Any], *, fill: bool = False) -> dict[str, Any]:
    """The entries of ``data`` that are fields of ``cls``; with ``fill``, missing
    fields without a default become None."""
    out = {}
    for f in fields(cls):
        if f.name in data:
            out[f.name] = data[f.name]
        elif fill and f.default is MISSING and f.default_factory is MISSING:
            out[f.name] = None
    return out
