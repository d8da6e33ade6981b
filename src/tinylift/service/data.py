"""Use cases of data: load a file into the warehouse."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tinylift.errors import ConfigError
from tinylift.service.owner import owner_of

if TYPE_CHECKING:
    from tinylift.service.workspace import Workspace
    from tinylift.warehouse.load import LoadReport

__all__ = ["ingest", "known_experiments"]

KINDS = ("events", "exposures", "units")


def known_experiments(ws: Workspace) -> dict[str, list[str]] | None:
    """Variant keys of every registered experiment; None while the registry holds none
    (exposures of any experiment are then accepted)."""
    from tinylift.registry import list_experiments

    with ws.registry() as reg, reg.session() as s:
        known = {e.key: list(e.variant_keys) for e in list_experiments(s)}
    return known or None


def ingest(ws: Workspace, path: Path, kind: str) -> LoadReport:
    """Validate and load a Parquet, CSV or JSON Lines file; bad rows go to quarantine."""
    from tinylift.warehouse.load import LoadReport
    from tinylift.warehouse.load import ingest as load

    if kind not in KINDS:
        raise ConfigError(f"choose one of {', '.join(KINDS)}", parameter="--kind")
    path = Path(path).resolve()
    if not path.is_file():
        raise ConfigError(f"no file {path}", parameter="path")
    owner = owner_of(ws)
    if owner is not None:
        return LoadReport.from_dict(owner.call("ingest", {"path": str(path), "kind": kind}))
    experiments = known_experiments(ws) if kind == "exposures" else None
    with ws.warehouse() as wh:
        return load(wh, path, kind, experiments=experiments)  # type: ignore[arg-type]
