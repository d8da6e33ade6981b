"""The portfolio of a workspace: its registry's experiments, decisions and snapshots."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tinylift.service.workspace import Workspace

if TYPE_CHECKING:
    from tinylift.metrics import Catalog
    from tinylift.portfolio import MetricInfo, Portfolio, Record
    from tinylift.registry import Registry

__all__ = ["infos_of", "metric_infos", "portfolio", "records", "records_of"]


def _rows(results: dict[str, Any]) -> tuple[Any, ...]:
    from tinylift.portfolio import Row

    out = []
    for r in results.get("rows", ()):
        if r.get("effect") is None or r.get("ci_low") is None or r.get("ci_high") is None:
            continue
        out.append(
            Row(
                metric=r["metric"],
                variant=r["variant"],
                effect=float(r["effect"]),
                ci_low=float(r["ci_low"]),
                ci_high=float(r["ci_high"]),
                rel_effect=r.get("rel_effect"),
                rel_se=r.get("rel_se"),
                verdict=r.get("verdict") or ("inconclusive" if not r.get("significant") else ""),
                significant=bool(r.get("significant")),
                lower_is_better=bool(r.get("lower_is_better")),
                control_value=r.get("control_value"),
            )
        )
    return tuple(out)


def records(ws: Workspace) -> list[Record]:
    """Every experiment and holdout of the workspace's registry (see :func:`records_of`)."""
    with ws.registry() as reg:
        return records_of(reg)


def records_of(reg: Registry) -> list[Record]:
    """Every experiment and holdout of a registry, with its decision and analysed rows.

    The rows are those of the snapshot the decision was made on, else of the
    latest snapshot.
    """
    from sqlalchemy import func, select
    from sqlalchemy.orm import selectinload

    from tinylift.portfolio import Record
    from tinylift.registry.models import Decision, Experiment, Snapshot

    with reg.session() as s:
        exps = list(s.scalars(select(Experiment).options(selectinload(Experiment.metrics))))
        decisions = {d.experiment_id: d for d in s.scalars(select(Decision))}
        by_experiment = select(Snapshot.experiment_id, func.max(Snapshot.id)).group_by(
            Snapshot.experiment_id
        )
        latest: dict[int, int] = {row[0]: row[1] for row in s.execute(by_experiment)}
        wanted = {
            e.id: (decisions[e.id].snapshot_id if e.id in decisions else None) or latest.get(e.id)
            for e in exps
        }
        ids = [i for i in wanted.values() if i is not None]
        chosen = select(Snapshot.id, Snapshot.results).where(Snapshot.id.in_(ids))
        results: dict[int, dict[str, Any]] = {row[0]: row[1] for row in s.execute(chosen)}
        out = []
        for e in exps:
            d = decisions.get(e.id)
            snap = wanted.get(e.id)
            out.append(
                Record(
                    key=e.key,
                    team=e.team.key,
                    area=e.area,
                    status=e.status,
                    started_at=e.started_at,
                    stopped_at=e.stopped_at,
                    decided_at=d.decided_at if d else None,
                    outcome=d.outcome if d else None,
                    shipped_variant=d.variant if d else None,
                    oec=e.oec,
                    planned_mde=e.planned_mde,
                    kind=e.kind,
                    rows=_rows(results[snap]) if snap in results else (),
                    interactions=tuple(results[snap].get("interactions", ()))
                    if snap in results
                    else (),
                )
            )
    from tinylift.service.markets import market_records

    return out + market_records(reg)


def metric_infos(ws: Workspace) -> list[MetricInfo]:
    """The workspace catalog's metrics as the portfolio needs them."""
    return infos_of(ws.catalog())


def infos_of(catalog: Catalog) -> list[MetricInfo]:
    """A catalog's metrics as the portfolio needs them."""
    from tinylift.portfolio import MetricInfo

    return [
        MetricInfo(
            name=m.name,
            role=m.role,
            lower_is_better=m.direction == "lower",
            value_per_unit=m.value_per_unit,
            team=m.team,
        )
        for m in catalog
    ]


def _version(ws: Workspace) -> tuple[Any, ...]:
    """What the portfolio depends on: snapshots, decisions, experiments, market tests
    (cheap to read)."""
    from sqlalchemy import func, select

    from tinylift.registry.models import Decision, Experiment, MarketTest, Snapshot

    with ws.registry() as reg, reg.session() as s:
        described = select(
            Experiment.id, Experiment.status, Experiment.team_id, Experiment.area
        ).order_by(Experiment.id)
        return (
            s.scalar(select(func.max(Snapshot.id))),
            s.scalar(select(func.count(Decision.id))),
            s.scalar(select(func.max(Decision.id))),
            hash(tuple(tuple(row) for row in s.execute(described))),
            hash(
                tuple(
                    tuple(row)
                    for row in s.execute(
                        select(
                            MarketTest.key,
                            MarketTest.outcome,
                            MarketTest.decided_at,
                            MarketTest.analysed_at,
                        ).order_by(MarketTest.id)
                    )
                )
            ),
        )


_CACHE: dict[tuple[Any, ...], Portfolio] = {}


def portfolio(ws: Workspace, *, seed: int = 0) -> Portfolio:
    """What the workspace's experiments add up to (see :mod:`tinylift.portfolio`).

    The result is kept until a snapshot, decision or experiment changes (its
    bootstrap takes a moment), so the page, the API and the command agree.
    """
    from tinylift.portfolio import build

    path = ws.catalog_path
    stamp = path.stat().st_mtime_ns if path.exists() else None
    key = (ws.registry_url, str(path), stamp, seed, *_version(ws))
    found = _CACHE.get(key)
    if found is None:
        if len(_CACHE) > 16:
            _CACHE.clear()
        found = _CACHE[key] = build(records(ws), metric_infos(ws), seed=seed)
    return found
