"""Market tests in the registry: registered from markets.yml, their scorecards and decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tinylift.errors import ConfigError, NotFound
from tinylift.registry.models import OUTCOMES, MarketTest, utcnow

__all__ = ["all_tests", "decide", "register", "save_summary"]


def register(
    s: Session, key: str, name: str, team: str | None, design: dict[str, Any]
) -> MarketTest:
    """The test under ``key``, created or its design brought up to date."""
    row = s.scalar(select(MarketTest).where(MarketTest.key == key))
    if row is None:
        row = MarketTest(key=key, name=name, team=team, design=design, summary={}, reason="")
        s.add(row)
    else:
        row.name, row.team, row.design = name, team, design
    s.flush()
    return row


def save_summary(s: Session, key: str, summary: dict[str, Any], at: datetime | None = None) -> None:
    row = _get(s, key)
    row.summary = summary
    row.analysed_at = at or utcnow()


def decide(s: Session, key: str, outcome: str, reason: str, by: str) -> MarketTest:
    """Record the decision on a market test (a later one replaces it)."""
    if outcome not in OUTCOMES:
        raise ConfigError(f"choose {', '.join(OUTCOMES)}, not {outcome!r}", parameter="outcome")
    if not reason.strip():
        raise ConfigError("say why: a decision keeps its rationale", parameter="reason")
    row = _get(s, key)
    row.outcome, row.reason, row.decided_by, row.decided_at = outcome, reason, by, utcnow()
    return row


def all_tests(s: Session) -> list[MarketTest]:
    return list(s.scalars(select(MarketTest).order_by(MarketTest.key)))


def _get(s: Session, key: str) -> MarketTest:
    row = s.scalar(select(MarketTest).where(MarketTest.key == key))
    if row is None:
        raise NotFound(f"market test {key!r} is not in the registry (analyze it first)")
    return row
