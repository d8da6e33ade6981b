"""The metric catalog: ``metrics.yml`` loaded, validated and resolved.

One definition per metric, as code. Every problem is reported before any
query runs, naming the file, the metric and the field.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from tinylift.config import parse_yaml
from tinylift.errors import ConfigError, NotFound, describe_validation
from tinylift.metrics.model import (
    VALUE_COLUMNS,
    EventDef,
    MeanMetric,
    Metric,
    ProportionMetric,
    QuantileMetric,
    RatioMetric,
    Source,
)

__all__ = ["CATALOG_FILE", "Catalog", "load_catalog", "parse_catalog"]

CATALOG_FILE = "metrics.yml"
_METRIC = TypeAdapter(Metric)


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    events: dict[str, EventDef] = Field(default_factory=dict)
    metrics: list[dict[str, Any]] = Field(default_factory=list)
    #: What every analysis breaks results down by, beyond country and platform:
    #: keys of the exposures' attributes (a legislator's party, a customer's tier).
    dimensions: list[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")]] = Field(
        default_factory=list
    )


@dataclass(frozen=True)
class Catalog:
    """Validated metric definitions, by name, with the events they use."""

    metrics: Mapping[str, Metric]
    events: Mapping[str, EventDef]
    origin: str
    version: str
    dimensions: tuple[str, ...] = ()

    def __iter__(self) -> Any:
        return iter(self.metrics.values())

    def __len__(self) -> int:
        return len(self.metrics)

    def get(self, name: str) -> Metric:
        """The metric called ``name``; NotFound suggests near names."""
        try:
            return self.metrics[name]
        except KeyError:
            close = difflib.get_close_matches(name, list(self.metrics), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise NotFound(f"no metric {name!r} in {self.origin}{hint}") from None

    def source(self, side: str | Source) -> Source:
        """Resolve one side of a ratio to the per-unit measure it names."""
        if isinstance(side, Source):
            return side
        m = self.get(side)
        assert isinstance(m, MeanMetric)  # guaranteed by validation
        return Source(event=m.event, value=m.value, filter=m.filter)

    def select(self, names: Iterable[str] | None = None) -> list[Metric]:
        """The named metrics (all when None), in catalog order."""
        if names is None:
            return list(self.metrics.values())
        return [self.get(n) for n in names]


def _where(origin: str, metric: str | None, field: str | None) -> str:
    parts = [origin]
    if metric is not None:
        parts.append(f"metric {metric!r}")
    if field:
        parts.append(f"field {field!r}")
    return ", ".join(parts)


def _fail(origin: str, metric: str | None, field: str | None, message: str) -> ConfigError:
    return ConfigError(f"{_where(origin, metric, field)}: {message}")


#: Parts of pydantic's error paths that are no field of the user's: the union
#: tags ("mean", "ratio" ...) and the branches of a union ("str", "Source" ...).
_TAGS = frozenset({"proportion", "mean", "ratio", "quantile"})
_BRANCHES = frozenset({"constrained-str", "Source", "str", "int", "float", "bool"})


def _explain(exc: ValidationError, entry: Any) -> tuple[str | None, str]:
    """The field and a message for a person, from the errors of one metric."""
    errors = exc.errors()
    err = errors[0]
    side = err["loc"][1] if len(err["loc"]) > 1 else None
    if (
        side in ("numerator", "denominator")
        and isinstance(entry, dict)
        and isinstance(entry.get(str(side)), dict)
    ):
        # a side written as a mapping is a source: its own errors say what is wrong
        err = next((e for e in errors if e["loc"][1:3] == (side, "Source")), err)
    loc = [str(p) for p in err["loc"]]
    if loc and loc[0] in _TAGS:
        loc = loc[1:]
    loc = [p for p in loc if p not in _BRANCHES]
    field = ".".join(loc) or None
    msg = str(err["msg"]).removeprefix("Value error, ")
    value = err.get("input")
    if "[key]" in loc:  # a mapping's key: name the mapping
        field = ".".join(loc[: loc.index("[key]") - 1])
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        msg = f"{shown} is not a property name (letters, digits and _, 63 at most)"
    elif field and "filter." in field:
        i = loc.index("filter")
        field = ".".join(loc[: i + 2])  # the filter's key, not the branch tried
        if isinstance(value, date):
            msg = (
                f"YAML reads {value.isoformat()} as a date; quote it ('{value.isoformat()}') to "
                "compare the text"
            )
        else:
            shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
            msg = f"{shown} is not a filter value: text, a finite number or true/false"
    elif err["type"] == "string_pattern_mismatch":
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        msg = f"{shown} is not allowed here (letters, digits and _ only)"
    return field, msg


def parse_catalog(text: str, *, origin: str = CATALOG_FILE) -> Catalog:
    """Validate catalog YAML text; raise ConfigError naming metric and field."""
    raw = parse_yaml(text, origin=origin) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{origin}: expected a mapping with 'metrics:' (and 'events:')")
    try:
        doc = _File.model_validate(raw)
    except ValidationError as exc:
        loc = exc.errors()[0]["loc"]
        if len(loc) == 2 and loc[0] == "metrics" and isinstance(loc[1], int):
            raise _fail(
                origin,
                f"#{loc[1] + 1}",
                None,
                "a metric is a mapping, e.g. {name: revenue, type: mean, event: purchase}",
            ) from None
        field, msg = describe_validation(exc)
        raise _fail(origin, None, field, msg) from None

    metrics: dict[str, Metric] = {}
    for i, entry in enumerate(doc.metrics):
        name = entry.get("name") if isinstance(entry, dict) else None
        label = str(name) if name is not None else f"#{i + 1}"
        try:
            metric = _METRIC.validate_python(entry)
        except ValidationError as exc:
            field, msg = _explain(exc, entry)
            raise _fail(origin, label, field, msg) from None
        if metric.name in metrics:
            raise _fail(origin, metric.name, "name", "defined twice; each metric is defined once")
        metrics[metric.name] = metric

    if not metrics:
        raise ConfigError(
            f"{origin}: no metrics defined; add at least one under 'metrics:' (the OEC first, "
            "e.g. {name: conversion, type: proportion, event: purchase, role: oec})"
        )
    _check_references(origin, metrics, doc.events)
    oecs = [m.name for m in metrics.values() if m.role == "oec"]
    if len(oecs) > 1:
        raise _fail(
            origin, oecs[1], "role", f"only one metric can be the OEC; {oecs[0]!r} already is"
        )
    version = hashlib.sha256(text.encode()).hexdigest()[:12]
    return Catalog(metrics, doc.events, origin, version, tuple(dict.fromkeys(doc.dimensions)))


def _check_source(
    origin: str,
    metric: str,
    field: str,
    src: Source | MeanMetric | ProportionMetric | QuantileMetric,
    events: Mapping[str, EventDef],
) -> None:
    prefix = f"{field}." if field else ""
    if events and src.event not in events:
        close = difflib.get_close_matches(src.event, list(events), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise _fail(
            origin,
            metric,
            f"{prefix}event",
            f"unknown event {src.event!r}{hint}; declared: {', '.join(sorted(events))}",
        )
    value = getattr(src, "value", "count")
    if value not in VALUE_COLUMNS:
        raise _fail(
            origin,
            metric,
            f"{prefix}value",
            f"unknown column {value!r}; use 'value' (sum the event's value) "
            "or 'count' (count events)",
        )
    if events:
        declared = events[src.event].properties
        for key in src.filter:
            if key not in declared:
                raise _fail(
                    origin,
                    metric,
                    f"{prefix}filter.{key}",
                    f"event {src.event!r} has no property {key!r}",
                )


def _check_references(
    origin: str, metrics: Mapping[str, Metric], events: Mapping[str, EventDef]
) -> None:
    for m in metrics.values():
        if isinstance(m, (MeanMetric, ProportionMetric, QuantileMetric)):
            _check_source(origin, m.name, "", m, events)
        if isinstance(m, QuantileMetric) and m.value != "value":
            raise _fail(origin, m.name, "value", "a quantile metric needs value: value")
    # ratio sides: references must exist, form no cycle, and be mean metrics
    for m in metrics.values():
        if not isinstance(m, RatioMetric):
            continue
        for field in ("numerator", "denominator"):
            side = getattr(m, field)
            path = [m.name]
            while isinstance(side, str):
                if side not in metrics:
                    raise _fail(origin, m.name, field, f"refers to unknown metric {side!r}")
                if side in path:
                    cycle = " -> ".join([*path, side])
                    raise _fail(origin, m.name, field, f"circular definition: {cycle}")
                path.append(side)
                target = metrics[side]
                side = getattr(target, field, None) if isinstance(target, RatioMetric) else None
            ref = getattr(m, field)
            if isinstance(ref, str):
                if not isinstance(metrics[ref], MeanMetric):
                    raise _fail(
                        origin,
                        m.name,
                        field,
                        f"{ref!r} is a {metrics[ref].type} metric; a ratio's sides "
                        "must be mean metrics or inline sources",
                    )
            else:
                _check_source(origin, m.name, field, ref, events)


def load_catalog(path: Path | str) -> Catalog:
    """Load ``metrics.yml`` (or a workspace folder holding one)."""
    p = Path(path)
    if p.is_dir():
        p = p / CATALOG_FILE
    if not p.exists():
        raise ConfigError(f"{p}: no metric catalog here (create {CATALOG_FILE})")
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read the metric catalog ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{p}: not UTF-8 text (byte {exc.start}); save the catalog as UTF-8"
        ) from None
    return parse_catalog(text, origin=str(p))
