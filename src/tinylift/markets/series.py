"""Market series: one row per (market, period) with metric values and market attributes.

A series file (CSV or Parquet) has a ``market`` column, a ``period`` column
(a date: the period's first day, e.g. the Monday of a week), one numeric
column per metric, and optionally text columns describing markets (country,
region, channel, size band). Every market must have every period: a gap is an
error naming the market and period, as is a duplicate row, a value that is not
a number, or a period that is not a date.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from tinylift.errors import DataError

__all__ = [
    "ATTRIBUTES",
    "MarketSeries",
    "long_rows",
    "read_series",
    "series_from_rows",
    "write_series",
]

#: columns describing a market rather than measuring it
ATTRIBUTES: Final = ("country", "region", "channel", "size")


@dataclass(frozen=True)
class MarketSeries:
    """Metrics as (markets x periods) arrays, rows in ``markets`` order."""

    markets: tuple[str, ...]
    periods: tuple[date, ...]
    metrics: dict[str, NDArray[np.float64]]
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)

    def metric(self, name: str) -> NDArray[np.float64]:
        if name not in self.metrics:
            raise DataError(
                f"no metric {name!r} in the market series (it has {', '.join(self.metrics)})",
                field=name,
            )
        return self.metrics[name]

    def period_index(self, day: date) -> int:
        """The index of the period that starts on ``day`` (or contains it)."""
        if day < self.periods[0] or day > self.periods[-1]:
            raise DataError(
                f"{day} is outside the series ({self.periods[0]} to {self.periods[-1]})"
            )
        import bisect

        return bisect.bisect_right(self.periods, day) - 1

    def rows(self, names: list[str], *, what: str = "market") -> NDArray[np.bool_]:
        """A flag per market: those named (each must exist)."""
        unknown = sorted(set(names) - set(self.markets))
        if unknown:
            raise DataError(f"no {what} {', '.join(unknown)} in the market series")
        return np.array([m in names for m in self.markets])


def read_series(path: Path | str) -> MarketSeries:
    """The series in a CSV or Parquet file, checked (errors name the file, row and field)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise DataError("no such file", file=name)
    try:
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(path)
        else:
            from pyarrow import csv

            table = csv.read_csv(path, convert_options=csv.ConvertOptions(strings_can_be_null=True))
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"cannot read the file: {exc}", file=name) from None
    for col in ("market", "period"):
        if col not in table.column_names:
            raise DataError(
                f"a market series needs columns market and period (it has "
                f"{', '.join(table.column_names)})",
                file=name,
                field=col,
            )
    given = [None if v is None else str(v) for v in table["market"].to_pylist()]
    periods: list[date] = []
    for i, v in enumerate(table["period"].to_pylist()):
        try:
            periods.append(v if isinstance(v, date) else date.fromisoformat(str(v)[:10]))
        except ValueError:
            raise DataError(
                f"{v!r} is not a date (YYYY-MM-DD)", file=name, row=i + 1, field="period"
            ) from None
    for i, m in enumerate(given):
        if not m:
            raise DataError("no market named", file=name, row=i + 1, field="market")
    markets = [str(m) for m in given]
    if {"metric", "value"} <= set(table.column_names):  # long: one row per metric
        return _long(table, periods, name)
    attrs = [c for c in table.column_names if c in ATTRIBUTES]
    metric_cols = [c for c in table.column_names if c not in ("market", "period", *attrs)]
    if not metric_cols:
        raise DataError("no metric columns besides market and period", file=name)
    names = list(dict.fromkeys(markets))
    days = sorted(set(periods))
    m_at = {m: i for i, m in enumerate(names)}
    d_at = {d: i for i, d in enumerate(days)}
    seen = np.full((len(names), len(days)), -1)
    for i, (m, d) in enumerate(zip(markets, periods, strict=True)):
        r, c = m_at[m], d_at[d]
        if seen[r, c] >= 0:
            raise DataError(
                f"{m} {d} appears twice (first at row {seen[r, c] + 1})", file=name, row=i + 1
            )
        seen[r, c] = i
    if (seen < 0).any():
        r, c = np.argwhere(seen < 0)[0]
        raise DataError(f"market {names[r]} has no row for period {days[c]}", file=name)
    metrics = {}
    for col in metric_cols:
        try:
            values = pc.cast(table[col], pa.float64()).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            bad = next(i for i, v in enumerate(table[col].to_pylist()) if not _is_number(v))
            raise DataError(
                f"{table[col][bad].as_py()!r} is not a number", file=name, row=bad + 1, field=col
            ) from None
        if np.isnan(values).any():
            i = int(np.flatnonzero(np.isnan(values))[0])
            raise DataError("missing value", file=name, row=i + 1, field=col)
        metrics[col] = values[seen]
    attributes: dict[str, dict[str, str]] = {m: {} for m in names}
    for col in attrs:
        for m, v in zip(markets, table[col].to_pylist(), strict=True):
            if v is not None:
                attributes[m][col] = str(v)
    return MarketSeries(tuple(names), tuple(days), metrics, attributes)


