"""The incremental refresh gives the statistics of a full refresh of the same data.

Data reach a real DuckDB warehouse file in loads (the ingestion path's
``Warehouse.append`` and ``ingest``), split at random points, with late rows,
rows sent twice and restated loads; after every load the state is brought
forward and compared with a refresh that reads everything from scratch.
"""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.warehouse.conftest import windows_for

from tinylift.demo.dataset import Company
from tinylift.metrics import Catalog, parse_catalog
from tinylift.warehouse import ExperimentWindow, Refresh, refresh
from tinylift.warehouse.engine import DuckDBEngine
from tinylift.warehouse.load import ingest
from tinylift.warehouse.store import Warehouse

RTOL = 1e-9


def assert_same(inc: Refresh, full: Refresh) -> None:
    """Every experiment's counts and sufficient statistics agree to ``RTOL``."""
    assert inc.experiments.keys() == full.experiments.keys()
    for key, a in inc.experiments.items():
        b = full.experiments[key]
        assert a.units == b.units, key
        assert a.multi_variant_units == b.multi_variant_units, key
        assert a.unplanned_variant_units == b.unplanned_variant_units, key
        assert a.in_progress == b.in_progress, key
        assert a.metrics.keys() == b.metrics.keys()
        for name, mo in a.metrics.items():
            ref = b.metrics[name]
            for x, y in ((mo.n, ref.n), (mo.s, ref.s), (mo.ss, ref.ss)):
                np.testing.assert_allclose(x, y, rtol=RTOL, atol=1e-9, err_msg=f"{key} {name}")
        for name, qs in a.quantiles.items():
            ref_q = b.quantiles[name]
            np.testing.assert_allclose(qs.value, ref_q.value, rtol=RTOL, err_msg=name)
            np.testing.assert_allclose(qs.n, ref_q.n, rtol=RTOL, err_msg=name)
        for dim, groups in a.breakdowns.items():
            assert groups.keys() == b.breakdowns[dim].keys(), dim
            for g, ms in groups.items():
                for name, mo in ms.items():
                    ref = b.breakdowns[dim][g][name]
                    np.testing.assert_allclose(mo.s, ref.s, rtol=RTOL, atol=1e-9)
                    np.testing.assert_allclose(mo.ss, ref.ss, rtol=RTOL, atol=1e-9)


def _at(windows: list[ExperimentWindow], cutoff: datetime) -> list[ExperimentWindow]:
    return [dataclasses.replace(w, end=cutoff, enrol_end=cutoff) for w in windows]


def _both(
    path: Path, catalog: Catalog, windows: list[ExperimentWindow], **kw: object
) -> tuple[Refresh, Refresh]:
    eng = DuckDBEngine(path, slice_entries=1)  # the rebuild in slices of entry time
    try:
        inc = refresh(eng, catalog, windows, incremental=True, **kw)  # type: ignore[arg-type]
        full = refresh(eng, catalog, windows, **kw)  # type: ignore[arg-type]
    finally:
        eng.close()
    return inc, full


def _slices(table: pa.Table, cuts: list[float], order: np.ndarray) -> list[pa.Table]:
    """The rows of ``table`` in ``order``, cut at the fractions ``cuts``."""
    n = table.num_rows
    bounds = [0, *sorted(int(c * n) for c in cuts), n]
    return [table.take(pa.array(order[a:b])) for a, b in itertools.pairwise(bounds)]


@pytest.fixture(scope="module")
def company(small_company: Company) -> Company:
    return small_company


