"""Bulk ingestion of exposures and events with validation and quarantine.

A load reads the file into a staging table as text, validates every row in
SQL (first failing rule wins, as a reason code), drops duplicates (events by
``event_id``; exposures by experiment, unit, variant and time), appends the
good rows and quarantines the bad ones with their reason, all in one
transaction: an interrupted load leaves the warehouse as it was. Counts
reconcile: ``read = loaded + quarantined + duplicates``.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import duckdb

from tinylift.errors import DataError
from tinylift.results import Result, frozen_mapping
from tinylift.warehouse.store import (
    SEQUENCED,
    TABLE_NAMES,
    TABLES,
    Warehouse,
    next_load,
    record_load,
)

__all__ = ["REASONS", "LoadReport", "ingest"]

Kind = Literal["events", "exposures", "units", "markets"]

#: Reason code -> (field, explanation) for every rule a row can fail.
REASONS: Final = {
    "malformed_line": (
        None,
        "the line could not be parsed (wrong number of columns, bad quoting or bad JSON)",
    ),
    "missing_event_id": ("event_id", "event_id is empty"),
    "missing_unit_id": ("unit_id", "unit_id is empty"),
    "missing_timestamp": ("timestamp", "timestamp is empty"),
    "bad_timestamp": ("timestamp", "timestamp is not an ISO 8601 date-time"),
    "timestamp_out_of_range": ("timestamp", "timestamp is before 1970 or after 2100"),
    "timestamp_without_zone": (
        "timestamp",
        "timestamp has no time zone (end it with Z for UTC, or +hh:mm), as the collector asks",
    ),
    "not_utf8": (None, "the line is not UTF-8 text (save the file as UTF-8)"),
    "line_too_long": (None, "the line is longer than 2 MB"),
    "missing_event_name": ("event_name", "event_name is empty"),
    "bad_event_name": (
        "event_name",
        "event_name may use letters, digits and _ . : - (100 at most)",
    ),
    "bad_value": ("value", "value is not a finite number"),
    "bad_properties": ("properties", "properties is not a JSON object"),
    "bad_attributes": ("attributes", "attributes is not a JSON object"),
    "missing_attributes": ("attributes", "no attribute of the unit is given"),
    "bad_as_of": ("as_of", "as_of is not an ISO 8601 date-time between 1970 and 2100"),
    "missing_experiment_key": ("experiment_key", "experiment_key is empty"),
    "missing_variant_key": ("variant_key", "variant_key is empty"),
    "unknown_experiment": ("experiment_key", "no such experiment"),
    "unknown_variant": ("variant_key", "the experiment has no such variant"),
    "missing_market": ("market", "market is empty"),
    "missing_period": ("period", "period is empty"),
    "bad_period": ("period", "period is not a date (YYYY-MM-DD) between 1970 and 2100"),
    "missing_metric": ("metric", "metric is empty"),
    "bad_metric": ("metric", "metric may use letters, digits and _ (63 at most)"),
    "missing_value": ("value", "value is empty"),
}

_TS = "TRY_CAST(timestamp AS TIMESTAMPTZ)"
_COMMON_TS = f"""
    WHEN timestamp IS NULL OR trim(timestamp) = '' THEN 'missing_timestamp'
    WHEN {_TS} IS NULL THEN 'bad_timestamp'
    WHEN {_TS} < TIMESTAMPTZ '1970-01-01 00:00:00+00'
      OR {_TS} >= TIMESTAMPTZ '2100-01-01 00:00:00+00' THEN 'timestamp_out_of_range'
    WHEN NOT regexp_matches(
      trim(timestamp),
      '[T ][0-9]{{2}}:[0-9]{{2}}(:[0-9]{{2}}([.][0-9]+)?)? ?([zZ]|[+-][0-9]{{2}}(:?[0-9]{{2}})?)$')
      THEN 'timestamp_without_zone'
