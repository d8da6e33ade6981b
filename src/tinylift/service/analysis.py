"""Use cases of analysis: analyse, refresh, decide.

Each works in-process when this process may open the warehouse, and
otherwise asks the process that owns it (see :mod:`tinylift.service.owner`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tinylift.errors import AnalysisError, ConfigError
from tinylift.service.owner import owner_of

if TYPE_CHECKING:
    from tinylift.analysis import Analysis
    from tinylift.service.workspace import Workspace

__all__ = ["DecisionResult", "analyze", "decide", "refresh"]


def analyze(
    ws: Workspace,
    keys: Sequence[str] | None = None,
    *,
    cutoff: datetime | None = None,
    store: bool = True,
    on_stage: Callable[[str], None] | None = None,
) -> Analysis:
    """Refresh, test, check and recommend the experiments named (all running ones by
    default); store each scorecard as a snapshot unless ``store`` is false."""
    from tinylift.analysis import Analysis, analyze_registered

    owner = owner_of(ws)
    if owner is not None:
        if on_stage:
            on_stage(f"asking the server (pid {owner.pid}) that owns the warehouse")
        payload = {
            "keys": list(keys or []),
            "cutoff": cutoff.isoformat() if cutoff else None,
            "store": store,
        }
        return Analysis.from_dict(owner.call("analyze", payload))
    catalog = ws.catalog()
    with ws.registry() as reg, ws.refresh_engine() as (eng, keep):
        return analyze_registered(
            reg,
            eng,
            catalog,
            keys=list(keys) if keys else None,
            cutoff=cutoff,
            alpha=ws.settings.alpha,
            srm_alpha=ws.settings.srm_alpha,
            store=store,
            on_stage=on_stage,
            incremental=keep,
        )


def refresh(
    ws: Workspace,
    keys: Sequence[str] | None = None,
    *,
    full: bool = False,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> list[dict[str, Any]]:
    """Sufficient statistics of the experiments named (every started one by default),
    summarised: units, the split against the plan, each metric's lift, and what the
    refresh did (``state``: its state rebuilt, brought forward, already current, or
    everything read because the warehouse could not keep state).

    The refresh is incremental (``incremental_refresh``): only rows loaded since the
    last one are read; ``full`` rebuilds the state from all the data."""
    from tinylift.analysis import plan_from_registry
    from tinylift.analysis.summary import refresh_summary
    from tinylift.registry import get_experiment, list_experiments
    from tinylift.warehouse import refresh as run_refresh

    owner = owner_of(ws)
    if owner is not None:
        return list(owner.call("refresh", {"keys": list(keys or []), "full": full}))
    catalog = ws.catalog()
    with ws.registry() as reg, reg.session() as s:
        exps = (
            [get_experiment(s, key=k) for k in keys]
            if keys
            else [e for e in list_experiments(s) if e.status != "draft"]
        )
        drafts = [e.key for e in exps if e.status == "draft"]
        if drafts:
            raise AnalysisError(f"experiment {drafts[0]!r} is still a draft: start it first")
        plans = [plan_from_registry(e, catalog) for e in reversed(exps)]
    if not plans:
        raise AnalysisError("no started experiments to refresh (start one, or name one)")
    now = datetime.now(UTC).replace(microsecond=0)
    with ws.refresh_engine() as (eng, keep):
        result = run_refresh(
            eng,
            catalog,
            [p.window(now) for p in plans],
            incremental=keep,
            full=full,
            on_progress=on_progress,
        )
    how = {}
    if result.state is not None:
        how = {
            **dict.fromkeys(result.state.current, "current"),
            **dict.fromkeys(result.state.updated, "brought forward"),
            **dict.fromkeys(result.state.rebuilt, "rebuilt"),
        }
    return [
        {
            **refresh_summary(result.experiments[p.key], p, alpha=ws.settings.alpha),
            "state": how.get(p.key, "read in full"),
        }
        for p in plans
    ]


@dataclass(frozen=True)
class DecisionResult:
    """A recorded decision and what the rule had recommended."""

    experiment: str
    outcome: str
    variant: str | None
    recommendation: str | None

    @property
    def overrides_rule(self) -> bool:
        """The decision goes against the decision rule's recommendation."""
        rec = self.recommendation
        return bool(rec) and (rec == "ship") != (self.outcome == "ship")


def decide(
    ws: Workspace,
    key: str,
    outcome: str,
    *,
    rationale: str,
    variant: str | None = None,
    by: str = "cli",
) -> DecisionResult:
    """Record the decision on an experiment, resting on its latest snapshot."""
    from tinylift.registry import decide as record
    from tinylift.registry.models import OUTCOMES

    if outcome not in OUTCOMES:
        raise ConfigError(f"choose one of {', '.join(OUTCOMES)}", parameter="outcome")
    with ws.registry() as reg, reg.session() as s:
        d = record(s, key=key, outcome=outcome, rationale=rationale, decided_by=by, variant=variant)
        return DecisionResult(key, d.outcome, d.variant, d.recommendation)
