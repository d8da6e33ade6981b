"""Anecdotes against data: say so when the stories and the numbers disagree.

For each treatment, the anecdotes recorded about it lean positive or
negative (positive minus negative). When that lean points the other way
from the measured OEC effect, the scorecard flags it for a person to look
at: either the numbers miss something, or the stories are the loud few.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tinylift.analysis.plan import ExperimentPlan
from tinylift.analysis.scorecard import Check, MetricRow

__all__ = ["anecdote_check"]


def anecdote_check(
    rows: Sequence[MetricRow], plan: ExperimentPlan
) -> tuple[Check, list[dict[str, Any]]]:
    """Compare each treatment's anecdote lean with its OEC effect."""
    oec = next(m.name for m in plan.metrics if m.role == "oec")
    out: list[dict[str, Any]] = []
    for variant in plan.variants[1:]:
        notes = [a for a in plan.anecdotes if a.variant == variant]
        if not notes:
            continue
        lean = sum(a.sentiment == "positive" for a in notes) - sum(
            a.sentiment == "negative" for a in notes
        )
        row = next((r for r in rows if r.metric == oec and r.variant == variant), None)
        if row is None or row.rel_effect is None or lean == 0:
            out.append(
                {"variant": variant, "anecdotes": len(notes), "lean": lean, "disagree": False}
            )
            continue
        good = -row.rel_effect if row.lower_is_better else row.rel_effect
        disagree = (lean > 0) != (good > 0)
        out.append(
            {
                "variant": variant,
                "anecdotes": len(notes),
                "lean": lean,
                "oec": oec,
                "oec_rel_effect": row.rel_effect,
                "oec_significant": row.significant,
                "disagree": disagree,
                "examples": [f"{a.source}: {a.text}" for a in notes[:3]],
            }
        )
    hits = [r for r in out if r["disagree"]]
    if not out:
        return Check("anecdotes", "info", "no anecdotes recorded", {}), out
    if not hits:
        return Check("anecdotes", "ok", "anecdotes and the OEC point the same way", {}), out
    words = "; ".join(
        f"anecdotes about {r['variant']} are {'positive' if r['lean'] > 0 else 'negative'}, "
        f"but {r['oec']} moved {r['oec_rel_effect']:+.2%}"
        f"{'' if r['oec_significant'] else ' (not significant)'}"
        for r in hits
    )
    return (
        Check(
            "anecdotes",
            "warn",
            f"{words}: worth a person's look",
            {"variants": [r["variant"] for r in hits]},
        ),
        out,
    )