"""
_RULES: Final = {
    "events": f"""CASE
    WHEN event_id IS NULL OR trim(event_id) = '' THEN 'missing_event_id'
    WHEN unit_id IS NULL OR trim(unit_id) = '' THEN 'missing_unit_id'
    {_COMMON_TS}
    WHEN event_name IS NULL OR trim(event_name) = '' THEN 'missing_event_name'
    WHEN NOT regexp_full_match(event_name, '[A-Za-z0-9_.:-]{{1,100}}') THEN 'bad_event_name'
    WHEN value IS NOT NULL AND trim(value) <> ''
      AND (TRY_CAST(value AS DOUBLE) IS NULL OR NOT isfinite(TRY_CAST(value AS DOUBLE)))
      THEN 'bad_value'
    WHEN properties IS NOT NULL AND trim(properties) <> ''
      AND (NOT json_valid(properties) OR json_type(properties::JSON) <> 'OBJECT')
      THEN 'bad_properties'
    END""",
    "exposures": f"""CASE
    WHEN experiment_key IS NULL OR trim(experiment_key) = '' THEN 'missing_experiment_key'
    WHEN variant_key IS NULL OR trim(variant_key) = '' THEN 'missing_variant_key'
    WHEN unit_id IS NULL OR trim(unit_id) = '' THEN 'missing_unit_id'
    {_COMMON_TS}
    WHEN _known AND NOT _known_experiment THEN 'unknown_experiment'
    WHEN _known AND NOT _known_variant THEN 'unknown_variant'
    WHEN attributes IS NOT NULL AND trim(attributes) <> ''
      AND (NOT json_valid(attributes) OR json_type(attributes::JSON) <> 'OBJECT')
      THEN 'bad_attributes'
    END""",
    "markets": """CASE
    WHEN market IS NULL OR trim(market) = '' THEN 'missing_market'
    WHEN period IS NULL OR trim(period) = '' THEN 'missing_period'
    WHEN TRY_CAST(left(trim(period), 10) AS DATE) IS NULL
      OR TRY_CAST(left(trim(period), 10) AS DATE) < DATE '1970-01-01'
      OR TRY_CAST(left(trim(period), 10) AS DATE) >= DATE '2100-01-01' THEN 'bad_period'
    WHEN metric IS NULL OR trim(metric) = '' THEN 'missing_metric'
    WHEN NOT regexp_full_match(trim(metric), '[A-Za-z_][A-Za-z0-9_]{0,62}') THEN 'bad_metric'
    WHEN value IS NULL OR trim(value) = '' THEN 'missing_value'
    WHEN TRY_CAST(value AS DOUBLE) IS NULL OR NOT isfinite(TRY_CAST(value AS DOUBLE))
      THEN 'bad_value'
    WHEN attributes IS NOT NULL AND trim(attributes) <> ''
      AND (NOT json_valid(attributes) OR json_type(attributes::JSON) <> 'OBJECT')
      THEN 'bad_attributes'
    END""",
    "units": """CASE
    WHEN unit_id IS NULL OR trim(unit_id) = '' THEN 'missing_unit_id'
    WHEN as_of IS NOT NULL AND trim(as_of) <> '' AND (TRY_CAST(as_of AS TIMESTAMPTZ) IS NULL
      OR TRY_CAST(as_of AS TIMESTAMPTZ) < TIMESTAMPTZ '1970-01-01 00:00:00+00'
      OR TRY_CAST(as_of AS TIMESTAMPTZ) >= TIMESTAMPTZ '2100-01-01 00:00:00+00')
      THEN 'bad_as_of'
    WHEN attributes IS NULL OR trim(attributes) IN ('', '{}') THEN 'missing_attributes'
    WHEN NOT json_valid(attributes) OR json_type(attributes::JSON) <> 'OBJECT'
      THEN 'bad_attributes'
    END""",
}
_CAST: Final = {
    "events": """trim(event_id) AS event_id, trim(unit_id) AS unit_id,
        TRY_CAST(timestamp AS TIMESTAMPTZ) AS timestamp, trim(event_name) AS event_name,
        TRY_CAST(NULLIF(trim(value), '') AS DOUBLE) AS value,
        NULLIF(trim(properties), '') AS properties""",
    "exposures": """trim(experiment_key) AS experiment_key, trim(variant_key) AS variant_key,
        trim(unit_id) AS unit_id, TRY_CAST(timestamp AS TIMESTAMPTZ) AS timestamp,
        NULLIF(trim(country), '') AS country, NULLIF(trim(platform), '') AS platform,
        NULLIF(trim(attributes), '') AS attributes""",
    "markets": """trim(market) AS market, TRY_CAST(left(trim(period), 10) AS DATE) AS period,
        trim(metric) AS metric, TRY_CAST(value AS DOUBLE) AS value,
        NULLIF(trim(attributes), '') AS attributes""",
    "units": """trim(unit_id) AS unit_id,
        TRY_CAST(NULLIF(trim(as_of), '') AS TIMESTAMPTZ) AS as_of,
        trim(attributes) AS attributes""",
}
_REQUIRED: Final = {
    "events": ("event_id", "unit_id", "timestamp", "event_name"),
    "exposures": ("experiment_key", "variant_key", "unit_id", "timestamp"),
    "units": ("unit_id",),
    "markets": ("market", "period", "metric", "value"),
}


@dataclass(repr=False, frozen=True)
class LoadReport(Result):
    """What one load did; ``read == loaded + quarantined + duplicates``."""

    file: str
    kind: str
    read: int
    loaded: int
    quarantined: int
    duplicates: int
    reasons: Mapping[str, int] = field(default_factory=dict)
    #: What happened to columns beyond the data model (kept as attributes or
    #: properties, or ignored, and why): nothing is dropped without a line.
    notes: tuple[str, ...] = ()
    #: Rows already in the warehouse that this (restated) load replaced.
    replaced: int = 0

    _repr_fields = ("file", "loaded", "quarantined")

    def __post_init__(self) -> None:
        object.__setattr__(self, "reasons", frozen_mapping(self.reasons))

    @property
    def reconciles(self) -> bool:
        """Every row read is accounted for."""
        return self.read == self.loaded + self.quarantined + self.duplicates

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LoadReport:
        """Rebuild from :meth:`to_dict` output."""
        names = ("file", "kind", "read", "loaded", "quarantined", "duplicates")
        return cls(
            **{k: data[k] for k in names},
            reasons=dict(data.get("reasons", {})),
            notes=tuple(data.get("notes", ())),
            replaced=int(data.get("replaced", 0)),
        )


def _scan(path: Path) -> tuple[str, bool]:
    """The file's SHA-256, and whether it mixes CRLF and LF line ends (one pass)."""
    h = hashlib.sha256()
    crlf = lf = False
    previous = b""
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
            joined = previous[-1:] + block
            crlf = crlf or b"\r\n" in joined
            lf = lf or joined.replace(b"\r\n", b"").count(b"\n") > 0
            previous = block
    return h.hexdigest(), crlf and lf


