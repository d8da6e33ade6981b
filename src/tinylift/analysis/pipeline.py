"""The analysis pipeline: refresh (one scan) -> statistics -> checks -> snapshot.

:func:`analyze` works on plans and an engine, with no registry;
:func:`analyze_registered` reads the plans from the registry and stores
each scorecard as an immutable snapshot.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from tinylift.analysis.compute import build_scorecard
from tinylift.analysis.interactions import (
    concurrent_pairs,
    flag_scorecards,
    scan_metrics,
    scan_pairs,
)
from tinylift.analysis.novelty import SLICES, slice_name, with_slices
from tinylift.analysis.plan import ExperimentPlan, plan_from_registry
from tinylift.analysis.scorecard import Scorecard
from tinylift.errors import AnalysisError, ConfigError
from tinylift.metrics import Catalog
from tinylift.results import Result, frozen_mapping
from tinylift.warehouse.contract import DIMENSIONS

if TYPE_CHECKING:
    from tinylift.registry import Registry
    from tinylift.warehouse.engine import Engine

__all__ = ["Analysis", "analyze", "analyze_registered"]


@dataclass(frozen=True, repr=False)
class Analysis(Result):
    """Scorecards by experiment, the experiments that could not be analysed, and why."""

    scorecards: dict[str, Scorecard]
    failures: dict[str, str]
    snapshots: dict[str, int]
    cutoff: datetime
    #: Every test of the interaction scan over the concurrent pairs analysed.
    interactions: tuple[dict[str, Any], ...] = ()

    _repr_fields = ("scorecards", "failures", "cutoff")

    def __post_init__(self) -> None:
        for name in ("scorecards", "failures", "snapshots"):
            object.__setattr__(self, name, frozen_mapping(getattr(self, name)))

    def to_dicts(self) -> list[dict[str, Any]]:
        """One row per experiment: the recommendation, and what needs a look."""
        rows: list[dict[str, Any]] = [
            {
                "experiment": key,
                "recommendation": card.recommendation,
                "ship_variant": card.ship_variant,
                "units": sum(card.units.values()),
                "flagged": [c.name for c in card.flagged],
                "snapshot": self.snapshots.get(key),
                "failure": None,
            }
            for key, card in self.scorecards.items()
        ]
        rows += [
            {"experiment": key, "recommendation": None, "failure": why}
            for key, why in self.failures.items()
        ]
        return rows

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (what ``analyze --json`` prints and the server sends)."""
        return {
            "scorecards": [c.to_dict() for c in self.scorecards.values()],
            "snapshots": dict(self.snapshots),
            "failures": dict(self.failures),
            "cutoff": self.cutoff.isoformat(),
            # the scan's size, and its flagged tests (all of them can be many thousands)
            "interaction_tests": len(self.interactions),
            "interactions": [t for t in self.interactions if t.get("flagged")],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Analysis:
        """Rebuild from :meth:`to_dict` output."""
        cards = [Scorecard.from_dict(c) for c in data["scorecards"]]
        return cls(
            scorecards={c.experiment: c for c in cards},
            failures=dict(data["failures"]),
            snapshots={k: int(v) for k, v in data["snapshots"].items()},
            cutoff=datetime.fromisoformat(data["cutoff"]),
            interactions=tuple(data.get("interactions", ())),
        )


def _tinylift_version() -> str:
    try:
        return version("tinylift")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def analyze(
    engine: Engine,
    catalog: Catalog,
    plans: Sequence[ExperimentPlan],
    *,
    cutoff: datetime,
    alpha: float = 0.05,
    srm_alpha: float = 0.001,
    dimensions: Sequence[str] | None = None,
    over_time: bool = True,
    incremental: bool = False,
) -> Analysis:
    """Scorecards for every plan, from one refresh with data before ``cutoff``
    (``incremental``: from the warehouse's refresh state, brought forward).

    Breakdowns are by ``dimensions``: by default country, platform and the
    catalog's own ``dimensions`` (keys of the exposures' attributes).
    """
    from tinylift.warehouse.run import refresh

    if cutoff.tzinfo is None:
        raise ConfigError("give the data cutoff with a time zone (UTC)", parameter="cutoff")
    if not plans:
        raise ConfigError("nothing to analyse: no experiments given", parameter="experiments")
    extended, _ = with_slices(catalog, plans)
    windows = []
    for plan in plans:
        w = plan.window(cutoff)
        slices = tuple(
            slice_name(m.name, part)
            for m in plan.metrics
            for part in SLICES
            if slice_name(m.name, part) in extended.metrics
        )
        windows.append(dataclasses.replace(w, metrics=w.metrics + slices))
    dims = dimensions_of(catalog) if dimensions is None else tuple(dimensions)
    pairs = concurrent_pairs(plans)
    result = refresh(
        engine,
        extended,
        windows,
        dimensions=dims,
        by_day=over_time,
        pairs=pairs,
        pair_metrics=scan_metrics(plans),
        incremental=incremental,
    )
    cards: dict[str, Scorecard] = {}
    empty = [p for p in plans if sum(result.experiments[p.key].units.values()) == 0]
    failures = _outside_dates(engine, empty, cutoff) if empty else {}
    for plan in plans:
        if plan.key in failures:
            continue
        try:
            cards[plan.key] = build_scorecard(
                result.experiments[plan.key], plan, cutoff=cutoff, alpha=alpha, srm_alpha=srm_alpha
            )
        except AnalysisError as exc:
            failures[plan.key] = str(exc)
    tests = scan_pairs(result.pairs, plans, fdr=alpha) if pairs else []
    return Analysis(flag_scorecards(cards, tests), failures, {}, cutoff, tuple(tests))


def dimensions_of(catalog: Catalog) -> tuple[str, ...]:
    """What analyses break results down by: country, platform, and the catalog's dimensions."""
    return tuple(dict.fromkeys((*DIMENSIONS, *catalog.dimensions)))


def _outside_dates(
    engine: Engine, plans: Sequence[ExperimentPlan], cutoff: datetime
) -> dict[str, str]:
    """Why experiments without exposures in their dates have none: say where the exposures are."""
    x = engine.table("exposures")
    x = x.filter(x.experiment_key.isin([p.key for p in plans]))
    found = {
        r["experiment_key"]: r
        for r in engine.execute(
            x.group_by("experiment_key").aggregate(
                n=x.count(), first=x.timestamp.min(), last=x.timestamp.max()
            )
        ).to_pylist()
    }
    out = {}
    for p in plans:
        start = f"{p.start:%Y-%m-%d %H:%M}" if p.start else "the beginning"
        enrol_end = min(p.end or cutoff, cutoff)
        span = f"between {start} and {enrol_end:%Y-%m-%d %H:%M} (UTC)"
        r = found.get(p.key)
        if r is None:
            out[p.key] = f"no exposures at all for {p.key!r} yet (none {span})"
            continue
        out[p.key] = (
            f"no exposures {span}, its dates, but {r['n']:,} exposures fall outside them "
            f"({r['first']:%Y-%m-%d} to {r['last']:%Y-%m-%d}); if the dates are wrong, correct "
            f"them: tinylift experiments edit {p.key} --started-at {r['first']:%Y-%m-%d} "
            f'--why "..."'
        )
    return out


def analyze_registered(
    registry: Registry,
    engine: Engine,
    catalog: Catalog,
    *,
    keys: Sequence[str] | None = None,
    cutoff: datetime | None = None,
    alpha: float = 0.05,
    srm_alpha: float = 0.001,
    store: bool = True,
    on_stage: Callable[[str], None] | None = None,
    incremental: bool = False,
) -> Analysis:
    """Analyse registered experiments (all running ones by default) and store snapshots
    (``incremental``: from the warehouse's refresh state, brought forward)."""
    from tinylift.registry import add_snapshot, anecdotes_of, get_experiment, list_experiments

    cutoff = cutoff or datetime.now(UTC).replace(microsecond=0)
    say = on_stage or (lambda _: None)
    say("reading the registry")
    with registry.session() as s:
        if keys:
            exps = [get_experiment(s, key=k) for k in keys]
        else:
            exps = list_experiments(s, status="running")
        if not exps:
            raise AnalysisError("no running experiments to analyse (start one, or name one)")
        drafts = [e.key for e in exps if e.status == "draft"]
        if drafts:
            raise AnalysisError(
                f"experiment {drafts[0]!r} is still a draft: start it before analysing"
            )
        plans = [plan_from_registry(e, catalog, anecdotes_of(s, key=e.key)) for e in exps]
        designs = {
            e.key: {
                "variants": e.variants,
                "metrics": {m.metric: m.role for m in e.metrics},
                "planned_units": e.planned_units,
                "planned_days": e.planned_days,
            }
            for e in exps
        }
    say(f"refreshing {len(plans)} experiment{'s' if len(plans) != 1 else ''} in one scan")
    dims = dimensions_of(catalog)
    analysis = analyze(
        engine,
        catalog,
        plans,
        cutoff=cutoff,
        alpha=alpha,
        srm_alpha=srm_alpha,
        dimensions=dims,
        incremental=incremental,
    )
    if not store:
        return analysis
    say("storing snapshots")
    snapshots: dict[str, int] = {}
    settings: dict[str, Any] = {
        "alpha": alpha,
        "srm_alpha": srm_alpha,
        "method": "fixed horizon, CUPED where a pre-period is defined",
        "secondary_correction": "holm",
        "dimensions": list(dims),
        "tinylift": _tinylift_version(),
    }
    with registry.session() as s:
        for key, card in analysis.scorecards.items():
            snap = add_snapshot(
                s,
                key=key,
                data_cutoff=cutoff,
                catalog_version=catalog.version,
                settings={**settings, "design": designs[key]},
                results=card.to_dict(),
                recommendation=card.recommendation,
            )
            snapshots[key] = snap.id
    return dataclasses.replace(analysis, snapshots=snapshots)
