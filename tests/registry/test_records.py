"""Snapshots (immutable), decisions resting on them, learnings found again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tinylift.errors import Conflict
from tinylift.registry import (
    Registry,
    add_learning,
    add_snapshot,
    create_experiment,
    decide,
    get_snapshot,
    latest_snapshot,
    search_learnings,
    snapshots_of,
    start_experiment,
)
from tinylift.registry.records import digest

CUTOFF = datetime(2026, 5, 1, tzinfo=UTC)


def _running(registry: Registry, key: str = "exp") -> None:
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
        start_experiment(s, key=key)


def _snap(registry: Registry, results: dict[str, object], key: str = "exp") -> int:
    with registry.session() as s:
        snap = add_snapshot(
            s,
            key=key,
            data_cutoff=CUTOFF,
            catalog_version="abc",
            settings={"alpha": 0.05},
            results=results,
            recommendation="ship",
        )
        return snap.id


def test_snapshots_keep_what_was_computed(registry: Registry) -> None:
    _running(registry)
    first = _snap(registry, {"lift": 0.01})
    second = _snap(registry, {"lift": 0.02})
    with registry.session() as s:
        assert [x.id for x in snapshots_of(s, key="exp")] == [first, second]
        snap = latest_snapshot(s, key="exp")
        assert snap.results == {"lift": 0.02}
        assert snap.data_cutoff == CUTOFF
        assert snap.digest == digest({"lift": 0.02})


def test_snapshots_cannot_be_changed_through_the_orm(registry: Registry) -> None:
    _running(registry)
    sid = _snap(registry, {"lift": 0.01})
    with pytest.raises(Conflict, match="immutable"), registry.session() as s:
        get_snapshot(s, id=sid).results = {"lift": 0.5}
    with pytest.raises(Conflict, match="immutable"), registry.session() as s:
        s.delete(get_snapshot(s, id=sid))
    with registry.session() as s:
        assert get_snapshot(s, id=sid).results == {"lift": 0.01}


def test_snapshots_cannot_be_changed_in_sql_either(registry: Registry) -> None:
    _running(registry)
    sid = _snap(registry, {"lift": 0.01})
    with pytest.raises(DBAPIError, match="immutable"), registry.engine.begin() as conn:
        conn.execute(text("UPDATE snapshots SET recommendation = 'x' WHERE id = :i"), {"i": sid})
    with registry.session() as s:
        assert get_snapshot(s, id=sid).recommendation == "ship"


def test_a_draft_cannot_be_analysed(registry: Registry) -> None:
    with registry.session() as s:
        create_experiment(
            s,
            spec={
                "key": "d",
                "name": "d",
                "team": "product",
                "variants": [{"key": "a", "weight": 1}, {"key": "b", "weight": 1}],
            },
        )
    with pytest.raises(Conflict, match="draft"):
        _snap(registry, {}, key="d")


def test_a_decision_rests_on_the_latest_snapshot(registry: Registry) -> None:
    _running(registry)
    _snap(registry, {"lift": 0.01})
    latest = _snap(registry, {"lift": 0.02})
    with registry.session() as s:
        d = decide(s, key="exp", outcome="ship", variant="b", rationale="r", decided_by="x")
        assert d.snapshot_id == latest
        assert d.recommendation == "ship"


def test_learnings_are_found_by_words_tags_and_experiment(registry: Registry) -> None:
    _running(registry, "price-discount-10")
    with registry.session() as s:
        add_learning(
            s,
            text="Discounts lift conversion but returns eat the gain.",
            tags=["Pricing", "returns"],
            key="price-discount-10",
        )
        add_learning(s, text="Video on product pages did nothing.", tags=["product page"])
        add_learning(s, text="100% of users ignore the 50_50 banner")
    with registry.session() as s:
        assert [t for _, t in search_learnings(s, text="RETURNS")] == ["price-discount-10"]
        assert len(search_learnings(s, text="pricing")) == 1  # a tag, case-insensitive
        assert len(search_learnings(s, text="discount gain")) == 1  # every word must match
        assert len(search_learnings(s, text="discount video")) == 0
        assert len(search_learnings(s, text="price-discount")) == 1  # the experiment key
        # LIKE wildcards are searched for literally
        assert [lr.text for lr, _ in search_learnings(s, text="100%")] == [
            "100% of users ignore the 50_50 banner"
        ]
        assert search_learnings(s, text="100_") == []  # "_" would match "%"