def _quote(name: str) -> str:
    """A header name as a safe SQL string/identifier fragment (quotes doubled)."""
    return name.replace("'", "''").replace('"', '""')


def _named_format(path: Path) -> str:
    suffixes = "".join(path.suffixes).lower()
    for ext, fmt in (
        (".parquet", "parquet"),
        (".csv", "csv"),
        (".jsonl", "jsonl"),
        (".ndjson", "jsonl"),
        (".json", "jsonl"),
    ):
        if ext in suffixes:
            return fmt
    raise DataError("unknown file type; use .parquet, .csv or .jsonl (JSON Lines)", file=str(path))


def _format(path: Path) -> tuple[str, list[str]]:
    """How to read the file, by its name and its first bytes; notes when they disagree.

    ``json-array`` is a ``.json`` file holding one JSON array of rows.
    """
    named = _named_format(path)
    with path.open("rb") as f:
        head = f.read(4096)
    if head.startswith(b"PAR1"):
        if named == "parquet":
            return "parquet", []
        return "parquet", [f"the file is Parquet although named {path.suffix}: read as Parquet"]
    if named == "parquet":
        raise DataError(
            "not a Parquet file (it does not start with PAR1); if it is CSV or JSON Lines, "
            "name it .csv or .jsonl",
            file=str(path),
        )
    start = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if named == "jsonl" and start.startswith(b"["):
        return "json-array", ["the file is one JSON array: read its elements as rows"]
    return named, []


