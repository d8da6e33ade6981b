"""Which concurrent experiments interfered: the interaction scan's flags, program-wide.

Every analysis of the running experiments scans each pair that enrolled at the
same time in different layers (:mod:`tinylift.analysis.interactions`) and
stores the flagged tests in both experiments' snapshots; the portfolio lists
each flagged pair once, with both teams.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tinylift.portfolio.model import Record

__all__ = ["interaction_list"]


def interaction_list(records: Sequence[Record]) -> list[dict[str, Any]]:
    """Every flagged interaction or assignment dependence, once per pair and test."""
    teams = {r.key: r.team for r in records}
    seen: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in records:
        for t in r.interactions:
            key = (t["a"], t["b"], t["test"], t.get("metric"), tuple(t.get("treatments") or ()))
            if key in seen:
                continue
            seen[key] = {
                "a": t["a"],
                "b": t["b"],
                "team_a": teams.get(t["a"]),
                "team_b": teams.get(t["b"]),
                "test": t["test"],
                "metric": t.get("metric"),
                "contrast": t.get("contrast"),
                "se": t.get("se"),
                "p": t["p"],
                "p_adjusted": t.get("p_adjusted"),
            }
    return sorted(seen.values(), key=lambda t: (t["p_adjusted"] or 1.0, t["a"], t["b"]))
