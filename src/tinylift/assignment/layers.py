"""Layers, traffic allocation, targeting, forced variations, holdouts and sticky buckets.

Layers follow Google's overlapping-experiment design (Tang et al., KDD 2010):
experiments in one layer take disjoint slices of it and never share a unit;
experiments in different layers overlap independently. A layer slice is a
GrowthBook namespace ``(layer, start, end)``, so a GrowthBook SDK given the
same definitions (:mod:`tinylift.assignment.payload`) assigns every unit
exactly as :class:`Assigner` does.

Order of checks for a unit and an experiment, as in GrowthBook's SDKs:
forced variation (QA) → holdout → the hash attribute's value (a missing,
empty, zero or boolean value is in no experiment) → sticky bucket → filters
or layer slice → condition (targeting) → bucket ranges.

**Coverage** means one thing everywhere in tinylift: the share of all units
(all units of the layer, which spans everyone) an experiment enrols. In a
slice ``[a, b)`` it is at most ``b - a``; GrowthBook's own ``coverage``, a
share of the namespace slice, is ``coverage / (b - a)``
(:attr:`ExperimentRule.gb_coverage`), and the SDK payload carries that.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import pairwise
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tinylift.assignment.conditions import eval_condition, validate_condition
from tinylift.assignment.hashing import (
    bucket_ranges,
    choose_many,
    chooser,
    gb_hash,
    hash_many,
    id_string,
    id_strings,
)
from tinylift.errors import ConfigError

__all__ = ["Assigner", "ExperimentRule", "Holdout", "StickyDocs"]

#: GrowthBook's sticky-bucket documents, keyed ``"<attribute>||<value>"``; each is
#: ``{"attributeName", "attributeValue", "assignments": {"<key>__<version>": variant}}``.
StickyDocs = MutableMapping[str, dict[str, Any]]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _frozen(d: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(d)) if d else _EMPTY


@dataclass(frozen=True)
class ExperimentRule:
    """How one experiment assigns units (GrowthBook's experiment, in tinylift's words).

    Attributes:
        key: the experiment key (also the hash seed unless ``seed`` is set).
        variants: variant keys, control first.
        weights: planned shares (equal when None).
        coverage: share of all units enrolled (in a layer: at most the slice's width);
            None: all of the slice (all units without a layer).
        layer: the layer (GrowthBook namespace); None for no layer.
        layer_range: the slice ``[start, end)`` of the layer this experiment owns.
        targeting: attribute -> allowed string values (shorthand for ``$in`` conditions).
        condition: a GrowthBook condition on the unit's attributes (all of targeting
            and condition must hold).
        forced: hash value (unit id) -> variant key, for QA.
        seed: the hash seed (the key when None).
        hash_attribute: the attribute whose value is hashed (``id``: the unit id).
        fallback_attribute: hashed when the hash attribute has no value, only with
            sticky bucketing (as in GrowthBook's SDKs).
        hash_version: GrowthBook's hash version, 1 or 2.
        fixed_ranges: explicit bucket ranges, one per variant, which replace the ones
            coverage and weights give (they may be unordered or overlap: the first
            holding the unit's hash wins).
        filters: GrowthBook filters, each ``{"seed", "ranges", "hashVersion",
            "attribute"}``: a unit must fall in one of the ranges of every filter.
        bucket_version, min_bucket_version: sticky-bucket versions; sticky
            assignments made before ``min_bucket_version`` exclude the unit.
    """

    key: str
    variants: tuple[str, ...]
    weights: tuple[float, ...] | None = None
    coverage: float | None = None
    layer: str | None = None
    layer_range: tuple[float, float] = (0.0, 1.0)
    targeting: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: _EMPTY)
    forced: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    seed: str | None = None
    condition: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    hash_attribute: str = "id"
    fallback_attribute: str | None = None
    hash_version: int = 2
    fixed_ranges: tuple[tuple[float, float], ...] | None = None
    filters: tuple[Mapping[str, Any], ...] = ()
    bucket_version: int = 0
    min_bucket_version: int = 0

    @property
    def width(self) -> float:
        """The share of units the experiment's slice of its layer holds (1 without a layer)."""
        return self.layer_range[1] - self.layer_range[0] if self.layer is not None else 1.0

    @property
    def share(self) -> float:
        """The share of all units enrolled (``coverage``, or the whole slice)."""
        return self.width if self.coverage is None else self.coverage

    @property
    def gb_coverage(self) -> float:
        """GrowthBook's coverage: the share of the namespace slice enrolled."""
        if self.coverage is None:
            return 1.0
        width = self.width
        return min(1.0, self.coverage / width) if width > 0 else 0.0

    @cached_property
    def ranges(self) -> list[tuple[float, float]]:
        """Bucket ranges of the variants (GrowthBook's getBucketRanges, or the fixed ones)."""
        if self.fixed_ranges is not None:
            return [(float(lo), float(hi)) for lo, hi in self.fixed_ranges]
        return bucket_ranges(len(self.variants), self.gb_coverage, self.weights)

    @cached_property
    def choose(self) -> Callable[[float], int]:
        """Variant index for a hash value (-1: outside every range)."""
        return chooser(self.ranges)

    @cached_property
    def full_condition(self) -> dict[str, Any]:
        """Targeting and condition as one GrowthBook condition ({} when there is none)."""
        targeting = {k: {"$in": list(v)} for k, v in self.targeting.items()}
        cond = dict(self.condition)
        if not targeting:
            return cond
        if not cond:
            return targeting
        return {"$and": [targeting, cond]}

    @cached_property
    def all_filters(self) -> list[dict[str, Any]]:
        """Filters, with the layer slice as one more when filters are given.

        GrowthBook ignores the namespace of an experiment that has filters, so
        the slice travels as a filter then (the namespace hash is version 1 with
        the seed ``"__" + layer``).
        """
        out = [dict(f) for f in self.filters]
        if out and self.layer is not None:
            out.append(
                {
                    "seed": "__" + self.layer,
                    "ranges": [list(self.layer_range)],
                    "hashVersion": 1,
                    "attribute": self.hash_attribute,
                }
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, as the SDK configuration serves it."""
        return {
            "key": self.key,
            "variants": list(self.variants),
            "weights": list(self.weights) if self.weights else None,
            "coverage": self.coverage,
            "layer": self.layer,
            "layer_range": list(self.layer_range),
            "targeting": {k: list(v) for k, v in self.targeting.items()},
            "condition": dict(self.condition),
            "forced": dict(self.forced),
            "seed": self.seed,
            "hash_attribute": self.hash_attribute,
            "fallback_attribute": self.fallback_attribute,
            "hash_version": self.hash_version,
            "fixed_ranges": [list(r) for r in self.fixed_ranges] if self.fixed_ranges else None,
            "filters": [dict(f) for f in self.filters],
            "bucket_version": self.bucket_version,
            "min_bucket_version": self.min_bucket_version,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ExperimentRule:
        """The inverse of :meth:`to_dict`."""
        ranges = d.get("fixed_ranges")
        return cls(
            key=d["key"],
            variants=tuple(d["variants"]),
            weights=tuple(d["weights"]) if d.get("weights") else None,
            coverage=float(d["coverage"]) if d.get("coverage") is not None else None,
            layer=d.get("layer"),
            layer_range=(float(d["layer_range"][0]), float(d["layer_range"][1]))
            if d.get("layer_range")
            else (0.0, 1.0),
            targeting=MappingProxyType({k: tuple(v) for k, v in d.get("targeting", {}).items()}),
            forced=_frozen(d.get("forced")),
            seed=d.get("seed"),
            condition=_frozen(d.get("condition")),
            hash_attribute=d.get("hash_attribute") or "id",
            fallback_attribute=d.get("fallback_attribute"),
            hash_version=int(d.get("hash_version", 2)),
            fixed_ranges=tuple((float(a), float(b)) for a, b in ranges) if ranges else None,
            filters=tuple(MappingProxyType(dict(f)) for f in d.get("filters") or ()),
            bucket_version=int(d.get("bucket_version", 0)),
            min_bucket_version=int(d.get("min_bucket_version", 0)),
        )


@dataclass(frozen=True)
class Holdout:
    """A share of units kept out of every experiment in scope (and of shipped changes).

    GrowthBook-style: a unit is held out when ``hash(seed, value, 2) < share``,
    which is what a GrowthBook SDK computes for the payload's
    ``$holdout:<key>`` feature (its ``holdoutcontrol`` variation).
    """

    key: str
    share: float
    experiments: tuple[str, ...] | None = None  # None: every experiment
    variants: tuple[str, str] = ("holdout", "general")
    hash_attribute: str = "id"
    seed: str | None = None

    def holds(self, unit_id: object, attributes: Mapping[str, object] | None = None) -> bool:
        """Whether the unit (its id, or its hash attribute's value) is in this holdout."""
        value = _hash_value(_attrs(unit_id, attributes), self.hash_attribute)
        if not value:
            return False
        return _shared_hash(self.seed or self.key, value, 2) < self.share

    def covers(self, experiment: str) -> bool:
        """Whether the holdout applies to an experiment."""
        return self.experiments is None or experiment in self.experiments

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        exps = list(self.experiments) if self.experiments is not None else None
        return {
            "key": self.key,
            "share": self.share,
            "experiments": exps,
            "variants": list(self.variants),
            "hash_attribute": self.hash_attribute,
            "seed": self.seed,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Holdout:
        """The inverse of :meth:`to_dict`."""
        exps = d.get("experiments")
        variants = d.get("variants") or ("holdout", "general")
        return cls(
            d["key"],
            float(d["share"]),
            tuple(exps) if exps is not None else None,
            (str(variants[0]), str(variants[1])),
            d.get("hash_attribute") or "id",
            d.get("seed"),
        )


_SEEN: dict[tuple[str, str, int], float] = {}
_SEEN_CHARS = 0
#: Characters of ids the cache below may hold (bounded memory whatever the ids).
_SEEN_LIMIT = 2_000_000


def _shared_hash(seed: str, value: str, version: int) -> float:
    """``gb_hash`` for hashes many experiments repeat for one unit (holdouts, layers).

    Assigning one unit to every experiment hashes its id with each holdout's and
    each layer's seed again and again; the last few thousand answers are kept.
    """
    global _SEEN_CHARS
    key = (seed, value, version)
    found = _SEEN.get(key)
    if found is None:
        n = gb_hash(seed, value, version)
        assert n is not None
        if _SEEN_CHARS + len(value) > _SEEN_LIMIT:
            _SEEN.clear()
            _SEEN_CHARS = 0
        _SEEN[key] = found = n
        _SEEN_CHARS += len(value) + len(seed)
    return found


def _attrs(unit_id: object, attributes: Mapping[str, object] | None) -> Mapping[str, object]:
    if unit_id is None:
        return attributes or {}
    return {**(attributes or {}), "id": unit_id}


def _hash_value(attrs: Mapping[str, object], attribute: str) -> str:
    return id_string(attrs.get(attribute))


def _check(rule: ExperimentRule) -> None:
    lo, hi = rule.layer_range
    if not 0 <= lo <= hi <= 1:
        raise ConfigError(
            f"layer_range must lie within [0, 1], got {rule.layer_range}", parameter=rule.key
        )
    if len(rule.variants) < 2:
        raise ConfigError("needs at least two variants", parameter=rule.key)
    if rule.coverage is not None and not 0 <= rule.coverage <= 1:
        raise ConfigError(f"coverage must be in [0, 1], got {rule.coverage}", parameter=rule.key)
    if rule.layer is not None and rule.coverage is not None and rule.coverage > rule.width + 1e-9:
        raise ConfigError(
            f"coverage {rule.coverage:g} is more than the slice's {rule.width:g} of layer "
            f"{rule.layer!r} (coverage is a share of all units)",
            parameter=rule.key,
        )
    if rule.hash_version not in (1, 2):
        raise ConfigError(
            f"hash_version must be 1 or 2, got {rule.hash_version}", parameter=rule.key
        )
    if rule.fixed_ranges is not None and len(rule.fixed_ranges) != len(rule.variants):
        raise ConfigError(
            f"fixed_ranges has {len(rule.fixed_ranges)} ranges for {len(rule.variants)} variants",
            parameter=rule.key,
        )
    for unit, v in rule.forced.items():
        if v not in rule.variants:
            raise ConfigError(
                f"forced variant {v!r} for {unit!r} is not a variant", parameter=rule.key
            )
    problems = validate_condition(dict(rule.condition), f"{rule.key}.condition")
    if problems:
        raise ConfigError("; ".join(problems), parameter=rule.key)
    for i, f in enumerate(rule.filters):
        if not isinstance(f.get("ranges"), list | tuple):
            raise ConfigError(f"filters[{i}] needs a list of ranges", parameter=rule.key)


class Assigner:
    """Assigns units to the variants of many experiments, locally and deterministically."""

    def __init__(
        self,
        experiments: Sequence[ExperimentRule],
        holdouts: Sequence[Holdout] = (),
        saved_groups: Mapping[str, Sequence[object]] | None = None,
    ):
        keys = [e.key for e in experiments]
        dup = {k for k in keys if keys.count(k) > 1}
        if dup:
            raise ConfigError(
                f"experiment {sorted(dup)[0]!r} is defined twice", parameter="experiments"
            )
        for e in experiments:
            _check(e)
        by_layer: dict[str, list[ExperimentRule]] = {}
        for e in experiments:
            if e.layer is not None:
                by_layer.setdefault(e.layer, []).append(e)
        for layer, members in by_layer.items():
            ordered = sorted(members, key=lambda e: e.layer_range)
            for a, b in pairwise(ordered):
                if b.layer_range[0] < a.layer_range[1]:
                    raise ConfigError(
                        f"experiments {a.key!r} and {b.key!r} overlap in layer {layer!r} "
                        f"({a.layer_range} and {b.layer_range}); slices of a layer must be "
                        "disjoint",
                        parameter="layer_range",
                    )
        for h in holdouts:
            if not 0 <= h.share < 1:
                raise ConfigError(f"share must be in [0, 1), got {h.share}", parameter=h.key)
        self.experiments = {e.key: e for e in experiments}
        self.holdouts = tuple(holdouts)
        self.saved_groups: Mapping[str, Sequence[object]] = dict(saved_groups or {})

    def to_dict(self) -> dict[str, Any]:
        """The SDK configuration document."""
        return {
            "experiments": [e.to_dict() for e in self.experiments.values()],
            "holdouts": [h.to_dict() for h in self.holdouts],
            "saved_groups": {k: list(v) for k, v in self.saved_groups.items()},
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Assigner:
        """An assigner from an SDK configuration document."""
        return cls(
            [ExperimentRule.from_dict(e) for e in doc.get("experiments", [])],
            [Holdout.from_dict(h) for h in doc.get("holdouts", [])],
            doc.get("saved_groups") or {},
        )

    # -- one unit --------------------------------------------------------------

    def held_out(
        self, unit_id: object, experiment: str, attributes: Mapping[str, object] | None = None
    ) -> bool:
        """Whether a holdout keeps this unit out of this experiment."""
        return any(h.covers(experiment) and h.holds(unit_id, attributes) for h in self.holdouts)

    def variant(
        self,
        experiment: str,
        unit_id: object = None,
        attributes: Mapping[str, object] | None = None,
        *,
        sticky: StickyDocs | None = None,
    ) -> str | None:
        """The unit's variant key in one experiment, or None when not enrolled.

        ``unit_id`` is the ``id`` attribute (it may also come in ``attributes``).
        A missing, empty, zero or boolean hash value is in no experiment, as in
        GrowthBook's SDKs; numbers are hashed as JavaScript writes them. With
        ``sticky`` (GrowthBook's sticky-bucket documents, updated in place) a
        unit keeps the variant it was first given while the bucket version holds.
        """
        e = self.experiments[experiment]
        attrs = _attrs(unit_id, attributes)
        attr = e.hash_attribute
        value = _hash_value(attrs, attr)
        if value and value in e.forced:
            return e.forced[value]
        if self.held_out(None, experiment, attrs):
            return None
        if e.all_filters and not _passes_filters(e.all_filters, attrs):
            return None  # filters apply before sticky buckets, as in a feature rule
        if not value and sticky is not None and e.fallback_attribute:
            attr = e.fallback_attribute
            value = _hash_value(attrs, attr)
        if not value:
            return None
        found = -1
        if sticky is not None:
            assignments = _sticky_assignments(sticky, e, attrs)
            if any(f"{e.key}__{v}" in assignments for v in range(e.min_bucket_version)):
                return None  # assigned under a version since retired
            kept = assignments.get(f"{e.key}__{e.bucket_version}")
            if kept in e.variants:
                found = e.variants.index(kept)
        if found < 0:
            if not e.all_filters and e.layer is not None:
                slot = _shared_hash("__" + e.layer, value, 1)
                if not e.layer_range[0] <= slot < e.layer_range[1]:
                    return None
            cond = e.full_condition
            if cond and not eval_condition(attrs, cond, self.saved_groups):
                return None
            n = gb_hash(e.seed or e.key, value, e.hash_version)
            assert n is not None
            found = e.choose(n)
            if found < 0:
                return None
        if sticky is not None:
            _save_sticky(sticky, attr, value, f"{e.key}__{e.bucket_version}", e.variants[found])
        return e.variants[found]

    def assign(
        self, unit_id: object, attributes: Mapping[str, object] | None = None
    ) -> dict[str, str]:
        """Every experiment the unit is enrolled in, with its variant."""
        out = {}
        for key in self.experiments:
            v = self.variant(key, unit_id, attributes)
            if v is not None:
                out[key] = v
        return out

    # -- many units at once ---------------------------------------------------

    def assign_many(
        self,
        experiment: str,
        unit_ids: ArrayLike | None,
        attributes: Mapping[str, ArrayLike] | None = None,
    ) -> NDArray[np.int64]:
        """Variant index per unit in one experiment (-1: not enrolled), vectorised.

        ``attributes`` maps names to columns as long as ``unit_ids``. Gives what
        :meth:`variant` gives unit by unit (without sticky buckets): missing,
        empty, zero and boolean ids are not enrolled. Hashing is linear in the
        ids' total length with bounded memory (see :func:`hash_many`); a
        condition beyond ``$in`` on string columns is evaluated unit by unit.
        """
        e = self.experiments[experiment]
        columns = dict(attributes or {})
        if unit_ids is not None:
            columns["id"] = unit_ids
        n = _length(columns)
        values = _column_ids(columns, e.hash_attribute, n)
        enrolled = _named(values)
        for h in self.holdouts:
            if h.covers(experiment):
                hv = _column_ids(columns, h.hash_attribute, n)
                enrolled &= ~(_named(hv) & (hash_many(h.seed or h.key, hv, 2) < h.share))
        enrolled &= self._slices_many(e, columns, values, n)
        cond = e.full_condition
        if cond:
            enrolled &= self._condition_many(e, columns, n)
        out = np.where(
            enrolled, choose_many(hash_many(e.seed or e.key, values, e.hash_version), e.ranges), -1
        )
        if e.forced:
            index = {v: i for i, v in enumerate(e.variants)}
            for pos in range(n):
                variant = e.forced.get(str(values[pos]))
                if variant is not None and values[pos]:
                    out[pos] = index[variant]
        return out.astype(np.int64)

    def _slices_many(
        self,
        e: ExperimentRule,
        columns: Mapping[str, ArrayLike],
        values: list[str] | NDArray[np.str_],
        n: int,
    ) -> NDArray[np.bool_]:
        ok = np.ones(n, dtype=bool)
        filters = e.all_filters
        if filters:
            for f in filters:
                fv = _column_ids(columns, f.get("attribute") or "id", n)
                h = hash_many(str(f.get("seed", "")), fv, int(f.get("hashVersion", 2)))
                inside = np.zeros(n, dtype=bool)
                for lo, hi in f["ranges"]:
                    inside |= (h >= lo) & (h < hi)
                ok &= inside & _named(fv)
        elif e.layer is not None:
            h = hash_many("__" + e.layer, values, 1)
            ok &= (h >= e.layer_range[0]) & (h < e.layer_range[1])
        return ok

    def _condition_many(
        self, e: ExperimentRule, columns: Mapping[str, ArrayLike], n: int
    ) -> NDArray[np.bool_]:
        if not e.condition:  # targeting only: $in on columns of strings
            ok = np.ones(n, dtype=bool)
            for name, allowed in e.targeting.items():
                col = columns.get(name)
                arr = np.asarray(col) if col is not None else None
                if arr is None:
                    ok[:] = False
                elif arr.dtype.kind == "U":
                    ok &= np.isin(arr, list(allowed))
                else:
                    ok &= np.fromiter(
                        (isinstance(v, str) and v in allowed for v in arr), dtype=bool, count=n
                    )
            return ok
        names = list(columns)
        lists = [_as_list(columns[k]) for k in names]
        cond = e.full_condition
        return np.fromiter(
            (
                eval_condition(dict(zip(names, row, strict=True)), cond, self.saved_groups)
                for row in zip(*lists, strict=True)
            )
            if names
            else (eval_condition({}, cond, self.saved_groups) for _ in range(n)),
            dtype=bool,
            count=n,
        )


def _as_list(col: ArrayLike) -> list[object]:
    return col.tolist() if isinstance(col, np.ndarray) else list(col)  # type: ignore[arg-type]


def _length(columns: Mapping[str, ArrayLike]) -> int:
    lengths = {len(v) for v in columns.values()}  # type: ignore[arg-type]
    if len(lengths) > 1:
        raise ConfigError(
            "unit ids and attribute columns must be equally long "
            f"(got {', '.join(f'{k}: {len(v)}' for k, v in columns.items())})",  # type: ignore[arg-type]
            parameter="attributes",
        )
    return lengths.pop() if lengths else 0


def _column_ids(
    columns: Mapping[str, ArrayLike], name: str, n: int
) -> list[str] | NDArray[np.str_]:
    col = columns.get(name)
    if col is None:
        return np.full(n, "", dtype="<U1")
    if isinstance(col, np.ndarray | list | tuple):
        return id_strings(col)
    return id_strings(np.asarray(col))


def _named(values: list[str] | NDArray[np.str_]) -> NDArray[np.bool_]:
    if isinstance(values, np.ndarray):
        return np.asarray(values != "", dtype=bool)
    return np.fromiter((v != "" for v in values), dtype=bool, count=len(values))


def _passes_filters(filters: Sequence[Mapping[str, Any]], attrs: Mapping[str, object]) -> bool:
    for f in filters:
        value = _hash_value(attrs, f.get("attribute") or "id")
        if not value:
            return False
        n = gb_hash(str(f.get("seed", "")), value, int(f.get("hashVersion", 2)))
        if n is None or not any(lo <= n < hi for lo, hi in f["ranges"]):
            return False
    return True


def _sticky_assignments(
    docs: StickyDocs, e: ExperimentRule, attrs: Mapping[str, object]
) -> dict[str, str]:
    merged: dict[str, str] = {}
    value = _hash_value(attrs, e.hash_attribute)
    doc = docs.get(f"{e.hash_attribute}||{value}")
    if doc:
        merged.update(doc.get("assignments", {}))
    if e.fallback_attribute:
        fallback = docs.get(f"{e.fallback_attribute}||{_hash_value(attrs, e.fallback_attribute)}")
        for k, v in (fallback or {}).get("assignments", {}).items():
            merged.setdefault(k, v)
    return merged


def _save_sticky(docs: StickyDocs, attr: str, value: str, key: str, variant: str) -> None:
    doc = docs.setdefault(
        f"{attr}||{value}", {"attributeName": attr, "attributeValue": value, "assignments": {}}
    )
    doc.setdefault("assignments", {})[key] = variant
