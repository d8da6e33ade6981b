"""Use case of alerts: say when an experiment needs a person, once per cause.

Three causes: a sample ratio mismatch (``srm``), a guardrail that got
significantly worse (``guardrail``), and a result ready to decide on
(``ready``). None is raised before the experiment has ``alert_min_units``
units. Each is stored in the registry at most once per experiment and cause,
shown on the experiment's page, and posted as JSON to ``alert_webhook`` when
one is set (one attempt; a failure is kept beside the alert).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tinylift.analysis.scorecard import Scorecard
    from tinylift.service.workspace import Workspace

__all__ = ["CAUSES", "alerts_of", "causes", "raise_alerts"]

CAUSES = ("srm", "guardrail", "ready")

#: Posts a JSON document to a URL; raises on failure. Replaceable in tests of I/O.
Post = Callable[[str, dict[str, Any]], None]


def causes(card: Scorecard, *, min_units: int) -> list[tuple[str, str]]:
    """The causes this scorecard gives to look at the experiment, with a sentence each."""
    if sum(card.units.values()) < min_units:
        return []
    out = []
    srm = next((c for c in card.checks if c.name == "srm" and c.status == "fail"), None)
    if srm is not None:
        out.append(("srm", f"sample ratio mismatch: {srm.message}"))
    worse = [r for r in card.rows if r.role == "guardrail" and r.verdict == "worse"]
    if worse:
        names = ", ".join(
            f"{r.metric} ({r.variant}, {100 * (r.rel_effect or 0):+.1f} %)" for r in worse
        )
        out.append(("guardrail", f"guardrail got significantly worse: {names}"))
    if card.recommendation in ("ship", "don't ship"):
        out.append(("ready", f"ready to decide: the rule recommends {card.recommendation}"))
    return out


def _post(url: str, doc: dict[str, Any]) -> None:
    import httpx

    httpx.post(url, json=doc, timeout=10).raise_for_status()


def raise_alerts(
    ws: Workspace, scorecards: Mapping[str, Scorecard], *, post: Post | None = None
) -> list[dict[str, Any]]:
    """Store (and post) the alerts these scorecards give that were not raised before."""
    from sqlalchemy import select

    from tinylift.registry import get_experiment
    from tinylift.registry.models import Alert

    settings = ws.settings
    send = post or _post
    raised = []
    for key, card in scorecards.items():
        found = causes(card, min_units=settings.alert_min_units)
        if not found:
            continue
        with ws.registry() as reg, reg.session() as s:
            exp = get_experiment(s, key=key)
            known = set(s.scalars(select(Alert.cause).where(Alert.experiment_id == exp.id)))
            for cause, message in found:
                if cause in known:
                    continue
                alert = Alert(experiment_id=exp.id, cause=cause, message=message)
                doc = {
                    "experiment": key,
                    "name": exp.name,
                    "team": exp.team.key,
                    "cause": cause,
                    "message": message,
                    "data_cutoff": card.data_cutoff,
                }
                if settings.alert_webhook:
                    try:
                        send(settings.alert_webhook, doc)
                        alert.delivered_at = datetime.now(UTC)
                    except Exception as exc:  # the alert stays on the page either way
                        alert.error = f"{type(exc).__name__}: {exc}"[:500]
                s.add(alert)
                raised.append(doc)
    return raised


def alerts_of(ws: Workspace, key: str) -> list[dict[str, Any]]:
    """An experiment's alerts, oldest first."""
    from sqlalchemy import select

    from tinylift.registry import get_experiment
    from tinylift.registry.models import Alert

    with ws.registry() as reg, reg.session() as s:
        exp = get_experiment(s, key=key)
        rows = s.scalars(select(Alert).where(Alert.experiment_id == exp.id).order_by(Alert.id))
        return [
            {
                "cause": a.cause,
                "message": a.message,
                "created_at": a.created_at.isoformat(),
                "delivered": a.delivered_at is not None,
                "error": a.error,
            }
            for a in rows
        ]