#: Where each kind keeps columns beyond the data model.
_EXTRA_INTO: Final = {
    "exposures": "attributes",
    "events": "properties",
    "units": "attributes",
    "markets": "attributes",
}
_PLAIN_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def _extras(kind: Kind, present: Sequence[str]) -> tuple[list[str], list[str]]:
    """Columns beyond the data model that are kept (as a JSON object), and notes saying so."""
    into = _EXTRA_INTO[kind]
    extra = [c for c in present if c not in TABLES[kind].names]
    kept = [c for c in extra if _PLAIN_NAME.fullmatch(c)]
    odd = [c for c in extra if c not in kept]
    notes = []
    if kept and into in present:
        notes.append(
            f"ignored {len(kept)} column(s) beyond the data model ({', '.join(kept)}): the file "
            f"has its own {into} column; put them inside it to keep them"
        )
        kept = []
    elif kept:
        notes.append(
            f"kept {len(kept)} column(s) beyond the data model as {into}: {', '.join(kept)}"
        )
    if odd:
        notes.append(
            f"ignored column(s) {', '.join(repr(c) for c in odd)}: a name must be letters, "
            "digits and _ (63 at most) to be kept"
        )
    return kept, notes


def _packed(kind: Kind, kept: Sequence[str], value: str) -> str:
    """SQL building the JSON object of the kept extra columns (``value`` formats one)."""
    pairs = ", ".join(f"'{k}', {value.format(k)}" for k in kept)
    return f"json_object({pairs})::VARCHAR AS {_EXTRA_INTO[kind]}"


def _columns(
    kind: Kind, cols: Sequence[str], present: Sequence[str], kept: Sequence[str], read: str
) -> str:
    """The staging SELECT list: each data-model column read as text (``read``, with the
    quoted header as ``{q}`` and the column as ``{c}``), the kept extras packed, or NULL."""
    out = []
    for c in cols:
        if c in present:
            out.append(read.format(q=_quote(c), c=c))
        elif kept and c == _EXTRA_INTO[kind]:
            out.append(_packed(kind, kept, '"{}"'))
        else:
            out.append(f"NULL::VARCHAR AS {c}")
    return ", ".join(out)


#: Why DuckDB's CSV reader set a line aside -> our reason code.
_REJECT_REASON: Final = """CASE
    WHEN bool_or(error_type = 'INVALID ENCODING') THEN 'not_utf8'
    WHEN bool_or(error_type = 'LINE SIZE OVER MAXIMUM') THEN 'line_too_long'
    ELSE 'malformed_line' END"""


def _reader_rejects(con: duckdb.DuckDBPyConnection) -> None:
    """Turn the reader's rejects (``_csv_rejects``) into ``_rejects``, one row per line."""
    con.execute(
        "CREATE TEMP TABLE _rejects AS SELECT line, left(any_value(csv_line), 10000) AS raw, "
        f"{_REJECT_REASON} AS reason FROM _csv_rejects GROUP BY line"
    )


