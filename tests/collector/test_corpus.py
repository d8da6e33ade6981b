"""The hostile corpus: no 5xx, no traceback, and what was acknowledged is what is stored."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi.testclient import TestClient
from tests.collector.corpus import EXPERIMENT, VARIANTS, cases

from tinylift.collector import create_collector
from tinylift.service import Workspace
from tinylift.service.experiments import add_team, create_experiment

KEY = "k"
CATALOG = """
events:
  purchase: {}
metrics:
  - {name: conversion, type: proportion, event: purchase, role: oec}
"""


def test_the_corpus_is_large_enough() -> None:
    corpus = list(cases())
    assert len(corpus) >= 150
    assert len({c.name for c in corpus}) == len(corpus)  # each case named once


def _instant(value: Any) -> datetime:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _stored(root: Path) -> tuple[dict[str, tuple[Any, ...]], dict[str, tuple[Any, ...]]]:
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    try:
        events = {
            r[0]: r
            for r in con.execute(
                "select event_id, unit_id, timestamp, event_name, value, properties from events"
            ).fetchall()
        }
        exposures = {
            r[2]: r
            for r in con.execute(
                "select experiment_key, variant_key, unit_id, timestamp, country, platform, "
                "attributes from exposures"
            ).fetchall()
        }
        quarantined = con.execute("select count(*) from quarantine").fetchone()
        assert quarantined == (0,), "a row acknowledged by the collector was quarantined"
        return events, exposures
    finally:
        con.close()


def test_every_hostile_request_gets_its_outcome_and_acknowledged_means_stored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ws = Workspace.init(tmp_path)
    ws.catalog_path.write_text(CATALOG)
    add_team(ws, "growth")
    create_experiment(
        ws,
        {
            "key": EXPERIMENT,
            "name": "Corpus",
            "hypothesis": "none",
            "team": "growth",
            "area": "pricing",
            "planned_units": 1000,
            "variants": [{"key": v, "weight": 0.5} for v in VARIANTS],
        },
    )
    acknowledged: list[tuple[str, dict[str, Any]]] = []
    wrong: list[str] = []
    app = create_collector(ws, api_keys=[KEY], load_every=0.5)
    with caplog.at_level(logging.ERROR), TestClient(app) as client:
        for case in cases():
            r = client.post(
                f"/api/{case.kind}",
                content=case.body,
                headers={"X-API-Key": KEY, "Content-Type": "application/json"},
            )
            assert r.status_code < 500, case.name
            text = r.text
            assert "Traceback" not in text, case.name
            assert len(text) < 2_000, f"{case.name}: the answer echoes the request"
            if r.status_code != case.status:
                wrong.append(f"{case.name}: status {r.status_code}, expected {case.status}: {text}")
                continue
            if r.status_code != 200:
                continue
            got = r.json()
            refused = {x["index"]: x["field"] for x in got["rejected"]}
            expected_ok = [i for i, f in case.rows.items() if f is None and i < len(case.sent)]
            expected_bad = {i: f for i, f in case.rows.items() if i not in expected_ok}
            if (got["accepted"], got["duplicates"], refused) != (
                len(expected_ok),
                case.duplicates,
                expected_bad,
            ):
                wrong.append(f"{case.name}: {got}, expected rows {case.rows}")
                continue
            acknowledged += [(case.kind, case.sent[i]) for i in expected_ok]
        assert client.get("/api/health").json() == {"status": "ok"}
    assert not wrong, "\n".join(wrong)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not (ws.spool_path / "failed").exists(), "the loader set a spool file aside"

    events, exposures = _stored(tmp_path)
    sent_events = [row for kind, row in acknowledged if kind == "events"]
    sent_exposures = [row for kind, row in acknowledged if kind == "exposures"]
    assert len(events) == len(sent_events), "stored events are not the acknowledged ones"
    assert len(exposures) == len(sent_exposures)
    altered = []
    for row in sent_events:
        got = events.get(row["event_id"])
        want = (
            row["event_id"],
            row["unit_id"],
            _instant(row["timestamp"]),
            row["event_name"],
            None if row.get("value") is None else float(row["value"]),
            row.get("properties"),
        )
        if got is None or (*got[:5], None if got[5] is None else json.loads(got[5])) != want:
            altered.append(f"{want} stored as {got}")
    for row in sent_exposures:
        got = exposures.get(row["unit_id"])
        want = (
            row["experiment_key"],
            row["variant_key"],
            row["unit_id"],
            _instant(row["timestamp"]),
            row.get("country"),
            row.get("platform"),
            row.get("attributes"),
        )
        if got is None or (*got[:6], None if got[6] is None else json.loads(got[6])) != want:
            altered.append(f"{want} stored as {got}")
    assert not altered, "\n".join(a[:300] for a in altered)
