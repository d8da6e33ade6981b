"""The incremental refresh on Spark (local mode) gives the statistics of a full refresh.

Loads arrive as Parquet files, each row carrying the number of its load
(``load_seq``), as a data pipeline appending to a lake would write them; the
state lives in Parquet versions under the engine's ``state_dir``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.warehouse.conftest import windows_for
from tests.warehouse.test_incremental import _at, _slices, assert_same

from tinylift.demo.dataset import Company
from tinylift.errors import WarehouseError
from tinylift.metrics import Catalog
from tinylift.warehouse import ExperimentWindow, Refresh, refresh
from tinylift.warehouse.engine import SparkEngine
from tinylift.warehouse.state_files import POINTER

pytestmark = pytest.mark.slow

EX, EV = "lake_exposures", "lake_events"


class Lake:
    """Exposures and events as Parquet datasets, one file per load."""

    def __init__(self, root: Path, spark: SparkEngine) -> None:
        self.root = root
        self.seq = 0
        self.engine = SparkEngine(spark.session, state_dir=root / "state")

    def load(self, exposures: pa.Table, events: pa.Table) -> None:
        self.seq += 1
        for name, rows in ((EX, exposures), (EV, events)):
            seq = pa.array(np.full(rows.num_rows, self.seq), pa.int64())
            (self.root / name).mkdir(exist_ok=True)
            pq.write_table(rows.append_column("load_seq", seq), self.root / name / f"{self.seq}.pq")
            self.engine.view_parquet(name, self.root / name)

    def both(self, catalog: Catalog, windows: list[ExperimentWindow]) -> tuple[Refresh, Refresh]:
        kw = {"exposures": EX, "events": EV, "dimensions": ["country"]}
        inc = refresh(self.engine, catalog, windows, incremental=True, **kw)  # type: ignore[arg-type]
        full = refresh(self.engine, catalog, windows, **kw)  # type: ignore[arg-type]
        return inc, full


def _subset(company: Company, windows: list[ExperimentWindow]) -> tuple[pa.Table, pa.Table]:
    keys = pa.array([w.key for w in windows])
    ex = company.exposures.filter(pc.is_in(company.exposures["experiment_key"], keys))
    ev = company.events.filter(pc.is_in(company.events["unit_id"], pc.unique(ex["unit_id"])))
    return ex, ev


@settings(
    max_examples=2,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 2**32 - 1),
    cuts=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=2),
    step_days=st.integers(0, 60),
)
def test_any_split_of_the_loads_equals_a_full_refresh_on_spark(
    tmp_path_factory: pytest.TempPathFactory,
    spark: SparkEngine,
    small_company: Company,
    demo_catalog: Catalog,
    seed: int,
    cuts: list[float],
    step_days: int,
) -> None:
    """Rows in random order (late rows everywhere), cut into loads at random points, a
    tenth of each load's events sent again in the next; the cutoff moves ``step_days``."""
    rng = np.random.default_rng(seed)
    every = windows_for(small_company, demo_catalog)
    windows = [every[int(i)] for i in rng.choice(len(every), size=2, replace=False)]
    ex, ev = _subset(small_company, windows)
    lake = Lake(tmp_path_factory.mktemp("lake"), spark)
    ex_parts = _slices(ex, cuts, rng.permutation(ex.num_rows))
    ev_parts = _slices(ev, cuts, rng.permutation(ev.num_rows))
    again = ev.slice(0, 0)
    cutoff = datetime(2026, 6, 1, tzinfo=UTC)
    for i, (x, e) in enumerate(zip(ex_parts, ev_parts, strict=True)):
        lake.load(x, pa.concat_tables([e, again]))
        again = e.filter(pa.array(rng.random(e.num_rows) < 0.1))
        cutoff += timedelta(days=step_days)
        inc, full = lake.both(demo_catalog, _at(windows, cutoff))
        assert_same(inc, full)
        assert inc.state is not None
        # the watermark: the last load that brought any row (an empty one numbers none)
        brought = [j + 1 for j in range(i + 1) if ex_parts[j].num_rows or ev_parts[j].num_rows]
        assert inc.state.seq == max(brought, default=0)
        done = inc.state.rebuilt if i == 0 else (*inc.state.updated, *inc.state.current)
        assert set(done) == {w.key for w in windows}
    assert [p.name for p in (lake.root / "state").glob("units-*")] == [f"units-{len(ex_parts)}"]


