"""Use cases of reporting: what an experiment's report shows, and writing it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinylift.errors import ConfigError

if TYPE_CHECKING:
    from tinylift.analysis.scorecard import Scorecard
    from tinylift.service.workspace import Workspace

__all__ = ["ReportContext", "report_context", "write_report"]


@dataclass(frozen=True)
class ReportContext:
    """Everything a report (or the experiment page) shows of one experiment."""

    scorecard: Scorecard
    experiment: dict[str, Any]
    snapshot: dict[str, Any]
    anecdotes: list[dict[str, Any]] = field(default_factory=list)
    decision: dict[str, Any] | None = None


def report_context(ws: Workspace, key: str) -> ReportContext:
    """The latest snapshot of an experiment with its design, anecdotes and decision."""
    from tinylift.analysis.scorecard import Scorecard
    from tinylift.registry import (
        ExperimentPublic,
        anecdotes_of,
        decision_of,
        get_experiment,
        latest_snapshot,
    )

    with ws.registry() as reg, reg.session() as s:
        exp = ExperimentPublic.of(get_experiment(s, key=key))
        snap = latest_snapshot(s, key=key)
        d = decision_of(s, key=key)
        return ReportContext(
            scorecard=Scorecard.from_dict(snap.results),
            experiment=exp.model_dump(mode="json"),
            snapshot={
                "id": snap.id,
                "catalog_version": snap.catalog_version,
                "digest": snap.digest,
            },
            anecdotes=[
                {"sentiment": a.sentiment, "variant": a.variant, "source": a.source, "text": a.text}
                for a in anecdotes_of(s, key=key)
            ],
            decision=None
            if d is None
            else {
                "outcome": d.outcome,
                "variant": d.variant,
                "decided_by": d.decided_by,
                "decided_at": d.decided_at.isoformat(),
                "rationale": d.rationale,
            },
        )


def write_report(ws: Workspace, key: str, output: Path) -> int:
    """Write one self-contained HTML report; returns its size in bytes."""
    from tinylift.reports import render_report

    ctx = report_context(ws, key)
    html = render_report(
        ctx.scorecard,
        experiment=ctx.experiment,
        anecdotes=ctx.anecdotes,
        decision=ctx.decision,
        snapshot=ctx.snapshot,
    )
    try:
        output.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {output} ({exc.strerror})", parameter="--output") from None
    return len(html.encode())
