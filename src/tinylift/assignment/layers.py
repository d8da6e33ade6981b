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

from collections.abc import Mapping, Sequence
from itertools import pairwise
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tinylift.assignment.conditions import eval_condition
from tinylift.assignment.hashing import choose_many, gb_hash, hash_many, id_strings
from tinylift.assignment.rules import (
    ExperimentRule,
    Holdout,
    StickyDocs,
    _attrs,
    _check,
    _hash_value,
    _shared_hash,
)
from tinylift.errors import ConfigError

__all__ = ["Assigner", "ExperimentRule", "Holdout", "StickyDocs"]


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
        if e.forced:  # QA overrides: only the positions whose id is forced
            index = {v: i for i, v in enumerate(e.variants)}
            hits = (
                np.flatnonzero(np.isin(values, list(e.forced)))
                if isinstance(values, np.ndarray)
                else [pos for pos, v in enumerate(values) if v in e.forced]
            )
            for pos in hits:
                out[pos] = index[e.forced[str(values[pos])]]
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
