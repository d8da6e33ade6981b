"""What if a task slips: which tasks and milestones move, by how much, and what float absorbs.

The deterministic answer compares the critical-path plan before and after the
slip; the probabilistic one runs the Monte Carlo forecast twice on the same
random numbers (so the difference is the slip's, not the dice's).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from tinylift.errors import ConfigError
from tinylift.launches.forecast import simulate
from tinylift.launches.plan import Plan
from tinylift.launches.schedule import GateState, cpm
from tinylift.results import Result

__all__ = ["Cascade", "whatif"]


@dataclass(frozen=True, repr=False)
class Cascade(Result):
    """The effect of one slip on every task and milestone that moves."""

    plan: str
    task: str
    slip_days: float
    finish: dict[str, Any]
    moved: list[dict[str, Any]]

    _repr_fields = ("task", "slip_days", "finish")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "plan": self.plan,
            "task": self.task,
            "slip_days": self.slip_days,
            "finish": self.finish,
            "moved": self.moved,
        }

    def to_dicts(self) -> list[dict[str, Any]]:
        """One row per task that moves."""
        return list(self.moved)


def whatif(
    plan: Plan,
    task: str,
    days: float,
    *,
    runs: int = 10_000,
    seed: int = 0,
    as_of: date | None = None,
    gates: Mapping[str, GateState] | None = None,
) -> Cascade:
    """What moves if ``task`` takes ``days`` longer than planned."""
    if isinstance(days, bool) or not isinstance(days, (int, float)) or not 0 < days <= 3650:
        raise ConfigError(f"a slip of 1 to 3650 days, got {days!r}", parameter="slip")
    before_task = plan.task(task)
    if before_task.milestone:
        raise ConfigError(f"{task!r} is a milestone: slip a task it waits on", parameter="task")
    later = plan.with_task(task, slipped=before_task.slipped + float(days))
    net, before = cpm(plan, as_of=as_of, gates=gates)
    _, after = cpm(later, as_of=as_of, gates=gates)
    moved = []
    for k, t in enumerate(net.tasks):
        shift = float(after.ef[0, k] - before.ef[0, k])
        if shift <= 1e-9:
            continue
        moved.append(
            {
                "key": t.key,
                "name": t.label,
                "team": t.team,
                "milestone": t.milestone,
                "end_before": net.day(float(before.ef[0, k])).isoformat(),
                "end_after": net.day(float(after.ef[0, k])).isoformat(),
                "shift_days": shift,
                # the part of the slip the float on the way absorbed
                "absorbed_days": float(days) - shift if t.key != task else 0.0,
            }
        )
    _, mc_before, _ = simulate(plan, runs=runs, seed=seed, as_of=as_of, gates=gates)
    _, mc_after, _ = simulate(later, runs=runs, seed=seed, as_of=as_of, gates=gates)
    q_before = np.percentile(mc_before.finish, [50, 80, 95])
    q_after = np.percentile(mc_after.finish, [50, 80, 95])
    finish: dict[str, Any] = {
        "cpm_before": net.day(float(before.finish[0])).isoformat(),
        "cpm_after": net.day(float(after.finish[0])).isoformat(),
        "cpm_shift_days": float(after.finish[0] - before.finish[0]),
    }
    for name, b, a in zip(("p50", "p80", "p95"), q_before, q_after, strict=True):
        finish[f"{name}_before"] = net.day(float(b)).isoformat()
        finish[f"{name}_after"] = net.day(float(a)).isoformat()
        finish[f"{name}_shift_days"] = float(a - b)
    if plan.target is not None:
        limit = (plan.target - plan.start).days
        finish["p_on_time_before"] = float((np.ceil(mc_before.finish - 1e-9) <= limit).mean())
        finish["p_on_time_after"] = float((np.ceil(mc_after.finish - 1e-9) <= limit).mean())
    return Cascade(plan.key, task, float(days), finish, moved)
