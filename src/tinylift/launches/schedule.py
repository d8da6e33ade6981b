"""The schedule of a plan: critical path (CPM) and a Monte Carlo forecast, vectorised.

Days count from the plan's start (day 0). A task's finish on day ``f`` (a
fraction) falls on the date ``start + ceil(f)`` days.

*CPM*: early start = the latest of its predecessors' finishes plus lags, its
own ``not_before`` and, for a task not yet started, the forecast date; late
dates by the backward pass from the plan's finish; total float = late start -
early start; the critical path is the tasks without float.

*Monte Carlo*: each run draws every duration (PERT-beta with ``lambda = 4``
or triangular, on ``optimistic / likely / pessimistic``) through a standard
normal ``Z``, so a shared driver (a risk) correlates its tasks by a Gaussian
copula (``Z_i = sqrt(rho) Z_risk + sqrt(1 - rho) E_i``); each experiment gate
ships with its probability and, when it does not, switches its fallback tasks
on. The forward and backward passes run over all runs at once, one task at
a time in dependency order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tinylift.errors import ConfigError
from tinylift.launches.plan import Duration, Plan, Task

__all__ = ["GateState", "Network", "compile_plan", "cpm", "passes", "sample_durations"]

F64 = NDArray[np.float64]
#: Normal scores are clipped here (a chance of 2e-9 beyond) and tabulated on this grid.
Z_MAX, Z_POINTS = 6.0, 1201
#: PERT's shape alpha (beta = 6 - alpha) is tabulated on this grid.
ALPHA_POINTS = 81
EPS = 1e-6  # days: float at or below this is none


@dataclass(frozen=True)
class GateState:
    """What is known of a gate's experiment: days still to run and the chance it ships."""

    duration: Duration
    p_ship: float
    #: Where the numbers come from, for people ("decided: ship", "running: 41 % ...").
    source: str = ""
    experiment: str | None = None


@dataclass(frozen=True)
class Network:
    """A plan compiled to arrays, in dependency order."""

    plan: Plan
    keys: tuple[str, ...]  # in dependency order
    tasks: tuple[Task, ...]
    preds: tuple[NDArray[np.intp], ...]  # predecessor positions per task
    lags: tuple[F64, ...]
    succs: tuple[NDArray[np.intp], ...]
    succ_lags: tuple[F64, ...]
    low: F64  # the earliest start (not_before, the forecast day), per task
    fixed_start: F64  # the day a started task started (nan: not started)
    as_of: float
    points: F64  # (tasks, 3): optimistic, likely, pessimistic (slips added, done: 0)
    triangular: NDArray[np.bool_]
    gates: dict[int, GateState] = field(default_factory=dict)
    fallback_gate: dict[int, int] = field(default_factory=dict)  # fallback task -> gate

    @property
    def n(self) -> int:
        """Number of tasks."""
        return len(self.keys)

    def day(self, d: float) -> date:
        """The date a finish on day ``d`` falls on."""
        return self.plan.start + timedelta(days=math.ceil(d - 1e-9))


def _order(plan: Plan) -> list[int]:
    """Positions of the plan's tasks, each after its predecessors."""
    import graphlib

    index = plan.index
    graph = {t.key: [d.task for d in t.after] for t in plan.tasks}
    return [index[k] for k in graphlib.TopologicalSorter(graph).static_order()]


