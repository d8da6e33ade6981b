"""What differs between SQL engines, in one place: typed literals, arg-min, JSON, hashing.

Each helper builds an Ibis expression with the engine's own function where
Ibis's generic one is slower or missing. Property keys reach these functions
validated by the catalog; values only ever as Ibis literals.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

import ibis
import ibis.expr.types as ir

__all__ = [
    "FAR_FUTURE",
    "FAR_PAST",
    "by_experiment",
    "filter_condition",
    "first_by",
    "json_text",
    "last_by",
    "unit_part",
]

FAR_PAST: Final = datetime(1970, 1, 1, tzinfo=UTC)
FAR_FUTURE: Final = datetime(2200, 1, 1, tzinfo=UTC)


def by_experiment(
    key: ir.StringValue, values: dict[str, datetime], like: ir.TimestampValue
) -> ir.TimestampValue:
    """A per-experiment constant as a CASE expression (deterministic SQL, no temp tables),
    for rows of the experiments in ``values`` only (the callers filter them first).

    Experiments sharing a value share a branch (``key IN (...)``), and one value for
    all is a plain literal: most windows of a refresh share their cutoff, and a
    branch per experiment costs a comparison per row and per experiment, and a
    large expression to compile. Literals take the type of ``like``: zone-aware
    (DuckDB) or zone-less in UTC (Spark, whose session time zone is UTC).
    """
    typ = like.type()

    def lit(v: datetime) -> ir.TimestampValue:
        if typ.timezone is None:
            v = v.astimezone(UTC).replace(tzinfo=None)
        return ibis.literal(v, type=typ)

    groups: dict[datetime, list[str]] = {}
    for k, v in values.items():
        groups.setdefault(v, []).append(k)
    if not groups:
        return lit(FAR_FUTURE)
    # the most shared value is the default branch
    *rest, (common, _) = sorted(groups.items(), key=lambda kv: len(kv[1]))
    if not rest:
        return lit(common)
    return ibis.cases(
        *[(key.isin(keys) if len(keys) > 1 else key == keys[0], lit(v)) for v, keys in rest],
        else_=lit(common),
    )


#: Per dialect: aggregates giving the value at the row with the smallest (largest)
#: key (Ibis's generic argmin is an ordered FIRST(), which sorts every group).
_ARG_MIN: Final = {"duckdb": "arg_min", "pyspark": "min_by"}
_ARG_MAX: Final = {"duckdb": "arg_max", "pyspark": "max_by"}


def _value_at(
    names: dict[str, str], dialect: str, column: ir.Column, order: ir.Column, smallest: bool
) -> ir.Scalar:
    name = names.get(dialect)
    if name is None:
        return column.argmin(order) if smallest else column.argmax(order)

    @ibis.udf.agg.builtin(name=name)  # type: ignore[untyped-decorator]
    def value_at(value: str, key: datetime) -> str:  # type: ignore[empty-body]
        """The engine's arg-min or arg-max aggregate."""

    return value_at(column, order)


def first_by(dialect: str, column: ir.Column, order: ir.Column) -> ir.Scalar:
    """The value of ``column`` at the smallest ``order`` in each group."""
    return _value_at(_ARG_MIN, dialect, column, order, smallest=True)


def last_by(dialect: str, column: ir.Column, order: ir.Column) -> ir.Scalar:
    """The value of ``column`` at the largest ``order`` in each group."""
    return _value_at(_ARG_MAX, dialect, column, order, smallest=False)


_JSON_TEXT: Final = {
    "duckdb": ("json_extract_string", "$.{}"),
    "pyspark": ("get_json_object", "$.{}"),
    "bigquery": ("json_extract_scalar", "$.{}"),
    "trino": ("json_extract_scalar", "$.{}"),
    "snowflake": ("json_extract_path_text", "{}"),
    "postgres": ("json_extract_path_text", "{}"),
}


def json_text(dialect: str, column: ir.StringValue, key: str) -> ir.StringValue:
    """A JSON property as text, with the engine's own function (keys are validated)."""
    name, path = _JSON_TEXT[dialect]

    @ibis.udf.scalar.builtin(name=name)  # type: ignore[untyped-decorator]
    def extract(doc: str, path: str) -> str:  # type: ignore[empty-body]
        """The engine's JSON extraction function."""

    return extract(column, ibis.literal(path.format(key)))


def filter_condition(
    t: ir.Table, flt: tuple[tuple[str, Any], ...], dialect: str
) -> ir.BooleanValue:
    cond: ir.BooleanValue = ibis.literal(True)
    for key, value in flt:
        text = json_text(dialect, t.properties, key)
        if isinstance(value, bool):
            cond &= text == ibis.literal("true" if value else "false")
        elif isinstance(value, (int, float)):
            cond &= text.try_cast("float64") == ibis.literal(float(value))
        else:
            cond &= text == ibis.literal(str(value))
    return cond


def unit_part(unit: ir.StringValue, parts: int) -> ir.IntegerValue:
    """Which of ``parts`` shares a unit falls in (by the engine's hash of its id)."""
    h = unit.hash()
    return ((h % parts) + parts) % parts
