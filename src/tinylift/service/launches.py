"""Launch plans of a workspace: stored in its registry, gates read from its experiments.

A plan is given as a file (stored, or updated, under its key) or by the key
of a stored one. Slips recorded with :func:`record_slip` add to the stored
plan's durations; every forecast through :func:`forecast_plan` is kept, so the
history shows how the P80 moved.

An experiment gate's remaining run and chance to ship come from the
registry: a decided experiment has run (ship: 1, anything else: 0); a
running one needs ``planned units - units so far`` more units at the pace
its latest snapshot shows, and ships with its *conditional power* under the
current trend (the chance its OEC ends significantly better at the planned
sample if the effect is what it looks like now); a draft one runs its whole
planned sample at the plan's ``daily_units`` and ships at the plan's
``p_ship``, else at the program's win rate (Laplace-smoothed).
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

from tinylift.errors import ConfigError, NotFound
from tinylift.launches.plan import MAX_DAYS
from tinylift.portfolio.model import Z95

if TYPE_CHECKING:
    from tinylift.launches import Cascade, Forecast, GateState, Plan
    from tinylift.service.workspace import Workspace

__all__ = [
    "forecast_plan",
    "gate_states",
    "history",
    "list_plans",
    "load",
    "record_slip",
    "save_plan",
    "whatif_plan",
]

#: Spread of a gate's remaining run: traffic 25 % faster ... 30 % slower than its pace.
FASTER, SLOWER = 1.25, 0.7


def load(ws: Workspace, ref: str | Path) -> Plan:
    """The plan in file ``ref`` (stored under its key) or stored under key ``ref``,
    with its recorded slips added."""
    from tinylift.launches import parse_plan
    from tinylift.registry.launches import get_plan, save_plan, slips_of

    path = Path(ref)
    if not path.is_absolute() and not path.exists() and (ws.root / path).exists():
        path = ws.root / path  # a plan beside the workspace's other files
    with ws.registry() as reg, reg.session() as s:
        if path.suffix in (".yml", ".yaml") or path.exists():
            if not path.is_file():
                raise ConfigError(f"no launch plan file {path}", parameter="plan")
            text = path.read_text(encoding="utf-8")
            plan = parse_plan(text, origin=str(path))
            save_plan(s, key=plan.key, name=plan.name, source=text)
        else:
            row = get_plan(s, key=str(ref))
            plan = parse_plan(row.source, origin=f"launch plan {row.key}")
        for slip in slips_of(s, key=plan.key):
            if slip.task in plan.index:
                t = plan.task(slip.task)
                plan = plan.with_task(slip.task, slipped=t.slipped + slip.days)
    return plan


def save_plan(ws: Workspace, plan: str | dict[str, Any], *, origin: str = "the plan") -> Plan:
    """Store a plan given as YAML text (the web form) or as its fields (the API), after
    checking it whole; a plan with the same key is replaced (its slips stay)."""
    import yaml

    from tinylift.launches import parse_plan, plan_from_dict
    from tinylift.registry.launches import save_plan as store

    if isinstance(plan, str):
        parsed, text = parse_plan(plan, origin=origin), plan
    else:
        parsed = plan_from_dict(plan, origin=origin)
        text = yaml.safe_dump(parsed.to_dict(), sort_keys=False, allow_unicode=True)
    with ws.registry() as reg, reg.session() as s:
        store(s, key=parsed.key, name=parsed.name, source=text)
    return parsed


def list_plans(ws: Workspace) -> list[dict[str, Any]]:
    """Stored plans with their latest forecast."""
    from tinylift.registry.launches import forecasts_of
    from tinylift.registry.launches import list_plans as stored

    out = []
    with ws.registry() as reg, reg.session() as s:
        for row in stored(s):
            kept = forecasts_of(s, key=row.key)
            f = kept[-1] if kept else None
            out.append(
                {
                    "key": row.key,
                    "name": row.name,
                    "updated_at": row.updated_at.isoformat(),
                    "p80": f.p80 if f else None,
                    "p_on_time": f.p_on_time if f else None,
                    "as_of": f.as_of if f else None,
                }
            )
    return out


def _conditional_power(z_now: float, fraction: float, alpha: float) -> float:
    """Chance the final z passes the two-sided bar, if the drift is what it looks like now."""
    crit = NormalDist().inv_cdf(1 - alpha / 2)
    if fraction >= 1:
        return 1.0 if z_now > crit else 0.0
    fraction = max(fraction, 1e-6)
    return 1 - NormalDist(z_now / math.sqrt(fraction), math.sqrt(1 - fraction)).cdf(crit)


def gate_states(ws: Workspace, plan: Plan, *, as_of: date | None = None) -> dict[str, GateState]:
    """Every gate's remaining run and chance to ship, from the registry and the plan."""
    from tinylift.launches import Duration, GateState
    from tinylift.registry import decision_of, get_experiment, latest_snapshot

    out: dict[str, GateState] = {}
    gates = [t for t in plan.tasks if t.experiment is not None]
    if not gates:
        return out
    win_rate: float | None = None
    pending: list[tuple[str, str, float, float, float | None, str]] = []
    with ws.registry() as reg, reg.session() as s:
        for t in gates:
            key = str(t.experiment)
            g = t.gate
            try:
                exp = get_experiment(s, key=key)
            except NotFound:
                exp = None
            decision = decision_of(s, key=key) if exp is not None else None
            if decision is not None:
                ships = decision.outcome == "ship"
                zero = Duration(optimistic=0, likely=0, pessimistic=0)
                out[t.key] = GateState(
                    zero, 1.0 if ships else 0.0, f"decided: {decision.outcome}", key
                )
                continue
            planned = g.planned_units or (exp.planned_units if exp is not None else None)
            so_far, pace, p_ship, source = g.units_so_far or 0, g.daily_units, g.p_ship, ""
            if exp is not None and exp.status != "draft":
                try:
                    snap = latest_snapshot(s, key=key)
                except NotFound:
                    snap = None
                if snap is not None:
                    units = snap.summary.get("units") if snap.summary else None
                    so_far = int(units or sum((snap.results.get("units") or {}).values()))
                    started = exp.started_at
                    cutoff = snap.data_cutoff
                    if started is not None and cutoff is not None and pace is None:
                        days = max((cutoff - started).total_seconds() / 86_400, 1.0)
                        pace = so_far / days if so_far else None
                    row = _oec_row(snap.results)
                    if row is not None and planned and p_ship is None:
                        z_now = row["effect"] / max(row["se"], 1e-300)
                        p_ship = _conditional_power(
                            z_now, so_far / planned, float(snap.settings.get("alpha", 0.05))
                        )
                        source = (
                            f"running: {so_far:,} of {planned:,} units; conditional power "
                            f"{p_ship:.0%} under the current trend"
                        )
            if planned is None or pace is None:
                raise ConfigError(
                    f"{plan.origin}: gate {t.key!r} (experiment {key!r}) needs its planned "
                    "units and daily traffic: set planned units on the experiment (or "
                    "gate.planned_units) and gate.daily_units, or analyse it once it runs"
                )
            if p_ship is not None and not source:
                source = f"the plan's chance to ship, {p_ship:.0%}"
            left = max(planned - so_far, 0) / pace
            if left / SLOWER + g.decision_days > MAX_DAYS:
                raise ConfigError(
                    f"{plan.origin}: gate {t.key!r} would run {left / 365:,.0f} years at "
                    f"{pace:g} units a day; check its planned units and daily traffic"
                )
            pending.append((t.key, key, left + 0.0, g.decision_days, p_ship, source))
    for task, key, left, decide, p_ship, source in pending:
        if p_ship is None:  # read after the registry session above has closed
            if win_rate is None:
                win_rate = _program_win_rate(ws)
            p_ship, source = win_rate, f"not started: the program's win rate, {win_rate:.0%}"
        out[task] = GateState(
            Duration(
                optimistic=left / FASTER + decide,
                likely=left + decide,
                pessimistic=left / SLOWER + decide,
            ),
            float(p_ship),
            source,
            key,
        )
    return out