def test_loads_day_by_day_with_late_rows_equal_a_full_refresh(
    tmp_path: Path, company: Company, demo_catalog: Catalog
) -> None:
    """Ten loads: each mostly the next stretch of time, plus rows held back from earlier
    stretches (late) and rows timed after the load's cutoff (early clocks)."""
    windows = windows_for(company, demo_catalog)[:12]
    rng = np.random.default_rng(3)
    ex, ev = company.exposures, company.events
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    path = tmp_path / "wh.duckdb"
    Warehouse(path).close()
    sent_ex = np.zeros(ex.num_rows, bool)
    sent_ev = np.zeros(ev.num_rows, bool)
    ts_ex = pc.cast(ex["timestamp"], pa.int64()).to_numpy() / 1e6
    ts_ev = pc.cast(ev["timestamp"], pa.int64()).to_numpy() / 1e6
    for step in range(1, 11):
        cutoff = t0 + timedelta(days=36 * step)
        c = cutoff.timestamp()
        late_ex = rng.random(ex.num_rows) < 0.1  # held back this time
        late_ev = rng.random(ev.num_rows) < 0.1
        early_ev = rng.random(ev.num_rows) < 0.02  # timed after the cutoff
        take_ex = ~sent_ex & (((ts_ex < c) & ~late_ex) | (step == 10))
        take_ev = ~sent_ev & ((((ts_ev < c) & ~late_ev) | early_ev) | (step == 10))
        with Warehouse(path) as wh:
            wh.append("exposures", ex.filter(pa.array(take_ex)))
            wh.append("events", ev.filter(pa.array(take_ev)))
        sent_ex |= take_ex
        sent_ev |= take_ev
        inc, full = _both(path, demo_catalog, _at(windows, cutoff), dimensions=["country"])
        assert_same(inc, full)
        assert inc.state is not None
        if step == 1:
            assert set(inc.state.rebuilt) == {w.key for w in windows}
        else:
            assert set(inc.state.updated) == {w.key for w in windows}


def _write(table: pa.Table, path: Path) -> Path:
    pq.write_table(table, path)
    return path


def test_rows_sent_twice_and_a_restated_load_are_folded_in_exactly(
    tmp_path: Path, company: Company, demo_catalog: Catalog
) -> None:
    windows = _at(windows_for(company, demo_catalog)[:6], datetime(2027, 1, 1, tzinfo=UTC))
    path = tmp_path / "wh.duckdb"
    ex, ev = company.exposures, company.events
    half = ev.num_rows // 2
    with Warehouse(path) as wh:
        ingest(wh, _write(ex, tmp_path / "x.parquet"), "exposures")
        ingest(wh, _write(ev.slice(0, half), tmp_path / "e1.parquet"), "events")
    inc, full = _both(path, demo_catalog, windows)
    assert_same(inc, full)
    # the first half again (dropped as duplicates) with the second half
    with Warehouse(path) as wh:
        report = ingest(wh, _write(ev, tmp_path / "e2.parquet"), "events")
    assert report.duplicates == half
    inc, full = _both(path, demo_catalog, windows)
    assert_same(inc, full)
    # a restated load: a tenth of the events come again with corrected values
    fix = ev.take(pa.array(np.arange(0, ev.num_rows, 10)))
    fix = fix.set_column(
        fix.schema.get_field_index("value"),
        "value",
        pc.multiply(pc.fill_null(fix["value"], 1.0), 3.0),
    )
    before = full.experiments
    with Warehouse(path) as wh:
        report = ingest(wh, _write(fix, tmp_path / "fix.parquet"), "events", restate=True)
    assert report.replaced == fix.num_rows
    inc, full = _both(path, demo_catalog, windows)
    assert_same(inc, full)
    assert inc.state is not None
    assert inc.state.touched > 0
    # the corrected values reached the statistics (not only the state's bookkeeping)
    assert any(
        not np.allclose(before[k].metrics["revenue"].s, s.metrics["revenue"].s)
        for k, s in full.experiments.items()
    )


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 2**32 - 1),
    cuts=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=4),
    step_days=st.integers(0, 60),
)
def test_any_split_of_the_loads_equals_a_full_refresh(
    tmp_path_factory: pytest.TempPathFactory,
    company: Company,
    demo_catalog: Catalog,
    seed: int,
    cuts: list[float],
    step_days: int,
) -> None:
    """Exposures and events in random order (late rows everywhere), cut into loads at
    random points; the cutoff advances by ``step_days`` a load."""
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(windows_for(company, demo_catalog)), size=3, replace=False)
    windows = [windows_for(company, demo_catalog)[int(i)] for i in pick]
    keys = [w.key for w in windows]
    ex = company.exposures.filter(pc.is_in(company.exposures["experiment_key"], pa.array(keys)))
    units = pc.unique(ex["unit_id"])
    ev = company.events.filter(pc.is_in(company.events["unit_id"], units))
    path = tmp_path_factory.mktemp("hyp") / "wh.duckdb"
    ex_parts = _slices(ex, cuts, rng.permutation(ex.num_rows))
    ev_parts = _slices(ev, cuts, rng.permutation(ev.num_rows))
    cutoff = datetime(2026, 6, 1, tzinfo=UTC)
    for x, e in zip(ex_parts, ev_parts, strict=True):
        with Warehouse(path) as wh:
            wh.append("exposures", x)
            wh.append("events", e)
        cutoff += timedelta(days=step_days)
        assert_same(*_both(path, demo_catalog, _at(windows, cutoff)))


