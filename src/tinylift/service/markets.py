"""Market tests of a workspace: ``markets.yml`` beside ``tinylift.yml``, its series file.

The file holds the tests as their owners wrote them (design, markets, metric
roles); the series file (CSV or Parquet) holds the market-level data. Both are
read afresh when they change; a report is computed on demand.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinylift.errors import ConfigError, NotFound

if TYPE_CHECKING:
    from tinylift.markets import Design, MarketReport, MarketSeries, MarketTest, MarketTests
    from tinylift.service.workspace import Workspace

__all__ = [
    "analyze",
    "decide",
    "design",
    "get_test",
    "list_tests",
    "load",
    "market_records",
    "report_dict",
    "series",
    "series_rows",
    "tests_file",
]

_CACHE: dict[tuple[str, float], Any] = {}


def tests_file(ws: Workspace) -> Path:
    return ws.root / "markets.yml"


def load(ws: Workspace) -> MarketTests:
    """The workspace's market tests (none when it has no markets.yml)."""
    from tinylift.markets import MarketTests, parse_tests

    path = tests_file(ws)
    if not path.exists():
        return MarketTests()
    key = (str(path), path.stat().st_mtime)
    if key not in _CACHE:
        _CACHE[key] = parse_tests(path)
    out: MarketTests = _CACHE[key]
    return out


def series(ws: Workspace, tests: MarketTests | None = None) -> MarketSeries:
    """The market series markets.yml names: a file beside it, or ``warehouse`` (the series
    loaded with ``tinylift ingest --kind markets``)."""
    from tinylift.markets import read_series
    from tinylift.markets.series import series_from_rows

    tests = load(ws) if tests is None else tests
    if tests.series == "warehouse":
        import pyarrow as pa

        from tinylift.service.owner import owner_of

        owner = owner_of(ws)
        if owner is not None and ws.held is None:  # the process that owns the warehouse
            rows = pa.Table.from_pylist(list(owner.call("market-series", {})))
            if rows.num_rows:
                rows = rows.set_column(
                    1,
                    "period",
                    pa.array([date.fromisoformat(d) for d in rows["period"].to_pylist()]),
                )
        else:
            rows = _warehouse_rows(ws)
        return series_from_rows(rows)
    path = Path(tests.series)
    if not path.is_absolute():
        path = ws.root / path
    if not path.exists():
        raise ConfigError(f"{tests_file(ws).name}: series {tests.series!r} does not exist ({path})")
    key = (str(path), path.stat().st_mtime)
    if key not in _CACHE:
        _CACHE[key] = read_series(path)
    out: MarketSeries = _CACHE[key]
    return out


def _warehouse_rows(ws: Workspace) -> Any:
    with ws.engine() as engine:
        return engine.raw.sql(
            "SELECT market, period, metric, value, attributes FROM market_series "
            "ORDER BY market, period"
        ).to_arrow_table()


def series_rows(ws: Workspace) -> list[dict[str, Any]]:
    """The warehouse's market series as JSON-ready rows (what the owner sends)."""
    return [{**r, "period": r["period"].isoformat()} for r in _warehouse_rows(ws).to_pylist()]


def get_test(ws: Workspace, key: str) -> MarketTest:
    tests = load(ws)
    for t in tests.tests:
        if t.key == key:
            return t
    known = ", ".join(t.key for t in tests.tests) or "none: add them to markets.yml"
    raise NotFound(f"no market test {key!r} (known: {known})")


def list_tests(ws: Workspace) -> list[dict[str, Any]]:
    """One line per test: design and markets (no analysis)."""
    return [
        {
            "key": t.key,
            "name": t.name,
            "team": t.team,
            "metric": t.metric,
            "method": "staggered" if t.staggered else t.method,
            "markets": t.markets,
            "start": (min(t.adoption) if t.staggered else t.start).isoformat(),  # type: ignore[union-attr]
        }
        for t in load(ws).tests
    ]


def analyze(
    ws: Workspace, key: str, *, draws: int = 999, seed: int = 0, record: bool = True
) -> MarketReport:
    """The scorecard of market test ``key`` on the current series; with ``record``, the
    test (its design as written) and this scorecard's summary are kept in the registry."""
    from tinylift.markets import analyze_market_test
    from tinylift.registry.markets import register, save_summary

    test = get_test(ws, key)
    report = analyze_market_test(series(ws), test, draws=draws, seed=seed)
    if record:
        with ws.registry() as reg, reg.session() as s:
            register(s, test.key, test.name, test.team, test.model_dump(mode="json"))
            save_summary(s, test.key, summary(report, test))
    return report