def _stage(
    con: duckdb.DuckDBPyConnection, path: Path, kind: Kind, fmt: str
) -> tuple[list[str], list[str]]:
    """Read the file into temp table _staging(_row, _line, columns as text).

    Lines the reader cannot take (not UTF-8, over 2 MB, broken quoting) go to
    ``_rejects`` with their line and reason. Returns the file's columns, and
    notes on the columns beyond the data model (kept as a JSON object in
    ``attributes`` or ``properties``, or ignored) and on how it was read.
    """
    cols = TABLES[kind].names
    for t in ("_staging", "_rejects", "_csv_rejects", "_csv_scans", "_lines", "_raw"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    src = str(path)
    if fmt == "parquet":
        types = {
            str(r[0]): str(r[1])
            for r in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [src]).fetchall()
        }
        present = [c for c, t in types.items() if not t.startswith(("STRUCT", "MAP"))]
        kept, notes = _extras(kind, present)
        select = _columns(kind, cols, present, kept, 'CAST("{q}" AS VARCHAR) AS {c}')
        for c in ("timestamp", "as_of"):
            if types.get(c, "").startswith("TIMESTAMP") and "WITH TIME ZONE" not in types[c]:
                # a zone-less timestamp type: the whole column's zone is assumed, and said
                select = select.replace(
                    f'CAST("{c}" AS VARCHAR) AS {c}',
                    f"CAST(timezone('UTC', \"{c}\") AS VARCHAR) AS {c}",
                )
                notes.append(f"the column {c} has no time zone in the file's schema: read as UTC")
        con.execute(
            "CREATE TEMP TABLE _staging AS SELECT file_row_number + 1 AS _row, "
            f"NULL::BIGINT AS _line, "
            f"{select} FROM read_parquet(?, file_row_number = true)",
            [src],
        )
        con.execute("CREATE TEMP TABLE _rejects (line BIGINT, raw VARCHAR, reason VARCHAR)")
        return present, notes
    if fmt == "csv":
        # The header decides the columns; the reader then runs without sniffing,
        # so broken rows go to the rejects table instead of failing the file.
        with path.open(newline="", encoding="utf-8-sig", errors="replace") as f:
            present = [h.strip() for h in next(csv.reader(f), [])]
        if not present:
            raise DataError("the file is empty (no header line)", file=str(path))
        twice = sorted({c for c in present if present.count(c) > 1})
        if twice:
            at = {
                c: " and ".join(str(i + 1) for i, h in enumerate(present) if h == c) for c in twice
            }
            where = ", ".join(f"{c!r} (columns {at[c]})" for c in twice)
            raise DataError(
                f"the header names {where} more than once; name each column once",
                file=str(path),
            )
        columns = "{" + ", ".join(f"'{_quote(c)}': 'VARCHAR'" for c in present) + "}"
        kept, notes = _extras(kind, present)
        select = _columns(kind, cols, present, kept, '"{q}" AS {c}')
        con.execute(
            f"CREATE TEMP TABLE _staging AS SELECT row_number() OVER () AS _row, "
            f"NULL::BIGINT AS _line, {select} FROM read_csv(?, columns = {columns}, "
            "header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
            "store_rejects = true, rejects_table = '_csv_rejects', rejects_scan = '_csv_scans', "
            "strict_mode = true)",
            [src],
        )
        _reader_rejects(con)
        return present, notes
    if fmt == "json-array":
        # one JSON array: each element is a row (the array must parse as a whole)
        con.execute(
            "CREATE TEMP TABLE _lines AS SELECT row_number() OVER () AS _line, "
            "json::VARCHAR AS line FROM read_json_objects(?, format = 'array')",
            [src],
        )
        con.execute("CREATE TEMP TABLE _rejects (line BIGINT, raw VARCHAR, reason VARCHAR)")
    else:
        # JSON Lines: read each line as text, so a malformed line is quarantined, not lost;
        # a line the reader refuses (not UTF-8, over 2 MB) is a reject with its line number
        con.execute(
            "CREATE TEMP TABLE _raw AS SELECT row_number() OVER () AS _n, line FROM read_csv(?, "
            "columns = {'line': 'VARCHAR'}, header = false, delim = chr(30), quote = '', "
            "escape = '', auto_detect = false, strict_mode = false, store_rejects = true, "
            "rejects_table = '_csv_rejects', rejects_scan = '_csv_scans')",
            [src],
        )
        _reader_rejects(con)
        # the k-th line read is line k plus the rejected lines before it
        con.execute(
            "CREATE TEMP TABLE _lines AS SELECT _n + (SELECT count(*) FROM ("
            "SELECT line - row_number() OVER (ORDER BY line) AS before FROM _rejects) r "
            "WHERE r.before < _raw._n) AS _line, line FROM _raw "
            "WHERE line IS NOT NULL AND trim(line) <> ''"
        )
        con.execute("DROP TABLE _raw")
    ok = "CASE WHEN json_valid(line) THEN json_type(line::JSON) = 'OBJECT' ELSE false END"
    # ->> gives text for scalars; nested values (properties) come back as JSON text
    select = ", ".join(
        f"CASE WHEN json_type(line::JSON, '$.{c}') IN ('OBJECT', 'ARRAY') "
        f"THEN json_extract(line::JSON, '$.{c}')::VARCHAR ELSE line::JSON ->> '$.{c}' END AS {c}"
        for c in cols
    )
    con.execute(
        f"CREATE TEMP TABLE _staging AS SELECT _line AS _row, _line, {select} "
        f"FROM _lines WHERE {ok}"
    )
    con.execute(
        f"INSERT INTO _rejects SELECT _line AS line, line AS raw, 'malformed_line' AS reason "
        f"FROM _lines WHERE NOT ({ok})"
    )
    keys = [
        str(k[0])
        for k in con.execute(
            f"SELECT DISTINCT unnest(json_keys(line::JSON)) FROM _lines WHERE {ok}"
        ).fetchall()
    ]
    kept, notes = _extras(kind, keys)
    if kept:
        con.execute(
            f"UPDATE _staging s SET {_EXTRA_INTO[kind]} = (SELECT "
            + _packed(kind, kept, "line::JSON -> '$.{}'").removesuffix(f" AS {_EXTRA_INTO[kind]}")
            + " FROM _lines l WHERE l._line = s._line)"
        )
    con.execute("DROP TABLE _lines")
    return keys, notes