def test_a_restated_load_is_folded_in_exactly_on_spark(
    tmp_path: Path, spark: SparkEngine, small_company: Company, demo_catalog: Catalog
) -> None:
    """A load replaces some units' events (new values): the rows are rewritten and the
    units named in ``restated``; the next refresh rebuilds exactly those units."""
    windows = windows_for(small_company, demo_catalog)[:2]
    ex, ev = _subset(small_company, windows)
    lake = Lake(tmp_path, spark)
    lake.load(ex, ev)
    at = _at(windows, datetime(2027, 1, 1, tzinfo=UTC))
    inc, _ = lake.both(demo_catalog, at)
    units = pc.unique(ex["unit_id"]).slice(0, 50)
    hit = pc.is_in(ev["unit_id"], units)
    # the pipeline rewrites load 1 without those units' events, and load 2 brings them
    # again with tripled values
    pq.write_table(
        ev.filter(pc.invert(hit)).append_column(
            "load_seq", pa.array(np.ones(ev.num_rows - pc.sum(hit).as_py()), pa.int64())
        ),
        tmp_path / EV / "1.pq",
    )
    changed = ev.filter(hit)
    changed = changed.set_column(
        changed.schema.get_field_index("value"),
        "value",
        pc.multiply(pc.fill_null(changed["value"], 1.0), 3.0),
    )
    lake.load(ex.slice(0, 0), changed)
    spark.register(
        "restated",
        pa.table({"kind": ["events"] * len(units), "unit_id": units, "load_seq": [2] * len(units)}),
    )
    try:
        inc, full = lake.both(demo_catalog, at)
    finally:
        spark.session.catalog.dropTempView("restated")
    assert_same(inc, full)
    assert inc.state is not None
    assert inc.state.touched >= len(units)
    first = next(iter(inc.experiments.values())).metrics
    assert any(m.s.sum() > 0 for m in first.values())


_CHILD = """
import sys, time
from datetime import datetime
from importlib.resources import files
from pathlib import Path
from tests.warehouse.conftest import windows_for
from tests.warehouse.test_incremental import _at
from tinylift.demo.dataset import generate
from tinylift.metrics import parse_catalog
from tinylift.warehouse import refresh
from tinylift.warehouse.engine import SparkEngine

root = Path(sys.argv[1])
catalog = parse_catalog(files("tinylift.demo").joinpath("metrics.yml").read_text())
windows = windows_for(generate(6_000, seed=11), catalog)[:2]
windows = _at(windows, datetime.fromisoformat(sys.argv[2]))
eng = SparkEngine(state_dir=root / "state")
for name in ("lake_exposures", "lake_events"):
    eng.view_parquet(name, root / name)

def progress(stage, done, total):
    print(stage, flush=True)
    if stage == "state versions written":
        time.sleep(600)  # killed here: the new version is written, the pointer not yet

refresh(eng, catalog, windows, incremental=True, exposures="lake_exposures",
        events="lake_events", on_progress=progress)
"""


def test_a_refresh_killed_before_the_pointer_moves_leaves_the_previous_state(
    tmp_path: Path, spark: SparkEngine, small_company: Company, demo_catalog: Catalog
) -> None:
    """SIGKILL after the new version is written, before the pointer swap: the previous
    version stays in use, and the next refresh removes the half-done one and completes."""
    windows = windows_for(small_company, demo_catalog)[:2]
    ex, ev = _subset(small_company, windows)
    lake = Lake(tmp_path, spark)
    half = datetime(2026, 7, 1, tzinfo=UTC)
    early = pc.less(ev["timestamp"], pa.scalar(half, pa.timestamp("us", "UTC")))
    lake.load(ex, ev.filter(early))
    lake.both(demo_catalog, _at(windows, half))
    lake.load(ex.slice(0, 0), ev.filter(pc.invert(early)))
    pointer = (tmp_path / "state" / POINTER).read_text()
    later = datetime(2026, 12, 1, tzinfo=UTC)
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(tmp_path), later.isoformat()],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert child.stdout is not None
    stages = []
    with child.stdout:
        for line in child.stdout:
            stages.append(line.strip())
            if stages[-1] == "state versions written":
                break
        child.kill()
        child.wait(timeout=120)
    assert stages[-1] == "state versions written", stages
    assert (tmp_path / "state" / POINTER).read_text() == pointer  # the old state stands
    assert len(list((tmp_path / "state").glob("units-*"))) == 2  # and the unfinished one
    inc, full = lake.both(demo_catalog, _at(windows, later))
    assert_same(inc, full)
    assert inc.state is not None
    assert set(inc.state.updated) == {w.key for w in windows}
    assert json.loads((tmp_path / "state" / POINTER).read_text())["version"] == 2
    assert len(list((tmp_path / "state").glob("units-*"))) == 1


def test_spark_without_a_state_dir_or_load_numbers_says_what_is_missing(
    spark: SparkEngine, small_company: Company, demo_catalog: Catalog
) -> None:
    windows = windows_for(small_company, demo_catalog)[:1]
    with pytest.raises(WarehouseError, match=r"state_dir"):
        refresh(spark, demo_catalog, windows, incremental=True)
    engine = SparkEngine(spark.session, state_dir="/nonexistent/never-written")
    with pytest.raises(WarehouseError, match=r"'exposures' has no load_seq column"):
        refresh(engine, demo_catalog, windows, incremental=True)
