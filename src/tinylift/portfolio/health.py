"""Program health: how many experiments, how fast, how often they win, and what was learnt."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any, Literal

from tinylift.portfolio.model import Z95, Record
from tinylift.stats.pooling import false_positive_risk

__all__ = ["BOLD_WIN_RATE", "program_health"]

#: Above this win rate, ideas are probably too safe: mature programs win 10-30 % of the time.
BOLD_WIN_RATE = 0.5
#: z of 80 % power, for the effect a test could detect.
_Z_POWER = 0.8416212335729143

GroupBy = Literal["team", "area", "quarter", "all"]


def _quarter(r: Record) -> str:
    if r.started_at is None:
        return "not started"
    return f"{r.started_at.year}-Q{(r.started_at.month - 1) // 3 + 1}"


_KEYS: dict[str, Callable[[Record], str]] = {
    "team": lambda r: r.team,
    "area": lambda r: r.area,
    "quarter": _quarter,
    "all": lambda r: "all",
}


def _verdict(r: Record) -> str | None:
    row = r.row(r.oec) if r.oec else None
    return row.verdict if row is not None else None


def _underpowered(r: Record, alpha: float) -> bool | None:
    """Whether the data could not detect the planned effect (None: no plan or no data)."""
    row = r.row(r.oec) if r.oec else None
    if row is None or row.rel_se is None or not r.planned_mde:
        return None
    z = Z95 if abs(alpha - 0.05) < 1e-12 else _z(1 - alpha / 2)
    return (z + _Z_POWER) * row.rel_se > r.planned_mde


def _z(p: float) -> float:
    return statistics.NormalDist().inv_cdf(p)


def _summary(records: Sequence[Record], alpha: float, power: float) -> dict[str, Any]:
    started = [r for r in records if r.started_at is not None]
    decided = [r for r in records if r.outcome is not None]
    verdicts = [_verdict(r) for r in decided]
    counted = [v for v in verdicts if v is not None]
    n = len(counted)
    wins = counted.count("better")
    losses = counted.count("worse")
    flats = counted.count("flat")
    days = [
        (r.decided_at - r.started_at).total_seconds() / 86_400
        for r in decided
        if r.decided_at is not None and r.started_at is not None
    ]
    powered = [u for u in (_underpowered(r, alpha) for r in decided) if u is not None]
    first = min((r.started_at for r in started if r.started_at), default=None)
    last = max((r.decided_at for r in decided if r.decided_at), default=None)
    months = (last - first).days / 30.44 if first and last and last > first else None
    out: dict[str, Any] = {
        "started": len(started),
        "decided": len(decided),
        "shipped": sum(r.shipped for r in decided),
        "median_days_to_decision": statistics.median(days) if days else None,
        "decided_per_month": len(decided) / months if months else None,
        "win_rate": wins / n if n else None,
        "loss_rate": losses / n if n else None,
        "flat_rate": flats / n if n else None,
        "inconclusive_rate": counted.count("inconclusive") / n if n else None,
        # Spotify's "experiments with learning": wins, caught regressions, well-powered flats
        "learning_rate": (wins + losses + flats) / n if n else None,
        "underpowered_share": sum(powered) / len(powered) if powered else None,
        "false_positive_risk": None,
        "note": None,
    }
    if wins:  # the share of the wins that are false (none to judge without a win)
        out["false_positive_risk"] = false_positive_risk(wins, n, alpha=alpha, power=power)["fpr"]
    if n >= 5 and wins / n > BOLD_WIN_RATE:
        out["note"] = (
            f"{wins} of {n} experiments won ({wins / n:.0%}); mature programs win 10-30 % of "
            "the time, so these ideas may be too safe to teach much"
        )
    return out


def program_health(
    records: Sequence[Record],
    *,
    by: GroupBy = "team",
    alpha: float = 0.05,
    power: float = 0.8,
) -> list[dict[str, Any]]:
    """One row per team, area or quarter (or the whole program), in order of name.

    Rates are over decided experiments whose OEC was analysed: a *win* is a
    significant improvement of the OEC, a *loss* a significant harm (a
    regression caught), *flat* an effect shown to lie within the margin,
    *inconclusive* neither. ``false_positive_risk`` is the share of the wins
    expected to be false given the win rate, ``alpha`` and ``power``
    (Kohavi, Deng & Vermeer, 2022); ``underpowered_share`` the share of
    experiments with a planned MDE whose data could not have detected it.
    """
    experiments = [r for r in records if r.is_test]
    groups: dict[str, list[Record]] = defaultdict(list)
    for r in experiments:
        groups[_KEYS[by](r)].append(r)
    return [{by: name, **_summary(groups[name], alpha, power)} for name in sorted(groups)]