def ingest(
    warehouse: Warehouse,
    path: Path | str,
    kind: Kind,
    *,
    experiments: Mapping[str, Sequence[str]] | None = None,
    restate: bool = False,
) -> LoadReport:
    """Validate and load one file of exposures or events into the warehouse.

    Args:
        warehouse: the target warehouse.
        path: a Parquet, CSV or JSON Lines file in the data model's shape.
        kind: ``events``, ``exposures`` or ``units`` (attributes of units, any
            time after their exposures: ``unit_id``, an optional ``as_of``, and
            any other columns).
        experiments: for exposures, the known experiments and their variants;
            rows naming others are quarantined (no check when None).
        restate: the file corrects rows sent before: a row whose key (an
            event's ``event_id``; an exposure's experiment, unit, variant and
            time) is already in the warehouse replaces that row instead of
            being dropped as a duplicate.

    Raises:
        DataError: the file is missing, of an unknown type, or lacks a
            required column (nothing is loaded).
    """
    if kind not in TABLES:
        raise DataError(f"kind must be 'events', 'exposures', 'units' or 'markets', got {kind!r}")
    p = Path(path)
    if not p.is_file():
        raise DataError("no such file", file=str(p))
    sha, mixed = _scan(p)
    fmt, read_notes = _format(p)
    con = warehouse.con
    with warehouse.transaction(), tempfile.TemporaryDirectory() as tmp:
        read = p
        if mixed and fmt == "csv":
            # one file, two kinds of line end (an edited export): read a copy with one
            read = Path(tmp) / p.name
            with p.open("rb") as src, read.open("wb") as dst:
                for line in src:
                    dst.write(line.replace(b"\r\n", b"\n"))
        try:
            present, notes = _stage(con, read, kind, fmt)
        except duckdb.Error as exc:
            # DuckDB's own report runs to a page of reader options: its first line says it
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            what = {"json-array": "the JSON array", "parquet": "the Parquet file"}.get(fmt, "it")
            raise DataError(f"cannot read {what}: {first}", file=str(p)) from None
        notes = [*read_notes, *notes]
        if restate and kind == "units":
            notes.append(
                "--restate replaces events and exposures; attributes of units are kept as "
                "history (each row holds as of its as_of), so nothing was replaced"
            )
        if mixed and fmt == "csv":
            notes = [*notes, "the file mixes Windows and Unix line ends: read as one kind"]
        missing = [c for c in _REQUIRED[kind] if c not in present]
        if missing:
            raise DataError(
                f"required column missing (have: {', '.join(present) or 'none'})",
                file=str(p),
                field=missing[0],
            )
        _validate(con, kind, experiments)
        report = _commit(con, kind, str(p), sha, restate)
    return dataclasses.replace(report, notes=tuple(notes)) if notes else report


