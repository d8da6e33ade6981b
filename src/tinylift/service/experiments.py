"""Use cases on the record of experiments: create, start, stop, list, show, import, export.

The registry is the one record of experiments and holdouts. ``experiments.yml``
is only a file format to import and export them, with the same fields as
``tinylift experiments create --file`` plus, optionally, when an experiment
started and stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinylift.errors import ConfigError, validation_error

if TYPE_CHECKING:
    from tinylift.metrics import Catalog
    from tinylift.registry import ExperimentPublic
    from tinylift.service.workspace import Workspace

__all__ = [
    "EXPERIMENTS_FILE",
    "ExperimentDetail",
    "add_team",
    "apply_defaults",
    "create_experiment",
    "delete_experiment",
    "edit_experiment",
    "export_experiments",
    "features_payload",
    "import_experiments",
    "list_experiments",
    "list_teams",
    "read_designs",
    "sdk_config",
    "show_experiment",
    "start_experiment",
    "stop_experiment",
]

#: The default name of the import/export file.
EXPERIMENTS_FILE = "experiments.yml"
_LIFECYCLE = ("status", "started_at", "stopped_at")


def apply_defaults(spec: dict[str, Any], catalog: Catalog) -> dict[str, Any]:
    """A design with tinylift's defaults filled in.

    The OEC defaults to the catalog's shared one; coverage to the whole layer
    slice when one is given, else to all users.

    Raises:
        ConfigError: no OEC is named and the catalog has none.
    """
    spec = dict(spec)
    if not spec.get("oec"):
        shared = [m.name for m in catalog if m.role == "oec"]
        if not shared:
            raise ConfigError("name the experiment's OEC (the catalog has none)", parameter="oec")
        spec["oec"] = shared[0]
    if spec.get("coverage") is None:
        bounds = spec.get("layer_range")
        spec["coverage"] = (float(bounds[1]) - float(bounds[0])) if bounds else 1.0
    return {k: v for k, v in spec.items() if v is not None or k in ("layer", "layer_range")}


def create_experiment(ws: Workspace, spec: dict[str, Any]) -> ExperimentPublic:
    """Register a draft with the defaults of :func:`apply_defaults`, checked against the catalog."""
    from tinylift.registry import ExperimentPublic
    from tinylift.registry import create_experiment as create

    catalog = ws.catalog()
    with ws.registry() as reg, reg.session() as s:
        return ExperimentPublic.of(create(s, spec=apply_defaults(spec, catalog), catalog=catalog))


def start_experiment(ws: Workspace, key: str, *, at: datetime | None = None) -> ExperimentPublic:
    """draft -> running (its data count from ``at``, default now)."""
    from tinylift.registry import ExperimentPublic
    from tinylift.registry import start_experiment as start

    with ws.registry() as reg, reg.session() as s:
        return ExperimentPublic.of(start(s, key=key, at=at))


def stop_experiment(ws: Workspace, key: str, *, at: datetime | None = None) -> ExperimentPublic:
    """running -> stopped (enrolment ends at ``at``, default now)."""
    from tinylift.registry import ExperimentPublic
    from tinylift.registry import stop_experiment as stop

    with ws.registry() as reg, reg.session() as s:
        return ExperimentPublic.of(stop(s, key=key, at=at))


def list_experiments(
    ws: Workspace, *, status: str | None = None, team: str | None = None
) -> list[ExperimentPublic]:
    """Experiments, newest first, optionally of one status or team."""
    from tinylift.registry import ExperimentPublic
    from tinylift.registry import list_experiments as listed
    from tinylift.registry.models import STATUSES

    if status is not None and status not in STATUSES:
        raise ConfigError(f"choose one of {', '.join(STATUSES)}", parameter="--status")
    with ws.registry() as reg, reg.session() as s:
        return [ExperimentPublic.of(e) for e in listed(s, status=status, team=team)]


@dataclass(frozen=True)
class ExperimentDetail:
    """One experiment with its phases, latest analysis and decision."""

    experiment: ExperimentPublic
    phases: list[tuple[int, datetime, datetime | None]] = field(default_factory=list)
    #: (recommendation, data cutoff, number of snapshots) of the latest analysis
    latest: tuple[str, datetime, int] | None = None
    #: (outcome, variant, decided by, rationale)
    decision: tuple[str, str | None, str, str] | None = None
    #: corrections: (when, who, field, old, new, why)
    changes: list[tuple[datetime, str, str, str | None, str | None, str]] = field(
        default_factory=list
    )
    #: every analysis stored: (snapshot id, stored at, data cutoff, recommendation)
    snapshots: list[tuple[int, datetime, datetime, str]] = field(default_factory=list)


def show_experiment(ws: Workspace, key: str) -> ExperimentDetail:
    """One experiment's design, phases, latest analysis and decision."""
    from tinylift.registry import (
        ExperimentPublic,
        changes_of,
        decision_of,
        get_experiment,
        snapshots_of,
    )

    with ws.registry() as reg, reg.session() as s:
        exp = get_experiment(s, key=key)
        snaps = snapshots_of(s, key=key)
        d = decision_of(s, key=key)
        return ExperimentDetail(
            experiment=ExperimentPublic.of(exp),
            phases=[(p.number, p.started_at, p.ended_at) for p in exp.phases],
            latest=(snaps[-1].recommendation, snaps[-1].data_cutoff, len(snaps)) if snaps else None,
            decision=(d.outcome, d.variant, d.decided_by, d.rationale) if d else None,
            changes=[
                (c.changed_at, c.changed_by, c.field, c.old, c.new, c.reason)
                for c in changes_of(s, key=key)
            ],
            snapshots=[(sn.id, sn.created_at, sn.data_cutoff, sn.recommendation) for sn in snaps],
        )