def _load_halves(path: Path, company: Company, first: bool) -> None:
    """The first (or second) half of the exposures and events, in time order, as a load."""
    with Warehouse(path) as wh:
        for kind, table in (("exposures", company.exposures), ("events", company.events)):
            order = np.argsort(pc.cast(table["timestamp"], pa.int64()).to_numpy(), kind="stable")
            half = table.num_rows // 2
            rows = order[:half] if first else order[half:]
            wh.append(kind, table.take(pa.array(rows)))  # type: ignore[arg-type]


def test_a_changed_metric_rebuilds_only_the_experiments_that_use_it(
    tmp_path: Path, company: Company, demo_catalog: Catalog
) -> None:
    text = (
        files("tinylift.demo").joinpath("metrics.yml").read_text()  # type: ignore[attr-defined]
    )
    base = windows_for(company, demo_catalog)[:4]
    windows = [
        dataclasses.replace(base[0], metrics=("revenue",)),
        dataclasses.replace(base[1], metrics=("conversion", "returns")),
        dataclasses.replace(base[2], metrics=("revenue", "conversion")),
        dataclasses.replace(base[3], metrics=("returns",)),
    ]
    windows = _at(windows, datetime(2027, 1, 1, tzinfo=UTC))
    path = tmp_path / "wh.duckdb"
    _load_halves(path, company, first=True)
    inc, full = _both(path, demo_catalog, windows)
    assert_same(inc, full)
    # revenue now counts 7 days after entry, not 14
    marker = "  - name: revenue\n"
    head, tail = text.split(marker)
    changed = parse_catalog(head + marker + "    window: {end_days: 7}\n" + tail)
    _load_halves(path, company, first=False)
    inc, full = _both(path, changed, windows)
    assert_same(inc, full)
    assert inc.state is not None
    assert set(inc.state.rebuilt) == {windows[0].key, windows[2].key}
    assert set(inc.state.updated) == {windows[1].key, windows[3].key}
    # the change reached the numbers
    assert not np.allclose(
        inc.experiments[windows[0].key].metrics["revenue"].s,
        _both(path, demo_catalog, windows)[1].experiments[windows[0].key].metrics["revenue"].s,
    )


def test_a_refresh_of_fewer_metrics_keeps_the_others_current(
    tmp_path: Path, company: Company, demo_catalog: Catalog
) -> None:
    """Analyses ask for more metrics than ``tinylift refresh``: neither undoes the other."""
    every = _at(windows_for(company, demo_catalog)[:5], datetime(2026, 7, 1, tzinfo=UTC))
    few = [dataclasses.replace(w, metrics=("conversion",)) for w in every]
    path = tmp_path / "wh.duckdb"
    _load_halves(path, company, first=True)
    assert_same(*_both(path, demo_catalog, every))
    _load_halves(path, company, first=False)
    later = _at(few, datetime(2026, 9, 1, tzinfo=UTC))
    inc, full = _both(path, demo_catalog, later)
    assert_same(inc, full)
    assert inc.state is not None
    assert set(inc.state.updated) == {w.key for w in every}
    inc, full = _both(path, demo_catalog, _at(every, datetime(2026, 11, 1, tzinfo=UTC)))
    assert_same(inc, full)
    assert inc.state is not None
    assert inc.state.rebuilt == ()
    assert set(inc.state.updated) == {w.key for w in every}


