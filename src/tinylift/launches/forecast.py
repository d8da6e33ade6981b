"""A launch forecast: the finish and milestone dates by percentile, and what drives them.

Per task: its CPM dates and float (durations at *likely*), its *criticality*
(the share of runs in which it is on the critical path), its *cruciality*
(the correlation of its duration with the finish) and its schedule
sensitivity index (criticality x its duration's sd / the finish's sd). Per
merge point (a task waiting on two or more others): the *merge bias*, how much
later it starts on average than the deterministic plan of mean durations says,
because the latest of several uncertain finishes is later than the latest of
their means.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from tinylift.errors import ConfigError
from tinylift.launches.plan import Plan
from tinylift.launches.schedule import (
    GateState,
    Network,
    Passes,
    compile_plan,
    cpm,
    normal_scores,
    passes,
    sample_durations,
    summary,
)
from tinylift.results import Result

__all__ = ["Forecast", "forecast", "simulate"]

MAX_RUNS = 200_000
#: Most runs x tasks simulated at once (each array of dates is this many numbers).
MAX_CELLS = 10_000_000


def runs_for(plan: Plan, wanted: int | None = None) -> int:
    """``wanted`` runs, or by default 10,000 (fewer for a plan too large for that)."""
    if wanted is not None:
        return wanted
    return max(100, min(10_000, MAX_CELLS // max(len(plan.tasks), 1)))


def simulate(
    plan: Plan,
    *,
    runs: int = 10_000,
    seed: int = 0,
    as_of: date | None = None,
    gates: Mapping[str, GateState] | None = None,
) -> tuple[Network, Passes, np.ndarray]:
    """Every run's dates, and the durations drawn (runs x tasks, in dependency order)."""
    if isinstance(runs, bool) or not isinstance(runs, int) or not 100 <= runs <= MAX_RUNS:
        raise ConfigError(f"between 100 and {MAX_RUNS:,} runs, got {runs!r}", parameter="runs")
    if runs * len(plan.tasks) > MAX_CELLS:
        raise ConfigError(
            f"{runs:,} runs of {len(plan.tasks):,} tasks is more than is simulated at once; "
            f"ask for at most {max(MAX_CELLS // len(plan.tasks), 100):,} runs",
            parameter="runs",
        )
    net = compile_plan(plan, as_of=as_of, gates=gates)
    rng = np.random.default_rng(seed)
    z = normal_scores(net, runs, rng)
    durations = sample_durations(net, z)
    ships = {g: rng.random(runs) < s.p_ship for g, s in net.gates.items()}
    return net, passes(net, durations, ships), durations.T


@dataclass(frozen=True, repr=False)
class Forecast(Result):
    """The forecast of one plan (see :func:`forecast`)."""

    plan: str
    name: str
    start: str
    as_of: str
    runs: int
    target: str | None
    finish: dict[str, Any]
    milestones: list[dict[str, Any]]
    tasks: list[dict[str, Any]]
    merges: list[dict[str, Any]]
    gates: list[dict[str, Any]]
    teams: list[dict[str, Any]]
    histogram: dict[str, Any]

    _repr_fields = ("plan", "finish")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "plan": self.plan,
            "name": self.name,
            "start": self.start,
            "as_of": self.as_of,
            "runs": self.runs,
            "target": self.target,
            "finish": self.finish,
            "milestones": self.milestones,
            "tasks": self.tasks,
            "merges": self.merges,
            "gates": self.gates,
            "teams": self.teams,
            "histogram": self.histogram,
        }

    def to_dicts(self) -> list[dict[str, Any]]:
        """One row per task."""
        return list(self.tasks)

    @property
    def critical_path(self) -> list[str]:
        """The deterministic critical path, in order."""
        return [t["key"] for t in self.tasks if t["critical"]]


def _dates(net: Network, values: np.ndarray, deadline: date | None) -> dict[str, Any]:
    s = summary(values)
    out: dict[str, Any] = {k: net.day(v).isoformat() for k, v in s.items() if k.startswith("p")}
    out["mean_days"] = s["mean"]
    out["sd_days"] = s["sd"]
    if deadline is not None:
        limit = (deadline - net.plan.start).days
        out["deadline"] = deadline.isoformat()
        out["p_on_time"] = float((np.ceil(values - 1e-9) <= limit).mean())
    return out


