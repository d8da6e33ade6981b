"""Dates are data: an experiment's record can be corrected, and every change is kept."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tinylift.errors import Conflict, DataError
from tinylift.registry import (
    Registry,
    add_anecdote,
    add_snapshot,
    changes_of,
    create_experiment,
    delete_experiment,
    edit_experiment,
    get_experiment,
    list_experiments,
    start_experiment,
    stop_experiment,
)

MARCH = datetime(2026, 3, 1, tzinfo=UTC)
APRIL = datetime(2026, 4, 1, tzinfo=UTC)


def _create(registry: Registry, key: str = "exp") -> None:
    with registry.session() as s:
        create_experiment(
            s,
            spec={
                "key": key,
                "name": key,
                "team": "product",
                "variants": [{"key": "control", "weight": 1}, {"key": "b", "weight": 1}],
            },
        )


def test_dates_are_corrected_with_their_history(registry: Registry) -> None:
    _create(registry)
    with registry.session() as s:
        start_experiment(s, key="exp")  # started "now" by mistake
        stop_experiment(s, key="exp")
    with registry.session() as s:
        edit_experiment(
            s,
            key="exp",
            changes={"started_at": MARCH, "stopped_at": APRIL, "planned_mde": 0.02},
            by="ana",
            reason="registered after the fact",
        )
    with registry.session() as s:
        exp = get_experiment(s, key="exp")
        assert (exp.started_at, exp.stopped_at, exp.planned_mde) == (MARCH, APRIL, 0.02)
        assert (exp.phases[0].started_at, exp.phases[-1].ended_at) == (MARCH, APRIL)
        changes = changes_of(s, key="exp")
        assert [c.field for c in changes] == ["started_at", "stopped_at", "planned_mde"]
        assert changes[0].new == MARCH.isoformat()
        assert changes[0].old is not None
        assert {c.changed_by for c in changes} == {"ana"}
        assert {c.reason for c in changes} == {"registered after the fact"}


@pytest.mark.parametrize(
    ("status", "changes", "error", "match"),
    [
        ("draft", {"started_at": MARCH}, Conflict, "is a draft"),
        ("running", {"stopped_at": APRIL}, Conflict, "has not stopped"),
        ("stopped", {"started_at": datetime(2027, 1, 1, tzinfo=UTC)}, DataError, "before start"),
        ("stopped", {"started_at": datetime(2026, 3, 1)}, DataError, "with a zone"),
        ("stopped", {"variants": []}, DataError, "cannot edit variants"),
        ("stopped", {"planned_mde": 2.0}, DataError, "planned_mde"),
    ],
)
def test_impossible_corrections_say_why(
    registry: Registry,
    status: str,
    changes: dict[str, object],
    error: type[Exception],
    match: str,
) -> None:
    _create(registry)
    with registry.session() as s:
        if status != "draft":
            start_experiment(s, key="exp", at=MARCH)
        if status == "stopped":
            stop_experiment(s, key="exp", at=APRIL)
    with pytest.raises(error, match=match), registry.session() as s:
        edit_experiment(s, key="exp", changes=changes, by="ana", reason="fix")
    with registry.session() as s:
        assert changes_of(s, key="exp") == []


def test_a_correction_needs_a_reason(registry: Registry) -> None:
    _create(registry)
    with pytest.raises(DataError, match="say why"), registry.session() as s:
        edit_experiment(s, key="exp", changes={"name": "Better"}, by="ana", reason=" ")


def test_only_experiments_without_analyses_or_decisions_are_deleted(registry: Registry) -> None:
    _create(registry, "keep")
    _create(registry, "drop")
    with registry.session() as s:
        start_experiment(s, key="keep", at=MARCH)
        start_experiment(s, key="drop", at=MARCH)
        add_anecdote(
            s,
            key="drop",
            anecdote={"text": "hm", "source": "interview", "sentiment": "neutral"},
        )
        add_snapshot(
            s,
            key="keep",
            data_cutoff=APRIL,
            catalog_version="v",
            settings={},
            results={"rows": []},
            recommendation="keep running",
        )
    with registry.session() as s:
        delete_experiment(s, key="drop")
    with pytest.raises(Conflict, match="analyses or a decision"), registry.session() as s:
        delete_experiment(s, key="keep")
    with registry.session() as s:
        assert [e.key for e in list_experiments(s)] == ["keep"]