def compile_plan(
    plan: Plan, *, as_of: date | None = None, gates: Mapping[str, GateState] | None = None
) -> Network:
    """Arrays for the passes; ``gates`` gives each gate task's duration and chance to ship."""
    gates = dict(gates or {})
    order = _order(plan)
    pos = {plan.tasks[i].key: k for k, i in enumerate(order)}
    tasks = tuple(plan.tasks[i] for i in order)
    day0 = plan.start
    as_of_day = float((as_of - day0).days) if as_of is not None else 0.0
    n = len(tasks)
    points = np.zeros((n, 3))
    triangular = np.zeros(n, dtype=bool)
    low = np.full(n, max(as_of_day, 0.0))
    fixed = np.full(n, np.nan)
    states: dict[int, GateState] = {}
    for k, t in enumerate(tasks):
        dur = t.duration
        if t.experiment is not None:
            state = gates.get(t.key)
            if state is None:
                raise ConfigError(
                    f"{plan.origin}: gate {t.key!r} (experiment {t.experiment!r}) needs its "
                    "remaining run and chance to ship: give gate.planned_units, "
                    "gate.daily_units and gate.p_ship in the plan, or forecast it through a "
                    "workspace whose registry holds the experiment"
                )
            states[k] = state
            dur = t.duration or state.duration
        if t.done or t.milestone or dur is None:
            continue
        dur = dur.shifted(t.slipped) if t.slipped else dur
        points[k] = (dur.optimistic, dur.likely, dur.pessimistic)
        triangular[k] = (t.distribution or plan.distribution) == "triangular"
        if t.not_before is not None:
            low[k] = max(low[k], float((t.not_before - day0).days))
        if t.started_on is not None:
            fixed[k] = float((t.started_on - day0).days)
    preds, lags = [], []
    succ_lists: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for k, t in enumerate(tasks):
        p = np.array([pos[d.task] for d in t.after], dtype=np.intp)
        lag = np.array([d.lag for d in t.after], dtype=np.float64)
        preds.append(p)
        lags.append(lag)
        for j, g in zip(p, lag, strict=True):
            succ_lists[int(j)].append((k, float(g)))
    fallback = {pos[f]: pos[g] for f, g in plan.fallback_of.items()}
    return Network(
        plan=plan,
        keys=tuple(t.key for t in tasks),
        tasks=tasks,
        preds=tuple(preds),
        lags=tuple(lags),
        succs=tuple(np.array([s for s, _ in lst], dtype=np.intp) for lst in succ_lists),
        succ_lags=tuple(np.array([g for _, g in lst], dtype=np.float64) for lst in succ_lists),
        low=low,
        fixed_start=fixed,
        as_of=as_of_day,
        points=points,
        triangular=triangular,
        gates=states,
        fallback_gate=fallback,
    )


@cache
def _pert_table() -> tuple[F64, F64]:
    """Quantiles of Beta(alpha, 6 - alpha) at Phi(z), on grids of alpha and z."""
    from scipy import special

    alphas = np.linspace(1.0, 5.0, ALPHA_POINTS)
    z = np.linspace(-Z_MAX, Z_MAX, Z_POINTS)
    u = special.ndtr(z)
    table = special.betaincinv(alphas[:, None], 6.0 - alphas[:, None], u[None, :])
    return alphas, np.asarray(table, dtype=np.float64)


def _quantile_rows(net: Network) -> F64:
    """Each task's duration at every normal score of the grid (tasks x Z_POINTS).

    PERT's rows interpolate the tabulated Beta(alpha, 6 - alpha) quantiles
    between the two nearest alphas; triangular rows are exact.
    """
    from scipy import special

    alphas, table = _pert_table()
    a, m, b = net.points[:, 0], net.points[:, 1], net.points[:, 2]
    width = b - a
    rows = np.zeros((net.n, Z_POINTS))
    spread = width > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        shape = np.where(spread, (m - a) / width, 0.5)
    pert = np.flatnonzero(spread & ~net.triangular)
    if len(pert):
        apos = 4.0 * shape[pert] * ((ALPHA_POINTS - 1) / 4.0)  # alpha - 1 = 4 (m - a) / width
        ai = np.minimum(apos.astype(np.intp), ALPHA_POINTS - 2)
        af = (apos - ai)[:, None]
        rows[pert] = table[ai] * (1 - af) + table[ai + 1] * af
    tri = np.flatnonzero(spread & net.triangular)
    if len(tri):
        u = special.ndtr(np.linspace(-Z_MAX, Z_MAX, Z_POINTS))[None, :]
        c = shape[tri][:, None]
        rows[tri] = np.where(u < c, np.sqrt(u * c), 1.0 - np.sqrt((1.0 - u) * (1.0 - c)))
    del alphas
    return np.asarray(a[:, None] + width[:, None] * rows, dtype=np.float64)


def normal_scores(net: Network, runs: int, rng: np.random.Generator) -> F64:
    """Standard normal scores (tasks x runs), correlated within each risk by its driver."""
    z = rng.standard_normal((net.n, runs))
    pos = {k: i for i, k in enumerate(net.keys)}
    for risk in net.plan.risks:
        cols = [pos[k] for k in risk.tasks]
        driver = rng.standard_normal((1, runs))
        rho = risk.correlation
        z[cols] = math.sqrt(rho) * driver + math.sqrt(1 - rho) * z[cols]
    return z


def sample_durations(net: Network, z: F64) -> F64:
    """Durations (tasks x runs) from normal scores (tasks x runs): PERT-beta or
    triangular quantiles, read off each task's row by linear interpolation."""
    rows = _quantile_rows(net)
    pos = (np.clip(z, -Z_MAX, Z_MAX) + Z_MAX) * ((Z_POINTS - 1) / (2 * Z_MAX))
    at = np.minimum(pos.astype(np.int32), Z_POINTS - 2)
    pos -= at  # the fraction past the grid point
    at += (np.arange(net.n, dtype=np.int32) * Z_POINTS)[:, None]
    flat = rows.ravel()
    below = flat[at]
    return np.asarray(below + (flat[at + 1] - below) * pos, dtype=np.float64)