def test_an_earlier_cutoff_reads_the_raw_data_and_leaves_the_state(
    tmp_path: Path, company: Company, demo_catalog: Catalog
) -> None:
    windows = windows_for(company, demo_catalog)[:5]
    path = tmp_path / "wh.duckdb"
    _load_halves(path, company, first=True)
    _load_halves(path, company, first=False)
    late, early = datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 8, 1, tzinfo=UTC)
    inc, _ = _both(path, demo_catalog, _at(windows, late))
    assert inc.state is not None
    inc, full = _both(path, demo_catalog, _at(windows, early))
    assert inc.state is None  # the past is read from the raw data
    assert_same(inc, full)
    inc, full = _both(path, demo_catalog, _at(windows, late))
    assert inc.state is not None
    assert set(inc.state.current) == {w.key for w in windows}
    assert_same(inc, full)


def test_a_stopped_experiment_counts_windows_after_the_stop(
    tmp_path: Path, company: Company, demo_catalog: Catalog
) -> None:
    """Enrolment ends at the stop while events go on counting; a stop dated before the
    state's end of enrolment rebuilds that experiment alone."""
    windows = windows_for(company, demo_catalog)[:3]
    path = tmp_path / "wh.duckdb"
    _load_halves(path, company, first=True)
    _load_halves(path, company, first=False)
    running = _at(windows, datetime(2026, 9, 1, tzinfo=UTC))
    assert_same(*_both(path, demo_catalog, running))
    stop = datetime(2026, 8, 1, tzinfo=UTC)
    stopped = [
        dataclasses.replace(w, end=datetime(2026, 10, 1, tzinfo=UTC), enrol_end=stop)
        if i == 0
        else dataclasses.replace(w, end=datetime(2026, 10, 1, tzinfo=UTC))
        for i, w in enumerate(running)
    ]
    inc, full = _both(path, demo_catalog, stopped)
    assert_same(inc, full)
    assert inc.state is not None
    assert inc.state.rebuilt == (windows[0].key,)


_CHILD = """
import sys
from datetime import UTC, datetime
from importlib.resources import files
from tests.warehouse.conftest import windows_for
from tinylift.demo.dataset import generate
from tinylift.metrics import parse_catalog
from tinylift.warehouse import refresh
from tinylift.warehouse.engine import DuckDBEngine

catalog = parse_catalog(files("tinylift.demo").joinpath("metrics.yml").read_text())
windows = windows_for(generate(6_000, seed=11), catalog)
cutoff = datetime.fromisoformat(sys.argv[2])
import dataclasses
windows = [dataclasses.replace(w, end=cutoff, enrol_end=cutoff) for w in windows]
eng = DuckDBEngine(sys.argv[1])

def progress(stage, done, total):
    print(stage, flush=True)

refresh(eng, catalog, windows, incremental=True, full=sys.argv[3] == "full", on_progress=progress)
print("committed", flush=True)
"""


