"""Use cases of data: load a file into the warehouse."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinylift.errors import ConfigError
from tinylift.service.owner import owner_of

if TYPE_CHECKING:
    from tinylift.service.workspace import Workspace
    from tinylift.warehouse.load import LoadReport

__all__ = ["data_health", "ingest", "known_experiments"]

KINDS = ("events", "exposures", "units", "markets")


def known_experiments(ws: Workspace) -> dict[str, list[str]] | None:
    """Variant keys of every registered experiment; None while the registry holds none
    (exposures of any experiment are then accepted)."""
    from tinylift.registry import list_experiments

    with ws.registry() as reg, reg.session() as s:
        known = {e.key: list(e.variant_keys) for e in list_experiments(s)}
    return known or None


def ingest(ws: Workspace, path: Path, kind: str, *, restate: bool = False) -> LoadReport:
    """Validate and load a Parquet, CSV or JSON Lines file; bad rows go to quarantine.

    ``restate``: rows already loaded (by key) are replaced, not ignored."""
    from tinylift.warehouse.load import LoadReport
    from tinylift.warehouse.load import ingest as load

    if kind not in KINDS:
        raise ConfigError(f"choose one of {', '.join(KINDS)}", parameter="--kind")
    path = Path(path).resolve()
    if not path.is_file():
        raise ConfigError(f"no file {path}", parameter="path")
    owner = owner_of(ws)
    if owner is not None:
        payload = {"path": str(path), "kind": kind, "restate": restate}
        return LoadReport.from_dict(owner.call("ingest", payload))
    experiments = known_experiments(ws) if kind == "exposures" else None
    with ws.warehouse() as wh:
        return load(wh, path, kind, experiments=experiments, restate=restate)  # type: ignore[arg-type]


def data_health(ws: Workspace) -> dict[str, Any]:
    """What the warehouse holds and how loading went: rows per table, quarantine
    by kind and reason, the latest loads, and the latest analysis."""
    from sqlalchemy import func, select

    from tinylift.registry.models import Snapshot
    from tinylift.warehouse.load import REASONS

    with ws.engine() as eng:
        con = eng.raw

        def rows(sql: str) -> list[tuple[Any, ...]]:
            return [tuple(r) for r in con.execute(sql).fetchall()]

        counts: dict[str, int | None] = {}
        for t in ("exposures", "events", "unit_attributes", "market_series"):
            try:
                counts[t] = int(rows(f"SELECT count(*) FROM {t}")[0][0])
            except Exception:  # a warehouse from before the table existed
                counts[t] = None
        quarantine = [
            {"kind": k, "reason": r, "rows": int(n), "meaning": REASONS.get(r, (None, ""))[1]}
            for k, r, n in rows(
                "SELECT kind, reason, count(*) FROM quarantine GROUP BY 1, 2 ORDER BY 3 DESC"
            )
        ]
        loads = [
            {
                "file": f,
                "kind": k,
                "read": int(rd),
                "loaded": int(ld),
                "quarantined": int(q),
                "duplicates": int(d),
                "loaded_at": at.isoformat() if at else None,
            }
            for f, k, rd, ld, q, d, at in rows(
                "SELECT file, kind, read, loaded, quarantined, duplicates, loaded_at "
                "FROM loads ORDER BY loaded_at DESC LIMIT 20"
            )
        ]
    with ws.registry() as reg, reg.session() as s:
        last = s.scalar(select(func.max(Snapshot.created_at)))
    return {
        "tables": counts,
        "quarantine": quarantine,
        "loads": loads,
        "last_analysis": last.isoformat() if last else None,
    }
