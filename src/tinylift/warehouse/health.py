"""Assignment health from the exposures: collisions in a layer, skew against the plan.

A *collision* is a unit exposed to two experiments of one layer whose dates
overlap: layers exist to prevent exactly that, so any count above zero means
an SDK or a configuration is wrong. *Skew* is a sample ratio mismatch against
the planned weights (chi-square, :func:`tinylift.stats.srm_test`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import ibis

from tinylift.stats.srm import SrmResult, srm_test
from tinylift.warehouse.contract import ExperimentWindow
from tinylift.warehouse.engine import Engine

__all__ = ["Collision", "HealthReport", "assignment_health"]


@dataclass(frozen=True)
class Collision:
    """Units seen in two concurrent experiments of the same layer."""

    layer: str
    first: str
    second: str
    units: int


@dataclass(frozen=True)
class HealthReport:
    """Collisions per layer and the split of each experiment against its plan."""

    collisions: tuple[Collision, ...]
    splits: Mapping[str, SrmResult]

    @property
    def healthy(self) -> bool:
        """No collision and no mismatched split."""
        return not self.collisions and not any(s.mismatch for s in self.splits.values())


_EARLIEST = datetime.min.replace(tzinfo=UTC)
_LATEST = datetime.max.replace(tzinfo=UTC)


def _overlap(a: ExperimentWindow, b: ExperimentWindow) -> bool:
    lo = max(a.start or _EARLIEST, b.start or _EARLIEST)
    hi = min(a.end or _LATEST, b.end or _LATEST)
    return lo < hi


def assignment_health(
    engine: Engine,
    designs: Sequence[ExperimentWindow],
    *,
    srm_threshold: float = 0.001,
    exposures: str = "exposures",
) -> HealthReport:
    """Check every experiment's exposures for collisions and skew (two queries)."""
    experiments = {w.key: w for w in designs}
    x = engine.table(exposures)
    x = x.filter(x.experiment_key.isin(list(experiments)))
    units = x.select("experiment_key", "unit_id").distinct()
    pairs = [
        (a.key, b.key, a.layer)
        for a in experiments.values()
        for b in experiments.values()
        if a.key < b.key and a.layer is not None and a.layer == b.layer and _overlap(a, b)
    ]
    collisions: list[Collision] = []
    if pairs:
        left, right = units.view(), units.view()
        both = left.join(right, left.unit_id == right.unit_id).filter(
            left.experiment_key < right.experiment_key
        )
        counted = both.group_by(
            [left.experiment_key.name("first"), right.experiment_key.name("second")]
        ).aggregate(units=ibis._.count())
        found = {(r["first"], r["second"]): r["units"] for r in engine.execute(counted).to_pylist()}
        for first, second, layer in pairs:
            n = int(found.get((first, second), 0))
            if n:
                collisions.append(Collision(str(layer), first, second, n))
    # a unit's variant at its first exposure decides its arm for the split
    first = x.group_by(["experiment_key", "unit_id"]).aggregate(
        variant_key=x.variant_key.argmin(x.timestamp)
    )
    counts = first.group_by(["experiment_key", "variant_key"]).aggregate(n=ibis._.count())
    by_exp: dict[str, dict[str, int]] = {}
    for r in engine.execute(counts).to_pylist():
        by_exp.setdefault(r["experiment_key"], {})[r["variant_key"]] = int(r["n"])
    splits = {}
    for key, cfg in experiments.items():
        seen = by_exp.get(key)
        if not seen:
            continue
        splits[key] = srm_test(
            [seen.get(v, 0) for v in cfg.variants],
            list(cfg.weights) if cfg.weights else None,
            threshold=srm_threshold,
        )
    return HealthReport(tuple(collisions), splits)