def forecast(
    plan: Plan,
    *,
    runs: int = 10_000,
    seed: int = 0,
    as_of: date | None = None,
    gates: Mapping[str, GateState] | None = None,
) -> Forecast:
    """CPM and the Monte Carlo forecast of a plan, as of a date (default its start)."""
    net, mc, durations = simulate(plan, runs=runs, seed=seed, as_of=as_of, gates=gates)
    _, det = cpm(plan, as_of=as_of, gates=gates)
    _, mean_plan = cpm(plan, as_of=as_of, gates=gates, point="mean")
    finish = _dates(net, mc.finish, plan.target)
    finish["cpm"] = net.day(float(det.finish[0])).isoformat()
    sd_finish = float(mc.finish.std())
    crit_index = mc.critical.mean(axis=0)
    # every task's duration against the finish at once: sds and correlations
    d_all = np.where(mc.active, durations, 0.0)
    d_all -= d_all.mean(axis=0)
    sds = np.sqrt((d_all * d_all).mean(axis=0))
    cov = (mc.finish - mc.finish.mean()) @ d_all / runs
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = np.where((sds > 1e-12) & (sd_finish > 0), cov / (sds * sd_finish), 0.0)
    p80_end = np.percentile(mc.ef, 80, axis=0)
    tasks = []
    for k, t in enumerate(net.tasks):
        sd = float(sds[k])
        cruciality = float(corr[k])
        tasks.append(
            {
                "key": t.key,
                "name": t.label,
                "team": t.team,
                "kind": "milestone" if t.milestone else ("gate" if t.experiment else "task"),
                "after": [d_.task for d_ in t.after],
                "es": float(det.es[0, k]),
                "ef": float(det.ef[0, k]),
                "ls": float(det.ls[0, k]),
                "lf": float(det.lf[0, k]),
                "float": float(det.total_float[0, k]),
                "critical": bool(det.critical[0, k]),
                "start": net.day(float(det.es[0, k])).isoformat(),
                "end": net.day(float(det.ef[0, k])).isoformat(),
                "criticality": float(crit_index[k]),
                "cruciality": cruciality,
                "ssi": float(crit_index[k] * sd / sd_finish) if sd_finish > 0 else 0.0,
                "active": float(mc.active[:, k].mean()),
                "p80_end": net.day(float(p80_end[k])).isoformat(),
                "done": t.done,
            }
        )
    order = sorted(range(net.n), key=lambda k: (det.es[0, k], k))
    tasks = [tasks[k] for k in order]
    milestones = [
        {"key": t.key, "name": t.label, **_dates(net, mc.ef[:, k], t.deadline)}
        for k, t in enumerate(net.tasks)
        if t.milestone
    ]
    merges: list[dict[str, Any]] = []
    for k, t in enumerate(net.tasks):
        if len(net.preds[k]) >= 2:
            bias = float(mc.es[:, k].mean() - mean_plan.es[0, k])
            merges.append(
                {"key": t.key, "name": t.label, "waits_on": len(net.preds[k]), "bias_days": bias}
            )
    merges.sort(key=lambda m: -float(m["bias_days"]))
    gate_rows = [
        {
            "key": net.keys[k],
            "experiment": s.experiment or net.tasks[k].experiment,
            "p_ship": s.p_ship,
            "source": s.source,
            "fallback": list(net.tasks[k].fallback),
            "days": {
                "optimistic": s.duration.optimistic,
                "likely": s.duration.likely,
                "pessimistic": s.duration.pessimistic,
            },
            "shipped_share": float(mc.ships[k].mean()) if k in mc.ships else None,
        }
        for k, s in net.gates.items()
    ]
    counts, edges = np.histogram(mc.finish, bins=min(60, max(10, runs // 200)))
    return Forecast(
        plan=plan.key,
        name=plan.name,
        start=plan.start.isoformat(),
        as_of=(as_of or plan.start).isoformat(),
        runs=runs,
        target=plan.target.isoformat() if plan.target else None,
        finish=finish,
        milestones=milestones,
        tasks=tasks,
        merges=merges,
        gates=gate_rows,
        teams=waits(net, det, crit_index),
        histogram={
            "days": [float(x) for x in (edges[:-1] + edges[1:]) / 2],
            "dates": [net.day(float(x)).isoformat() for x in (edges[:-1] + edges[1:]) / 2],
            "runs": [int(c) for c in counts],
        },
    )


def waits(net: Network, det: Passes, criticality: np.ndarray) -> list[dict[str, Any]]:
    """Who waits on whom: per (waiting team, team waited on), the dependencies between them."""
    pairs: dict[tuple[str, str], dict[str, Any]] = {}
    for k, t in enumerate(net.tasks):
        for p in net.preds[k]:
            before = net.tasks[int(p)]
            if not t.team or not before.team or t.team == before.team:
                continue
            row = pairs.setdefault(
                (t.team, before.team),
                {"team": t.team, "waits_on": before.team, "dependencies": 0, "critical": 0,
                 "min_float": None, "criticality": 0.0, "tasks": []},
            )  # fmt: skip
            row["dependencies"] += 1
            slack = float(det.total_float[0, int(p)])
            row["min_float"] = slack if row["min_float"] is None else min(row["min_float"], slack)
            row["critical"] += int(det.critical[0, k] and det.critical[0, int(p)])
            row["criticality"] = max(row["criticality"], float(criticality[int(p)]))
            row["tasks"].append(f"{before.key} → {t.key}")
    return sorted(pairs.values(), key=lambda r: (-r["criticality"], r["team"], r["waits_on"]))