def _validate(
    con: duckdb.DuckDBPyConnection, kind: Kind, experiments: Mapping[str, Sequence[str]] | None
) -> None:
    if kind == "exposures":
        pairs = [(k, v) for k, vs in (experiments or {}).items() for v in vs]
        keys = list((experiments or {}).keys())
        con.execute("CREATE OR REPLACE TEMP TABLE _known_pairs (k VARCHAR, v VARCHAR)")
        if pairs:
            con.executemany("INSERT INTO _known_pairs VALUES (?, ?)", pairs)
        known = "TRUE" if experiments is not None else "FALSE"
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _checked AS
            SELECT s.*, {known} AS _known,
                trim(s.experiment_key) IN (SELECT unnest(?::VARCHAR[])) AS _known_experiment,
                EXISTS (SELECT 1 FROM _known_pairs kp WHERE kp.k = trim(s.experiment_key)
                        AND kp.v = trim(s.variant_key)) AS _known_variant
            FROM _staging s""",
            [keys],
        )
    else:
        con.execute("CREATE OR REPLACE TEMP TABLE _checked AS SELECT * FROM _staging")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _verdict AS "
        f"SELECT *, {_RULES[kind]} AS _reason FROM _checked"
    )


def _same(column: str) -> str:
    """The dedupe comparison of a key column (as_of may be null: null equals null)."""
    if column == "as_of":
        return "w.as_of IS NOT DISTINCT FROM t.as_of"
    return f"w.{column} = t.{column}"


def _commit(
    con: duckdb.DuckDBPyConnection, kind: Kind, file: str, sha: str, restate: bool = False
) -> LoadReport:
    cols = ", ".join(TABLES[kind].names)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _typed AS SELECT _row AS _r, {_CAST[kind]} "
        "FROM _verdict WHERE _reason IS NULL"
    )
    key = {
        "events": "event_id",
        "exposures": "experiment_key, unit_id, variant_key, timestamp",
        "units": "unit_id, as_of, attributes",
        "markets": "market, period, metric",
    }[kind]
    table = TABLE_NAMES[kind]
    seq = next_load(con)
    replaced = 0
    if restate and kind == "markets":  # corrected figures replace the ones sent before
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _replaced AS
            SELECT w.rowid AS _w FROM {table} w
            WHERE EXISTS (SELECT 1 FROM _typed t
                          WHERE {" AND ".join(_same(c) for c in key.split(", "))})"""
        )
        replaced = int(con.execute("SELECT count(*) FROM _replaced").fetchone()[0])  # type: ignore[index]
        con.execute(f"DELETE FROM {table} WHERE rowid IN (SELECT _w FROM _replaced)")
        con.execute("DROP TABLE _replaced")
    if restate and kind in SEQUENCED:
        # a restated load replaces the rows it sends again: the old ones go, and
        # their units (old and new) are marked for the incremental refresh to rebuild
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _replaced AS
            SELECT w.rowid AS _w, w.unit_id FROM {table} w
            WHERE EXISTS (SELECT 1 FROM _typed t
                          WHERE {" AND ".join(_same(c) for c in key.split(", "))})"""
        )
        replaced = int(con.execute("SELECT count(*) FROM _replaced").fetchone()[0])  # type: ignore[index]
        con.execute(
            "INSERT INTO restated SELECT DISTINCT ?, unit_id, ? FROM "
            "(SELECT unit_id FROM _replaced UNION SELECT unit_id FROM _typed)",
            [kind, seq],
        )
        con.execute(f"DELETE FROM {table} WHERE rowid IN (SELECT _w FROM _replaced)")
        con.execute("DROP TABLE _replaced")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _fresh AS
        SELECT * EXCLUDE (_k) FROM (
            SELECT *, row_number() OVER (PARTITION BY {key} ORDER BY _r) AS _k FROM _typed
        ) t
        WHERE _k = 1 AND NOT EXISTS (
            SELECT 1 FROM {table} w
            WHERE {" AND ".join(_same(c) for c in key.split(", "))}
        )"""
    )
    if kind in SEQUENCED:
        con.execute(
            f"INSERT INTO {table} ({cols}, load_seq) SELECT {cols}, ? FROM _fresh ORDER BY _r",
            [seq],
        )
    else:
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _fresh ORDER BY _r")
    reason_rows = con.execute(
        "SELECT _reason, count(*) FROM _verdict WHERE _reason IS NOT NULL GROUP BY 1"
    ).fetchall()
    rejected_rows = con.execute("SELECT reason, count(*) FROM _rejects GROUP BY 1").fetchall()
    n_rejected = sum(int(n) for _, n in rejected_rows)
    con.execute(
        f"""INSERT INTO quarantine
        SELECT ?, ?, ?, _line, _row, _reason, to_json(v)::VARCHAR, now()
        FROM (SELECT _row, _line, _reason, {cols} FROM _verdict) v
        WHERE _reason IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM quarantine q
            WHERE q.file_sha256 = ? AND q.kind = ? AND q.row = v._row)""",
        [kind, file, sha, sha, kind],
    )
    con.execute(
        """INSERT INTO quarantine
        SELECT ?, ?, ?, line, NULL, reason, raw, now() FROM _rejects r
        WHERE NOT EXISTS (SELECT 1 FROM quarantine q WHERE q.file_sha256 = ? AND q.kind = ?
                          AND q.line = r.line AND q.reason = r.reason)""",
        [kind, file, sha, sha, kind],
    )
    counts = con.execute(
        "SELECT (SELECT count(*) FROM _verdict), (SELECT count(*) FROM _typed), "
        "(SELECT count(*) FROM _fresh)"
    ).fetchone()
    assert counts is not None
    parsed, good, loaded = (int(c) for c in counts)
    reasons = {str(r): int(n) for r, n in reason_rows}
    for reason, n in rejected_rows:
        reasons[str(reason)] = reasons.get(str(reason), 0) + int(n)
    report = LoadReport(
        file=file,
        kind=kind,
        read=parsed + n_rejected,
        loaded=loaded,
        quarantined=(parsed - good) + n_rejected,
        duplicates=good - loaded,
        reasons=dict(sorted(reasons.items())),
        replaced=replaced,
    )
    counts = (report.read, report.loaded, report.quarantined, report.duplicates)
    record_load(con, file, sha, kind, counts, seq)
    for t in ("_staging", "_rejects", "_checked", "_verdict", "_typed", "_fresh", "_known_pairs"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    return report
