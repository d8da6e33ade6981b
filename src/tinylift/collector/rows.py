"""What the collector accepts: one row's shape and limits, and a batch's.

Everything the warehouse would refuse or change is refused here, before a row
is acknowledged, so that "accepted" means stored exactly as sent. Parsing and
validation are plain functions (run off the event loop by the app).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
)

from tinylift.assignment.hashing import MAX_ID_LENGTH
from tinylift.errors import describe_validation
from tinylift.service import data
from tinylift.service.workspace import Workspace

__all__ = [
    "MAX_DEPTH",
    "MAX_JSON_BYTES",
    "RECENT_IDS",
    "BadBatch",
    "BatchResult",
    "EventIn",
    "ExposureIn",
    "KnownExperiments",
    "Rejected",
    "parse_batch",
    "validate_rows",
]

_NAME = r"^[A-Za-z0-9_.:-]{1,100}$"
#: What the warehouse stores, checked before a row is acknowledged, so that
#: "accepted" means stored: a row the loader would refuse is refused here.
MAX_JSON_BYTES = 64 * 1024
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(2100, 1, 1, tzinfo=UTC)


#: Deepest nesting of a row (properties inside an event count their levels).
MAX_DEPTH = 32


def _printable(value: str) -> str:
    """Refuse what a text column cannot keep as sent: NUL, other control
    characters and lone surrogates (which no UTF-8 file can hold)."""
    for ch in value:
        if ch < " " or ch == "\x7f":
            raise ValueError(f"must not hold control characters (found U+{ord(ch):04X})")
        if "\ud800" <= ch <= "\udfff":
            raise ValueError("holds a lone UTF-16 surrogate, which is not text")
    return value


def _id(value: str) -> str:
    if value != value.strip():
        raise ValueError("must not start or end with spaces (they would be trimmed)")
    return _printable(value)


def _strings(value: Any) -> Any:
    """Check every key and string inside a JSON value (iteratively: depth is bounded)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for k, v in item.items():
                if "\x00" in k or any("\ud800" <= ch <= "\udfff" for ch in k):
                    raise ValueError("a key holds NUL or a lone surrogate")
                stack.append(v)
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and (
            "\x00" in item or any("\ud800" <= ch <= "\udfff" for ch in item)
        ):
            raise ValueError("a string holds NUL or a lone surrogate, which cannot be stored")
    return value