def _oec_row(results: dict[str, Any]) -> dict[str, Any] | None:
    for r in results.get("rows", ()):
        if r.get("role") == "oec" and r.get("effect") is not None and r.get("ci_high") is not None:
            se = (r["ci_high"] - r["ci_low"]) / (2 * Z95)
            return {"effect": r["effect"], "se": se}
    return None


def _program_win_rate(ws: Workspace) -> float:
    """The program's win rate, smoothed by Laplace's rule of succession (a young program
    with no win yet does not make every untested gate fail)."""
    from tinylift.service.portfolio import portfolio

    overall = portfolio(ws).overall
    decided = int(overall.get("decided") or 0)
    wins = round(float(overall.get("win_rate") or 0.0) * decided)
    return (wins + 1) / (decided + 2)


def forecast_plan(
    ws: Workspace,
    ref: str | Path,
    *,
    runs: int | None = None,
    seed: int = 0,
    as_of: date | None = None,
    keep: bool = True,
    reason: str = "forecast",
) -> Forecast:
    """The plan's forecast as of a date (default the plan's status date, else its start:
    the day its recorded progress is as of), kept in its history."""
    from tinylift.launches import forecast
    from tinylift.launches.forecast import runs_for
    from tinylift.registry.launches import add_forecast

    plan = load(ws, ref)
    day = as_of or plan.data_date
    result = forecast(
        plan, runs=runs_for(plan, runs), seed=seed, as_of=day, gates=gate_states(ws, plan)
    )
    if keep:
        with ws.registry() as reg, reg.session() as s:
            add_forecast(
                s,
                key=plan.key,
                as_of=day.isoformat(),
                cpm=result.finish["cpm"],
                p50=result.finish["p50"],
                p80=result.finish["p80"],
                p95=result.finish["p95"],
                p_on_time=result.finish.get("p_on_time"),
                reason=reason[:300],
            )
    return result


