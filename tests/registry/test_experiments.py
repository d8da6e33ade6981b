"""Experiments in the registry: creation, lifecycle, bad input, two writers at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tinylift.errors import Conflict, DataError, NotFound, TinyliftError
from tinylift.metrics import parse_catalog
from tinylift.registry import (
    ExperimentPublic,
    Registry,
    add_anecdote,
    anecdotes_of,
    create_experiment,
    create_user,
    decide,
    decision_of,
    get_experiment,
    list_experiments,
    list_users,
    start_experiment,
    stop_experiment,
)

CATALOG = """
events:
  purchase: {}
metrics:
  - {name: conversion, type: proportion, event: purchase, role: oec}
  - {name: orders, type: mean, event: purchase}
"""


def spec(key: str = "pdp-video", **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "key": key,
        "name": "Setup video",
        "hypothesis": "A video lifts conversion.",
        "area": "product page",
        "team": "product",
        "variants": [{"key": "control", "weight": 0.5}, {"key": "treatment", "weight": 0.5}],
        "oec": "conversion",
        "secondary": ["orders"],
        "planned_units": 10_000,
    }
    return base | over


def test_lifecycle_draft_running_stopped_decided(registry: Registry) -> None:
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    with registry.session() as s:
        exp = create_experiment(s, spec=spec())
        assert exp.status == "draft"
    with registry.session() as s:
        start_experiment(s, key="pdp-video", at=t0)
    with registry.session() as s:
        stop_experiment(s, key="pdp-video", at=t0 + timedelta(days=14))
    with registry.session() as s:
        decide(s, key="pdp-video", outcome="abandon", rationale="no lift", decided_by="ana")
    with registry.session() as s:
        exp = get_experiment(s, key="pdp-video")
        pub = ExperimentPublic.of(exp)
        assert pub.status == "decided"
        assert pub.oec == "conversion"
        assert pub.secondary == ["orders"]
        assert pub.started_at == t0
        assert [(p.number, p.started_at, p.ended_at) for p in exp.phases] == [
            (1, t0, t0 + timedelta(days=14))
        ]
        d = decision_of(s, key="pdp-video")
        assert d is not None
        assert (d.outcome, d.rationale, d.decided_by) == (
            "abandon",
            "no lift",
            "ana",
        )


def test_deciding_a_running_experiment_stops_it_and_ship_names_the_variant(
    registry: Registry,
) -> None:
    with registry.session() as s:
        create_experiment(s, spec=spec())
        start_experiment(s, key="pdp-video")
        d = decide(s, key="pdp-video", outcome="ship", rationale="won", decided_by="ana")
        assert d.variant == "treatment"
        exp = get_experiment(s, key="pdp-video")
        assert exp.stopped_at is not None
        assert exp.phases[0].ended_at is not None


@pytest.mark.parametrize(
    ("action", "status", "message"),
    [
        ("decide", "draft", "still a draft"),
        ("stop", "draft", "still a draft"),
        ("start", "running", "already running"),
        ("decide", "decided", "already decided"),
        ("start", "decided", "already decided"),
    ],
)
def test_invalid_transitions_are_conflicts(
    registry: Registry, action: str, status: str, message: str
) -> None:
    with registry.session() as s:
        create_experiment(s, spec=spec())
        if status != "draft":
            start_experiment(s, key="pdp-video")
        if status == "decided":
            decide(s, key="pdp-video", outcome="iterate", rationale="r", decided_by="x")
    run: dict[str, Callable[..., Any]] = {
        "start": lambda s: start_experiment(s, key="pdp-video"),
        "stop": lambda s: stop_experiment(s, key="pdp-video"),
        "decide": lambda s: decide(
            s, key="pdp-video", outcome="ship", rationale="r", decided_by="x"
        ),
    }
    with pytest.raises(Conflict, match=message), registry.session() as s:
        run[action](s)
    with registry.session() as s:  # nothing changed
        assert get_experiment(s, key="pdp-video").status == status


def test_duplicate_key_is_a_conflict(registry: Registry) -> None:
    with registry.session() as s:
        create_experiment(s, spec=spec())
    with pytest.raises(Conflict, match="already exists"), registry.session() as s:
        create_experiment(s, spec=spec(name="Other"))


@pytest.mark.parametrize(
    ("over", "field", "message"),
    [
        ({"key": "bad key!"}, "key", "pattern"),
        ({"variants": [{"key": "control", "weight": 1}]}, "variants", "at least 2"),
        (
            {"variants": [{"key": "a", "weight": 1}, {"key": "a", "weight": 1}]},
            "variants",
            "repeated: a",
        ),
        ({"area": "astrology"}, "area", "product page"),
        ({"coverage": 1.5}, "coverage", "less than or equal to 1"),
        ({"guardrails": ["conversion"]}, "input", "given twice: conversion"),
    ],
)
def test_invalid_design_names_the_field(
    registry: Registry, over: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(DataError) as info, registry.session() as s:
        create_experiment(s, spec=spec(**over))
    assert f"field {field!r}" in str(info.value) or field == "input"
    assert message in str(info.value)


def test_unknown_team_metric_and_experiment_are_not_found(registry: Registry) -> None:
    catalog = parse_catalog(CATALOG, origin="metrics.yml")
    with (
        pytest.raises(NotFound, match=r"no team 'prodcut'.*did you mean product"),
        registry.session() as s,
    ):
        create_experiment(s, spec=spec(team="prodcut"))
    with (
        pytest.raises(NotFound, match=r"no metric 'conversoin'.*did you mean conversion"),
        registry.session() as s,
    ):
        create_experiment(s, spec=spec(oec="conversoin"), catalog=catalog)
    with registry.session() as s:
        create_experiment(s, spec=spec(), catalog=catalog)
    with (
        pytest.raises(NotFound, match=r"no experiment 'pdp-vidoe'.*did you mean pdp-video"),
        registry.session() as s,
    ):
        start_experiment(s, key="pdp-vidoe")


def test_decision_and_anecdote_input_is_checked(registry: Registry) -> None:
    with registry.session() as s:
        create_experiment(s, spec=spec())
        start_experiment(s, key="pdp-video")
    with (
        pytest.raises(DataError, match=r"outcome must be one of ship, iterate, abandon"),
        registry.session() as s,
    ):
        decide(s, key="pdp-video", outcome="yolo", rationale="r", decided_by="x")
    with pytest.raises(DataError, match="rationale"), registry.session() as s:
        decide(s, key="pdp-video", outcome="ship", rationale="  ", decided_by="x")
    with pytest.raises(DataError, match="no variant 'blue'"), registry.session() as s:
        decide(s, key="pdp-video", outcome="ship", variant="blue", rationale="r", decided_by="x")
    with pytest.raises(DataError, match="field 'sentiment'"), registry.session() as s:
        add_anecdote(s, key="pdp-video", anecdote={"text": "t", "source": "s", "sentiment": "meh"})
    with pytest.raises(DataError, match="no variant 'blue'"), registry.session() as s:
        add_anecdote(
            s,
            key="pdp-video",
            anecdote={"text": "t", "source": "s", "sentiment": "positive", "variant": "blue"},
        )
    with registry.session() as s:
        assert get_experiment(s, key="pdp-video").status == "running"
        assert anecdotes_of(s, key="pdp-video") == []


def test_list_filters_by_status_and_team(registry: Registry) -> None:
    with registry.session() as s:
        create_experiment(s, spec=spec("a"))
        create_experiment(s, spec=spec("b", team="sales"))
        start_experiment(s, key="b")
    with registry.session() as s:
        assert [e.key for e in list_experiments(s)] == ["b", "a"]
        assert [e.key for e in list_experiments(s, status="running")] == ["b"]
        assert [e.key for e in list_experiments(s, team="product")] == ["a"]


def test_an_unreachable_registry_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TinyliftError, match="unavailable"):
        Registry("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(TinyliftError, match="registry_url"):
        Registry("nosuchdb://x")


# -- two writers at once ---------------------------------------------------------------


def _race(n: int, fn: Callable[[int], None]) -> tuple[int, list[BaseException]]:
    """Run ``fn`` in n threads released together; (successes, errors)."""
    barrier = threading.Barrier(n)
    ok: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        barrier.wait()
        try:
            fn(i)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        else:
            with lock:
                ok.append(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return len(ok), errors


def test_concurrent_creates_of_one_key_give_one_experiment(registry: Registry) -> None:
    def create(i: int) -> None:
        with registry.session() as s:
            create_experiment(s, spec=spec(name=f"writer {i}"))

    ok, errors = _race(8, create)
    assert ok == 1
    assert len(errors) == 7
    assert all(isinstance(e, Conflict) for e in errors), errors
    with registry.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM experiments")).scalar() == 1


def test_concurrent_decisions_record_exactly_one(registry: Registry) -> None:
    with registry.session() as s:
        create_experiment(s, spec=spec())
        start_experiment(s, key="pdp-video")

    def decide_it(i: int) -> None:
        with registry.session() as s:
            decide(s, key="pdp-video", outcome="abandon", rationale=f"writer {i}", decided_by="x")

    ok, errors = _race(8, decide_it)
    assert ok == 1
    assert all(isinstance(e, Conflict) for e in errors), errors
    with registry.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM decisions")).scalar() == 1
        phases = conn.execute(text("SELECT count(*) FROM phases")).scalar()
    assert phases == 1
    with registry.session() as s:
        assert get_experiment(s, key="pdp-video").status == "decided"


def test_concurrent_starts_open_one_phase(registry: Registry) -> None:
    with registry.session() as s:
        create_experiment(s, spec=spec())

    def start(i: int) -> None:
        with registry.session() as s:
            start_experiment(s, key="pdp-video")

    ok, errors = _race(6, start)
    assert ok == 1
    assert all(isinstance(e, Conflict) for e in errors), errors
    with registry.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM phases")).scalar() == 1


def test_concurrent_anecdotes_are_all_kept(registry: Registry) -> None:
    with registry.session() as s:
        create_experiment(s, spec=spec())

    def add(i: int) -> None:
        for j in range(20):
            with registry.session() as s:
                add_anecdote(
                    s,
                    key="pdp-video",
                    anecdote={"text": f"{i}-{j}", "source": "ticket", "sentiment": "neutral"},
                )

    ok, errors = _race(6, add)
    assert not errors, errors
    assert ok == 6
    with registry.session() as s:
        texts = sorted(a.text for a in anecdotes_of(s, key="pdp-video"))
    assert texts == sorted(f"{i}-{j}" for i in range(6) for j in range(20))


def test_users_belong_to_teams_and_handles_are_unique(registry: Registry) -> None:
    with registry.session() as s:
        create_user(s, handle="ana", name="Ana", team="product")
        create_user(s, handle="bo", team="sales")
    with pytest.raises(Conflict, match="user 'ana' already exists"), registry.session() as s:
        create_user(s, handle="ana")
    with pytest.raises(NotFound, match="no team 'ops'"), registry.session() as s:
        create_user(s, handle="cy", team="ops")
    with registry.session() as s:
        assert [u.handle for u in list_users(s)] == ["ana", "bo"]
        assert [u.handle for u in list_users(s, team="product")] == ["ana"]