def edit_experiment(
    ws: Workspace, key: str, changes: dict[str, Any], *, by: str, reason: str
) -> ExperimentPublic:
    """Correct an experiment's dates, plan or wording; each change is kept with who and why.
    Snapshots already stored are not touched: analyse again to see the corrected dates."""
    from tinylift.registry import ExperimentPublic
    from tinylift.registry import edit_experiment as edit

    if not changes:
        raise ConfigError("say what to change (e.g. --started-at 2026-03-01)", parameter="options")
    with ws.registry() as reg, reg.session() as s:
        return ExperimentPublic.of(edit(s, key=key, changes=changes, by=by, reason=reason))


def delete_experiment(ws: Workspace, key: str) -> None:
    """Remove an experiment with no analysis or decision on record."""
    from tinylift.registry import delete_experiment as delete

    with ws.registry() as reg, reg.session() as s:
        delete(s, key=key)


def list_teams(ws: Workspace) -> list[tuple[str, str, str]]:
    """Every team as (key, name, description)."""
    from tinylift.registry import list_teams as listed

    with ws.registry() as reg, reg.session() as s:
        return [(t.key, t.name, t.description) for t in listed(s)]


def add_team(ws: Workspace, key: str, *, name: str | None = None, description: str = "") -> None:
    """Add a team."""
    from tinylift.registry import create_team

    with ws.registry() as reg, reg.session() as s:
        create_team(s, key=key, name=name, description=description)


# -- the file format ---------------------------------------------------------------