def whatif_plan(
    ws: Workspace,
    ref: str | Path,
    task: str,
    days: float,
    *,
    runs: int | None = None,
    seed: int = 0,
    as_of: date | None = None,
) -> Cascade:
    """What moves if ``task`` slips ``days`` (nothing is recorded)."""
    from tinylift.launches import whatif
    from tinylift.launches.forecast import runs_for

    plan = load(ws, ref)
    day = as_of or plan.data_date
    return whatif(
        plan, task, days, runs=runs_for(plan, runs), seed=seed, as_of=day,
        gates=gate_states(ws, plan),
    )  # fmt: skip


def record_slip(
    ws: Workspace,
    ref: str | Path,
    task: str,
    days: float,
    *,
    reason: str = "",
    by: str | None = None,
    as_of: date | None = None,
) -> Forecast:
    """Record that ``task`` slipped by ``days``; the new forecast joins the history."""
    from tinylift.registry.launches import add_slip

    if isinstance(days, bool) or not isinstance(days, (int, float)) or not 0 < days <= 3650:
        raise ConfigError(f"a slip of 1 to 3650 days, got {days!r}", parameter="days")
    plan = load(ws, ref)
    plan.task(task)  # it exists
    gate_states(ws, plan)  # and the plan can be forecast: refuse before anything is stored
    with ws.registry() as reg, reg.session() as s:
        add_slip(
            s, key=plan.key, task=task, days=float(days), reason=reason, recorded_by=by or "cli"
        )
    return forecast_plan(
        ws,
        plan.key,
        as_of=as_of,
        reason=f"{task} slipped {days:g} days" + (f": {reason}" if reason else ""),
    )


def history(ws: Workspace, key: str) -> dict[str, Any]:
    """A stored plan's forecasts and slips, oldest first."""
    from tinylift.registry.launches import forecasts_of, slips_of

    with ws.registry() as reg, reg.session() as s:
        return {
            "forecasts": [
                {
                    "at": f.created_at.isoformat(),
                    "as_of": f.as_of,
                    "cpm": f.cpm,
                    "p50": f.p50,
                    "p80": f.p80,
                    "p95": f.p95,
                    "p_on_time": f.p_on_time,
                    "reason": f.reason,
                }
                for f in forecasts_of(s, key=key)
            ],
            "slips": [
                {
                    "task": x.task,
                    "days": x.days,
                    "reason": x.reason,
                    "by": x.recorded_by,
                    "at": x.recorded_at.isoformat(),
                }
                for x in slips_of(s, key=key)
            ],
        }
