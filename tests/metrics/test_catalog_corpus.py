"""The hostile catalog corpus: refused with a message, or valid and run by the engine."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from tests.metrics.catalog_corpus import CatalogCase, cases

from tinylift.errors import ConfigError
from tinylift.metrics import load_catalog
from tinylift.warehouse import DuckDBEngine, refresh
from tinylift.warehouse.contract import ExperimentWindow
from tinylift.warehouse.schema import EVENTS_SCHEMA, EXPOSURES_SCHEMA

CASES = list(cases())


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 250
    assert sum(c.ok for c in CASES) >= 60
    assert sum(not c.ok for c in CASES) >= 150


@pytest.fixture(scope="module")
def engine() -> Iterator[DuckDBEngine]:
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    units = [f"u{i}" for i in range(400)]
    exposures = pa.table(
        {
            "experiment_key": ["exp"] * len(units),
            "variant_key": ["control" if i % 2 else "treatment" for i in range(len(units))],
            "unit_id": units,
            "timestamp": [t0 + timedelta(minutes=i) for i in range(len(units))],
            "country": ["US"] * len(units),
            "platform": ["web"] * len(units),
            "attributes": [None] * len(units),
        },
        schema=EXPOSURES_SCHEMA,
    )
    rows = []
    for i, u in enumerate(units):
        for j in range(i % 4):
            rows.append(
                (
                    f"e{i}-{j}",
                    u,
                    t0 + timedelta(days=1, minutes=i),
                    "purchase" if j % 2 else "visit",
                    float(i % 17),
                    json.dumps(
                        {
                            "category": ["camera", "no", "5", "日本語"][i % 4],
                            "price": i % 9,
                            "gift": [True, "no", 80][j % 3],
                        }
                    ),
                )
            )
    names = ("event_id", "unit_id", "timestamp", "event_name", "value", "properties")
    events = pa.table({n: [r[k] for r in rows] for k, n in enumerate(names)}, schema=EVENTS_SCHEMA)
    duck = DuckDBEngine()
    duck.register("exposures", exposures)
    duck.register("events", events)
    yield duck
    duck.close()


def _run(case: CatalogCase, tmp_path: Path, engine: DuckDBEngine) -> str | None:
    """What went wrong with this case, or None."""
    path = tmp_path / f"{case.name[:3]}.yml"
    path.write_bytes(case.text if isinstance(case.text, bytes) else case.text.encode())
    try:
        catalog = load_catalog(path)
    except ConfigError as exc:
        if case.ok:
            return f"refused: {exc}"
        if case.where and case.where.lower() not in str(exc).lower():
            return f"refused without naming {case.where!r}: {exc}"
        if len(str(exc)) > 500:
            return f"a refusal of {len(str(exc))} characters"
        return None
    except Exception as exc:  # a crash: the thing this corpus is for
        return f"crashed: {type(exc).__name__}: {str(exc)[:200]}"
    if not case.ok:
        return "validated, but must be refused"
    window = ExperimentWindow(
        "exp",
        ("control", "treatment"),
        tuple(catalog.metrics),
        end=datetime(2026, 4, 1, tzinfo=UTC),
    )
    try:
        refresh(engine, catalog, [window])
    except Exception as exc:
        return f"validated, then failed in the engine: {type(exc).__name__}: {str(exc)[:200]}"
    return None


def test_every_catalog_is_refused_with_a_message_or_runs(
    tmp_path: Path, engine: DuckDBEngine
) -> None:
    wrong = [f"{c.name}: {msg}" for c in CASES if (msg := _run(c, tmp_path, engine))]
    assert not wrong, f"{len(wrong)} of {len(CASES)}:\n" + "\n".join(wrong)