@dataclass(frozen=True)
class Passes:
    """Early and late dates of every task in every run (runs x tasks), and the finish."""

    es: F64
    ef: F64
    ls: F64
    lf: F64
    finish: F64  # per run
    active: NDArray[np.bool_]  # runs x tasks (fallback tasks off when their gate ships)
    ships: dict[int, NDArray[np.bool_]] = field(default_factory=dict)

    @property
    def total_float(self) -> F64:
        """Late start minus early start."""
        return self.ls - self.es

    @property
    def critical(self) -> NDArray[np.bool_]:
        """On the critical path: active and without float."""
        return (self.total_float <= EPS) & self.active


def passes(net: Network, durations: F64, ships: Mapping[int, NDArray[np.bool_]]) -> Passes:
    """Forward and backward passes over every run at once.

    ``durations`` is tasks x runs; ``ships[gate position]`` says, per run,
    whether the gate's experiment shipped (its fallback tasks are then off:
    no time, no lag). The arrays of the result are runs x tasks.
    """
    runs = durations.shape[1]
    active = np.ones((net.n, runs), dtype=bool)
    for f, g in net.fallback_gate.items():
        active[f] = ~ships[g]
    switched = bool(net.fallback_gate)
    dur = np.where(active, durations, 0.0) if switched else durations
    es = np.empty_like(dur)
    ef = np.empty_like(dur)
    for k in range(net.n):
        start = es[k]
        start.fill(net.low[k])
        p, lag = net.preds[k], net.lags[k]
        if len(p) == 1 and not switched:
            np.maximum(start, ef[p[0]] + lag[0], out=start)
        elif len(p):
            before = ef[p] + (np.where(active[p], lag[:, None], 0.0) if switched else lag[:, None])
            np.maximum(start, before.max(axis=0), out=start)
        if not np.isnan(net.fixed_start[k]):  # started: its start is history
            start.fill(net.fixed_start[k])
            np.maximum(start + dur[k], net.as_of, out=ef[k])
        else:
            np.add(start, dur[k], out=ef[k])
    finish = ef.max(axis=0)
    lf = np.empty_like(dur)
    ls = np.empty_like(dur)
    for k in range(net.n - 1, -1, -1):
        s, lag = net.succs[k], net.succ_lags[k]
        late = lf[k]
        late[:] = finish
        if len(s) == 1:
            after = ls[s[0]] - (np.where(active[k], lag[0], 0.0) if switched else lag[0])
            np.minimum(late, after, out=late)
        elif len(s):
            gap = np.where(active[k][None, :], lag[:, None], 0.0) if switched else lag[:, None]
            np.minimum(late, (ls[s] - gap).min(axis=0), out=late)
        np.subtract(late, ef[k] - es[k], out=ls[k])
    return Passes(es.T, ef.T, ls.T, lf.T, finish, active.T, dict(ships))


def cpm(
    plan: Plan,
    *,
    as_of: date | None = None,
    gates: Mapping[str, GateState] | None = None,
    point: str = "likely",
) -> tuple[Network, Passes]:
    """The deterministic critical path with every duration at one point.

    ``point``: ``likely`` (a plan of single dates) or ``mean`` (PERT means).
    A gate is taken to ship when its chance is at least one half.
    """
    net = compile_plan(plan, as_of=as_of, gates=gates)
    a, m, b = net.points.T
    d = m if point == "likely" else (a + 4 * m + b) / 6
    if net.triangular.any() and point == "mean":
        d = np.where(net.triangular, (a + m + b) / 3, d)
    ships = {g: np.array([s.p_ship >= 0.5]) for g, s in net.gates.items()}
    return net, passes(net, d[:, None], ships)


def to_dates(net: Network, days: F64) -> list[str]:
    """ISO dates of finish days."""
    return [net.day(float(d)).isoformat() for d in days]


def summary(values: F64) -> dict[str, Any]:
    """Mean, sd and the usual percentiles of a sample."""
    p50, p80, p95 = np.percentile(values, [50, 80, 95])
    return {
        "mean": float(values.mean()),
        "sd": float(values.std()),
        "p50": float(p50),
        "p80": float(p80),
        "p95": float(p95),
    }