@pytest.mark.parametrize("how", ["forward", "full"])
def test_a_refresh_killed_mid_update_leaves_the_previous_state(
    tmp_path: Path, company: Company, demo_catalog: Catalog, how: str
) -> None:
    """SIGKILL once the update's transaction is open: the warehouse opens with the
    previous state and watermark, and the next refresh completes it exactly."""
    import subprocess
    import sys

    import duckdb

    windows = windows_for(company, demo_catalog)
    path = tmp_path / "wh.duckdb"
    _load_halves(path, company, first=True)
    first = datetime(2026, 7, 1, tzinfo=UTC)
    inc, _ = _both(path, demo_catalog, _at(windows, first))
    assert inc.state is not None
    _load_halves(path, company, first=False)

    def marks() -> list[tuple[object, ...]]:
        con = duckdb.connect(str(path), read_only=True)
        try:
            return con.execute(
                "SELECT experiment_key, cutoff, seq FROM tl_state ORDER BY 1"
            ).fetchall()
        finally:
            con.close()

    before = marks()
    later = datetime(2026, 12, 1, tzinfo=UTC)
    root = Path(__file__).resolve().parents[2]
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(path), later.isoformat(), how],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    with child.stdout:
        line = child.stdout.readline()  # the transaction is open
        child.kill()
        child.wait(timeout=60)
    assert line.strip() == "experiments updated"
    assert marks() == before  # nothing of the update survived
    inc, full = _both(path, demo_catalog, _at(windows, later))
    assert_same(inc, full)
    assert inc.state is not None
    assert set(inc.state.updated) == {w.key for w in windows}
    assert marks() != before


def test_loads_in_time_order_reuse_the_sums_of_closed_windows(
    tmp_path: Path, company: Company, demo_catalog: Catalog
) -> None:
    """Month by month in order (no late rows): entries whose windows closed keep their
    sums, and the refresh adds only the newer entries' — with the same statistics."""
    windows = windows_for(company, demo_catalog)[:10]
    path = tmp_path / "wh.duckdb"
    ex, ev = company.exposures, company.events
    ts_ex = pc.cast(ex["timestamp"], pa.int64()).to_numpy() / 1e6
    ts_ev = pc.cast(ev["timestamp"], pa.int64()).to_numpy() / 1e6
    Warehouse(path).close()
    kept = []
    previous = datetime(1970, 1, 1, tzinfo=UTC).timestamp()
    for month in range(4, 13):
        cutoff = datetime(2026, month, 1, tzinfo=UTC)
        c = cutoff.timestamp()
        with Warehouse(path) as wh:
            wh.append("exposures", ex.filter(pa.array((ts_ex >= previous) & (ts_ex < c))))
            wh.append("events", ev.filter(pa.array((ts_ev >= previous) & (ts_ev < c))))
        previous = c
        inc, full = _both(path, demo_catalog, _at(windows, cutoff), dimensions=["platform"])
        assert_same(inc, full)
        assert inc.state is not None
        kept.append(len(inc.state.kept))
    assert kept[0] == 0  # nothing kept before the first refresh
    assert min(kept[2:]) > 0  # later refreshes reuse kept sums


@pytest.mark.slow
def test_ten_million_events_incremental_equals_full(tmp_path: Path, demo_catalog: Catalog) -> None:
    """The large case: the simulated company at ~10 M events, loaded with its last month
    and 5 % of earlier rows held back (late), then brought forward by one more load."""
    from tinylift.demo.dataset import generate

    company = generate(840_000, seed=7)
    assert company.events.num_rows > 9_000_000
    windows = windows_for(company, demo_catalog)
    rng = np.random.default_rng(7)
    path = tmp_path / "wh.duckdb"
    first = datetime(2026, 12, 1, tzinfo=UTC)
    later = datetime(2027, 1, 1, tzinfo=UTC)
    held: dict[str, pa.Table] = {}
    with Warehouse(path) as wh:
        for kind, table in (("exposures", company.exposures), ("events", company.events)):
            ts = pc.cast(table["timestamp"], pa.int64()).to_numpy() / 1e6
            now = (ts < first.timestamp()) & (rng.random(table.num_rows) >= 0.05)
            wh.append(kind, table.filter(pa.array(now)))  # type: ignore[arg-type]
            held[kind] = table.filter(pa.array(~now))
    inc, _ = _both(path, demo_catalog, _at(windows, first))
    assert inc.state is not None
    with Warehouse(path) as wh:
        for kind, table in held.items():
            wh.append(kind, table)  # type: ignore[arg-type]
    inc, full = _both(path, demo_catalog, _at(windows, later))
    assert inc.state is not None
    assert set(inc.state.updated) == {w.key for w in windows}
    assert inc.state.touched > 0  # late exposures moved entries
    assert_same(inc, full)