def _long(table: Any, periods: list[date], name: str) -> MarketSeries:
    import json

    import pyarrow as pa

    values = []
    for i, v in enumerate(table["value"].to_pylist()):
        if v is None or not _is_number(v) or not math.isfinite(float(v)):
            raise DataError(f"{v!r} is not a number", file=name, row=i + 1, field="value")
        values.append(float(v))
    attrs = [c for c in table.column_names if c in ATTRIBUTES]
    described = [
        json.dumps({c: str(table[c][i].as_py()) for c in attrs if table[c][i].as_py() is not None})
        for i in range(table.num_rows)
    ]
    rows = pa.table(
        {
            "market": [str(m) for m in table["market"].to_pylist()],
            "period": periods,
            "metric": [str(m) for m in table["metric"].to_pylist()],
            "value": values,
            "attributes": described,
        }
    )
    return series_from_rows(rows, origin=name)


def _is_number(v: object) -> bool:
    try:
        float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return True


def write_series(series: MarketSeries, path: Path | str) -> Path:
    """The series as a CSV file (one row per market and period)."""
    import csv

    path = Path(path)
    attrs = sorted({k for a in series.attributes.values() for k in a})
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["market", "period", *attrs, *series.metrics])
        for i, m in enumerate(series.markets):
            for j, d in enumerate(series.periods):
                w.writerow(
                    [m, d.isoformat(), *[series.attributes.get(m, {}).get(a, "") for a in attrs]]
                    + [f"{series.metrics[k][i, j]:.4f}" for k in series.metrics]
                )
    return path


def series_from_rows(rows: Any, *, origin: str = "the warehouse") -> MarketSeries:
    """A series from long rows (an Arrow table of market, period, metric, value and an
    optional attributes JSON object), as ingestion keeps them; every market needs every
    period of every metric."""
    import json

    if rows.num_rows == 0:
        raise DataError(
            f"no market series in {origin}: load one with tinylift ingest FILE --kind markets"
        )
    data = rows.to_pydict()
    names = list(dict.fromkeys(data["market"]))
    days = sorted(set(data["period"]))
    metrics = list(dict.fromkeys(data["metric"]))
    m_at = {m: i for i, m in enumerate(names)}
    d_at = {d: i for i, d in enumerate(days)}
    values = {k: np.full((len(names), len(days)), np.nan) for k in metrics}
    attributes: dict[str, dict[str, str]] = {m: {} for m in names}
    seen: set[tuple[str, date, str]] = set()
    for m, d, k, v, a in zip(
        data["market"], data["period"], data["metric"], data["value"],
        data.get("attributes", [None] * len(data["market"])), strict=True,
    ):  # fmt: skip
        if (m, d, k) in seen:
            raise DataError(f"{origin}: {m} {d} {k} appears twice", field=k)
        seen.add((m, d, k))
        values[k][m_at[m], d_at[d]] = v
        if a:
            attributes[m].update({str(x): str(y) for x, y in json.loads(a).items()})
    for k, arr in values.items():
        if np.isnan(arr).any():
            r, c = np.argwhere(np.isnan(arr))[0]
            raise DataError(f"{origin}: market {names[r]} has no {k} for period {days[c]}", field=k)
    return MarketSeries(tuple(names), tuple(days), values, attributes)


def long_rows(series: MarketSeries) -> list[dict[str, Any]]:
    """The series as the long rows ``tinylift ingest --kind markets`` takes."""
    import json

    return [
        {
            "market": m,
            "period": d.isoformat(),
            "metric": k,
            "value": float(v[i, j]),
            "attributes": json.dumps(series.attributes.get(m, {})),
        }
        for k, v in series.metrics.items()
        for i, m in enumerate(series.markets)
        for j, d in enumerate(series.periods)
    ]