def _json_object(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    _strings(value)
    try:
        text = json.dumps(value, allow_nan=False)
    except ValueError:
        raise ValueError("NaN and infinities have no place in JSON") from None
    if len(text.encode()) > MAX_JSON_BYTES:
        raise ValueError(f"larger than {MAX_JSON_BYTES // 1024} KB as JSON")
    return value


def _flat(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """Attributes of a unit: a flat object of text, numbers, true/false or null."""
    for k, v in (value or {}).items():
        if isinstance(v, dict | list):
            kind = "an object" if isinstance(v, dict) else "a list"
            raise ValueError(
                f"must be flat (text, numbers, true/false or null): {k!r} holds {kind}"
            )
    return _json_object(value)


def _in_range(value: datetime) -> datetime:
    if not _EARLIEST <= value < _LATEST:
        raise ValueError("must be between 1970 and 2100")
    return value


def _label(value: str) -> str:
    if not value or value != value.strip():
        raise ValueError("must not be empty or start or end with spaces (leave it out instead)")
    return _printable(value)


Id = Annotated[str, Strict(), Field(min_length=1, max_length=MAX_ID_LENGTH), AfterValidator(_id)]
When = Annotated[AwareDatetime, AfterValidator(_in_range)]  # a time zone is required
Label = Annotated[str, Strict(), Field(max_length=64), AfterValidator(_label)]
Name = Annotated[str, Strict(), Field(pattern=_NAME)]


class EventIn(BaseModel):
    """One event, as the collector accepts it."""

    model_config = ConfigDict(extra="forbid")
    event_id: Id
    unit_id: Id
    timestamp: When
    event_name: Name
    value: Annotated[float | None, Strict(), Field(allow_inf_nan=False)] = None
    properties: Annotated[dict[str, Any] | None, AfterValidator(_json_object)] = None


class ExposureIn(BaseModel):
    """One exposure, as the collector accepts it."""

    model_config = ConfigDict(extra="forbid")
    experiment_key: Name
    variant_key: Name
    unit_id: Id
    timestamp: When
    country: Label | None = None
    platform: Label | None = None
    #: Anything else known about the unit at exposure, for breakdowns.
    attributes: Annotated[dict[str, Any] | None, AfterValidator(_flat)] = None


class Rejected(BaseModel):
    """Why one row of a batch was refused."""

    index: int
    field: str | None
    reason: str


class BatchResult(BaseModel):
    """What happened to a batch."""

    accepted: int
    duplicates: int
    rejected: list[Rejected]


#: How many recently accepted event ids the collector remembers, so that a batch
#: sent again (a client retrying after a lost answer) is counted as duplicates.
RECENT_IDS = 1_000_000

#: Known experiments -> variant keys; None while the registry holds none.
Known = dict[str, frozenset[str]] | None


def _too_deep(value: Any, limit: int) -> bool:
    """Whether a parsed JSON value nests deeper than ``limit`` (no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


def validate_rows(
    kind: Literal["events", "exposures"],
    rows: Sequence[Any],
    known: Known = None,
) -> tuple[list[dict[str, Any]], list[Rejected]]:
    """The rows that may be acknowledged (as spool rows), and why the others are not."""
    model = EventIn if kind == "events" else ExposureIn
    good: list[dict[str, Any]] = []
    bad: list[Rejected] = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            bad.append(Rejected(index=i, field=None, reason="a row must be a JSON object"))
            continue
        deep = next((k for k, v in row.items() if _too_deep(v, MAX_DEPTH)), None)
        if deep is not None:
            bad.append(
                Rejected(index=i, field=str(deep), reason=f"nested deeper than {MAX_DEPTH} levels")
            )
            continue
        try:
            item = model.model_validate(row)
        except ValidationError as exc:
            field, reason = describe_validation(exc)
            bad.append(Rejected(index=i, field=field, reason=reason))
            continue
        data = item.model_dump(mode="json")
        if kind == "exposures" and known is not None:
            variants = known.get(data["experiment_key"])
            if variants is None:
                bad.append(
                    Rejected(
                        index=i,
                        field="experiment_key",
                        reason="no experiment with this key in the registry",
                    )
                )
                continue
            if data["variant_key"] not in variants:
                bad.append(
                    Rejected(
                        index=i,
                        field="variant_key",
                        reason=f"the experiment's variants are {', '.join(sorted(variants))}",
                    )
                )
                continue
        packed = "properties" if kind == "events" else "attributes"
        if data[packed] is not None:
            data[packed] = json.dumps(data[packed])
        good.append(data)
    return good, bad


class BadBatch(Exception):
    """A request body that is no batch at all (not JSON, not an array, too many rows)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def parse_batch(body: bytes, max_rows: int) -> list[Any]:
    """The batch in a request body; never echoes the body in its errors."""
    try:
        rows = json.loads(body)
    except RecursionError:
        raise BadBatch(400, "the body is nested too deeply to read") from None
    except UnicodeDecodeError as exc:
        raise BadBatch(400, f"the body is not UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise BadBatch(
            400, f"the body is not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise BadBatch(400, f"the body is not JSON that can be read ({exc})"[:200]) from None
    if not isinstance(rows, list):
        raise BadBatch(422, "the body must be a JSON array of rows")
    if len(rows) > max_rows:
        raise BadBatch(
            413, f"{len(rows)} rows in one batch; at most {max_rows} are taken (send smaller ones)"
        )
    return rows


class KnownExperiments:
    """The experiments the registry knows, re-read at most once a second when a
    row names one it does not (so a new experiment is accepted at once)."""

    def __init__(self, ws: Workspace, every: float = 30.0) -> None:
        self.ws = ws
        self.every = every
        self._lock = threading.Lock()
        self._known: Known = None
        self._read_at = -1e9

    def _read(self) -> Known:
        known = data.known_experiments(self.ws)
        self._read_at = time.monotonic()
        return None if known is None else {k: frozenset(v) for k, v in known.items()}

    def known(self, rows: Sequence[Any]) -> Known:
        with self._lock:
            age = time.monotonic() - self._read_at
            if age > self.every or (age > 1.0 and self._misses(rows)):
                self._known = self._read()
            return self._known

    def _misses(self, rows: Sequence[Any]) -> bool:
        known = self._known
        if known is None:
            return True
        for r in rows:
            if not isinstance(r, dict):
                continue
            exp, variant = r.get("experiment_key"), r.get("variant_key")
            if isinstance(exp, str) and (exp not in known or variant not in known[exp]):
                return True
        return False