def summary(report: MarketReport, test: MarketTest) -> dict[str, Any]:
    """What the registry keeps of a scorecard: each metric's relative effect and interval,
    its verdict, and the recommendation."""
    lower = {test.metric: test.lower_is_better} | {
        g.metric: g.lower_is_better for g in test.guardrails
    }
    rows = []
    for r in report.rows:
        significant = r.p_value is not None and r.p_value <= test.alpha
        good = (r.relative < 0) if lower.get(r.metric, False) else (r.relative > 0)
        rows.append(
            {
                "metric": r.metric,
                "role": r.role,
                "relative": r.relative,
                "low": r.relative_low,
                "high": r.relative_high,
                "p_value": r.p_value,
                "money": r.money,
                "lower_is_better": lower.get(r.metric, False),
                "significant": significant,
                "verdict": ("better" if good else "worse") if significant else "inconclusive",
            }
        )
    start = min(test.adoption) if test.staggered else test.start
    return {
        "rows": rows,
        "recommendation": report.decision.recommendation,
        "complete": report.complete,
        "start": start.isoformat() if start else None,
        "through": report.periods[-1].isoformat(),
    }


def decide(ws: Workspace, key: str, outcome: str, reason: str, *, by: str) -> dict[str, Any]:
    """Record the decision on a market test (analysed before, so its numbers are kept)."""
    from tinylift.registry.markets import decide as record

    get_test(ws, key)
    with ws.registry() as reg, reg.session() as s:
        row = record(s, key, outcome, reason, by)
        return {"key": row.key, "outcome": row.outcome, "reason": row.reason,
                "decided_by": row.decided_by}  # fmt: skip


def market_records(reg: Any) -> list[Any]:
    """Market tests as the portfolio's records (kind ``market``; effects are relative)."""
    from datetime import UTC, datetime

    from tinylift.portfolio import Record
    from tinylift.portfolio.model import Row
    from tinylift.registry.markets import all_tests

    z = 1.959963984540054
    out = []
    with reg.session() as s:
        for t in all_tests(s):
            rows = tuple(
                Row(
                    metric=r["metric"],
                    variant="treated",
                    effect=r["relative"],
                    ci_low=r["low"],
                    ci_high=r["high"],
                    rel_effect=r["relative"],
                    rel_se=(r["high"] - r["low"]) / (2 * z),
                    verdict=r["verdict"],
                    significant=r["significant"],
                    lower_is_better=r["lower_is_better"],
                )
                for r in t.summary.get("rows", [])
            )
            start = t.summary.get("start")
            out.append(
                Record(
                    key=t.key,
                    team=t.team or "markets",
                    area="operations",
                    status="stopped" if t.outcome else "running",
                    started_at=(
                        datetime.fromisoformat(start).replace(tzinfo=UTC) if start else None
                    ),
                    stopped_at=t.decided_at,
                    decided_at=t.decided_at,
                    outcome=t.outcome,
                    shipped_variant="treated" if t.outcome == "ship" else None,
                    oec=t.design.get("metric"),
                    kind="market",
                    rows=rows,
                )
            )
    return out


def design(
    ws: Workspace,
    metric: str,
    *,
    treated: int | list[str],
    periods: int,
    method: str = "synthetic_control",
    sims: int = 200,
    seed: int = 0,
) -> Design:
    """Markets to treat and the simulated power, on the workspace's series."""
    from tinylift.markets import design_test

    return design_test(
        series(ws), metric, treated=treated, periods=periods, method=method, sims=sims, seed=seed
    )


def report_dict(report: MarketReport) -> dict[str, Any]:
    """The report as the command prints it (and as --json gives it)."""
    import math

    from tinylift.results import plain

    def as_scale(value: float) -> float:
        return math.expm1(value) if report.scale == "log" else value

    rows = [plain(r) for r in report.rows]
    return {
        "key": report.key,
        "name": report.name,
        "method": report.method,
        "treated": list(report.treated),
        "controls": list(report.controls),
        "periods": [p.isoformat() for p in report.periods],
        "complete": report.complete,
        "rows": rows,
        # the roll-out's two estimates: relative lifts on a log scale, else metric units
        "scale": report.scale,
        "rollout": as_scale(report.rollout.effect) if report.rollout else None,
        "naive": as_scale(report.naive.effect) if report.naive else None,
        "weights": (
            dict(zip(report.controls, report.primary.weights.tolist(), strict=True))
            if report.primary is not None and len(report.primary.weights)
            else {}
        ),
        "decision": plain(report.decision),
    }