def _moment(value: Any, *, where: str, field: str) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(
            f"{where}, field {field!r}: {value!r} is not a date (2026-03-01) or a time"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def read_designs(path: Path) -> list[dict[str, Any]]:
    """The designs in a YAML file: one mapping, or ``experiments:`` with a list of them.

    Raises:
        ConfigError: the file cannot be read, is not YAML, or is not of that shape.
    """
    from tinylift.config import read_yaml

    raw = read_yaml(path, parameter="file")
    if isinstance(raw, dict) and "holdouts" in raw:
        raise ConfigError(
            f"{path}: 'holdouts:' is an old format; give each holdout as an experiment "
            "with kind: holdout and variants [holdout, general]"
        )
    entries = raw.get("experiments") if isinstance(raw, dict) and "experiments" in raw else [raw]
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ConfigError(
            f"{path}: expected an experiment's fields, or 'experiments:' with a list of them"
        )
    return entries


def _teams_of(path: Path) -> dict[str, tuple[str, str]]:
    """The ``teams:`` of an exported file (created on import when missing)."""
    from tinylift.config import read_yaml

    raw = read_yaml(path, parameter="file")
    teams = raw.get("teams") if isinstance(raw, dict) else None
    if not isinstance(teams, list):
        return {}
    out = {}
    for t in teams:
        if not isinstance(t, dict) or not isinstance(t.get("key"), str):
            raise ConfigError(f"{path}, teams: each team needs a key (and a name, a description)")
        out[t["key"]] = (str(t.get("name") or t["key"]), str(t.get("description") or ""))
    return out


def import_experiments(ws: Workspace, path: Path) -> list[str]:
    """Register every design of a file, then start and stop each at its recorded times.

    All or nothing: a bad entry (named by key and field) registers none.
    Returns the keys registered.
    """
    from pydantic import ValidationError

    from tinylift.errors import NotFound
    from tinylift.registry import ExperimentCreate, create_team, get_team
    from tinylift.registry import create_experiment as create
    from tinylift.registry import start_experiment as start
    from tinylift.registry import stop_experiment as stop

    catalog = ws.catalog()
    entries, teams = read_designs(path), _teams_of(path)
    plans = []
    for i, entry in enumerate(entries):
        where = f"{path}, experiment {entry.get('key', f'#{i + 1}')!r}"
        design = {k: v for k, v in entry.items() if k not in _LIFECYCLE}
        try:
            spec = ExperimentCreate.model_validate(apply_defaults(design, catalog))
        except ValidationError as exc:
            raise validation_error(exc, where=where) from None
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        started = _moment(entry.get("started_at"), where=where, field="started_at")
        stopped = _moment(entry.get("stopped_at"), where=where, field="stopped_at")
        if stopped is not None and started is None:
            raise ConfigError(f"{where}, field 'stopped_at': it never started (no started_at)")
        plans.append((spec, started, stopped))
    with ws.registry() as reg, reg.session() as s:
        for key, (name, description) in teams.items():
            try:
                get_team(s, key=key)
            except NotFound:
                create_team(s, key=key, name=name, description=description)
        for spec, started, stopped in plans:
            create(s, spec=spec, catalog=catalog)
            if started is not None:
                start(s, key=spec.key, at=started)
            if stopped is not None:
                stop(s, key=spec.key, at=stopped)
    return [spec.key for spec, _, _ in plans]


def export_experiments(ws: Workspace, path: Path) -> int:
    """Write every registered experiment and holdout to a YAML file; returns how many."""
    import yaml

    docs = []
    for exp in reversed(list_experiments(ws)):
        doc = exp.model_dump(mode="json", exclude={"created_at", "status"})
        for k in (
            "started_at",
            "stopped_at",
            "layer",
            "layer_range",
            "owner",
            "planned_units",
            "planned_days",
            "planned_mde",
        ):
            if doc.get(k) is None:
                doc.pop(k, None)
        for k, default in (("targeting", {}), ("condition", {}), ("hash_attribute", "id")):
            if doc.get(k) in (None, default):
                doc.pop(k, None)
        if doc.get("hash_version") == 2:
            doc.pop("hash_version", None)
        docs.append(doc)
    used = {d["team"] for d in docs}
    teams = [
        {"key": key, "name": name, "description": description}
        for key, name, description in list_teams(ws)
        if key in used
    ]
    text = yaml.safe_dump({"teams": teams, "experiments": docs}, sort_keys=False, width=100)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {path} ({exc.strerror})", parameter="--output") from None
    return len(docs)


def sdk_config(ws: Workspace) -> dict[str, Any]:
    """What SDKs need to assign locally: the registry's running experiments and holdouts."""
    from tinylift.registry import registry_sdk_config

    with ws.registry() as reg, reg.session() as s:
        return registry_sdk_config(s)


def features_payload(ws: Workspace) -> dict[str, Any]:
    """The running experiments and holdouts as GrowthBook's SDK payload.

    Any GrowthBook SDK given it assigns every unit as tinylift's ``Assigner``
    does (see :mod:`tinylift.assignment.payload`).
    """
    from tinylift.assignment import Assigner
    from tinylift.assignment.payload import features_payload as build

    return build(Assigner.from_dict(sdk_config(ws)))


def overview(
    ws: Workspace,
    *,
    team: str | None = None,
    area: str | None = None,
    status: str | None = None,
    layer: str | None = None,
    q: str | None = None,
) -> list[dict[str, Any]]:
    """The experiment list of the web app: filters, search, and each one's state.

    Each row: key, name, team, area, status, layer, days running, units so
    far and progress to the planned sample (from the latest analysis; to the
    planned days when no sample is planned), the
    OEC's verdict and the recommendation. ``q`` searches names, keys,
    hypotheses and the learnings recorded on an experiment (case-insensitive).
    """
    from sqlalchemy import func, select

    from tinylift.registry.models import Experiment, ExperimentMetric, Learning, Snapshot, Team
    from tinylift.registry.records import summary_of

    now = datetime.now(UTC)
    with ws.registry() as reg, reg.session() as s:
        # plain columns, not ORM objects: no variants, targeting, metrics or phases loaded
        E = Experiment
        query = (
            select(
                E.id,
                E.key,
                E.name,
                E.kind,
                Team.key,
                E.area,
                E.status,
                E.layer,
                E.hypothesis,
                E.started_at,
                E.stopped_at,
                E.planned_units,
                E.planned_days,
            )
            .join(Team, E.team_id == Team.id)
            .order_by(E.created_at.desc(), E.id.desc())
        )
        if team:
            query = query.where(Team.key == team)
        if area:
            query = query.where(Experiment.area == area)
        if status:
            query = query.where(Experiment.status == status)
        if layer:
            query = query.where(Experiment.layer == layer)
        if q:
            like = f"%{q.lower()}%"
            learned = select(Learning.experiment_id).where(func.lower(Learning.text).like(like))
            query = query.where(
                func.lower(Experiment.name).like(like)
                | func.lower(Experiment.key).like(like)
                | func.lower(Experiment.hypothesis).like(like)
                | Experiment.id.in_(learned)
            )
        found = list(s.execute(query))
        latest_ids = select(func.max(Snapshot.id)).group_by(Snapshot.experiment_id)
        # the summary column only: a list never reads the (large) results
        snaps = {
            exp_id: (rec, summary, snap_id)
            for exp_id, rec, summary, snap_id in s.execute(
                select(
                    Snapshot.experiment_id,
                    Snapshot.recommendation,
                    Snapshot.summary,
                    Snapshot.id,
                ).where(Snapshot.id.in_(latest_ids))
            )
        }
        oecs = dict(
            s.execute(
                select(ExperimentMetric.experiment_id, ExperimentMetric.metric).where(
                    ExperimentMetric.role == "oec"
                )
            ).all()
        )
        rows = []
        for e in found:
            snap = snaps.get(e.id)
            summary = snap[1] if snap else None
            if snap is not None and summary is None:  # stored before summaries existed
                summary = summary_of(s.get(Snapshot, snap[2]).results)  # type: ignore[union-attr]
            units = summary.get("units") if summary else None
            start = e.started_at
            if start is not None and start.tzinfo is None:
                start = start.replace(tzinfo=UTC)
            end = e.stopped_at or now
            if end.tzinfo is None:
                end = end.replace(tzinfo=UTC)
            days = None if start is None else max(0, (end - start).days)
            if units and e.planned_units:
                progress, basis = min(1.0, units / e.planned_units), "units"
            elif days is not None and e.planned_days:
                progress, basis = min(1.0, days / e.planned_days), "days"
            else:
                progress, basis = None, None
            rows.append(
                {
                    "key": e.key,
                    "name": e.name,
                    "kind": e.kind,
                    "team": e[4],
                    "area": e.area,
                    "status": e.status,
                    "layer": e.layer,
                    "hypothesis": e.hypothesis,
                    "days_running": days,
                    "planned_units": e.planned_units,
                    "planned_days": e.planned_days,
                    "units": units,
                    #: share of the planned sample (or, without one, of the planned days)
                    "progress": progress,
                    "progress_basis": basis,
                    "oec": oecs.get(e.id),
                    "oec_verdict": summary.get("oec_verdict") if summary else None,
                    "recommendation": None if snap is None else snap[0],
                }
            )
        return rows


def facets(ws: Workspace) -> dict[str, list[str]]:
    """The values the experiment list can be filtered by: teams, areas, statuses, layers."""
    from sqlalchemy import select

    from tinylift.registry.models import Experiment, Team

    with ws.registry() as reg, reg.session() as s:
        rows = list(
            s.execute(
                select(Team.key, Experiment.area, Experiment.status, Experiment.layer)
                .join(Team, Experiment.team_id == Team.id)
                .distinct()
            )
        )
    return {
        "team": sorted({r[0] for r in rows}),
        "area": sorted({r[1] for r in rows}),
        "status": sorted({r[2] for r in rows}),
        "layer": sorted({r[3] for r in rows if r[3]}),
    }
