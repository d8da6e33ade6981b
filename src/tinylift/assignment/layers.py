"""Layers, traffic allocation, targeting, forced variations and holdouts.

Layers follow Google's overlapping-experiment design (Tang et al., KDD 2010):
experiments in one layer take disjoint slices of it and never share a unit;
experiments in different layers overlap independently. A layer slice is a
GrowthBook namespace ``(layer, start, end)``, so a GrowthBook SDK given the
same definitions assigns every unit exactly as :class:`Assigner` does.

Order of checks for a unit and an experiment: forced variation (QA) →
holdout → targeting → layer slice → traffic allocation and weights.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import pairwise
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tinylift.assignment.hashing import (
    bucket_ranges,
    choose_many,
    chooser,
    gb_hash,
    hash_many,
    in_namespace,
)
from tinylift.errors import ConfigError

__all__ = ["Assigner", "ExperimentRule", "Holdout"]


@dataclass(frozen=True)
class ExperimentRule:
    """How one experiment assigns units.

    Attributes:
        key: the experiment key (also the hash seed unless ``seed`` is set).
        variants: variant keys, control first.
        weights: planned shares (equal when None).
        coverage: share of eligible units enrolled (traffic allocation).
        layer: the layer (namespace) name; None for no layer.
        layer_range: the slice ``[start, end)`` of the layer this experiment owns.
        targeting: attribute -> allowed values (all must match).
        forced: unit id -> variant key, for QA.
    """

    key: str
    variants: tuple[str, ...]
    weights: tuple[float, ...] | None = None
    coverage: float = 1.0
    layer: str | None = None
    layer_range: tuple[float, float] = (0.0, 1.0)
    targeting: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    forced: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    seed: str | None = None

    @cached_property
    def ranges(self) -> list[tuple[float, float]]:
        """Bucket ranges of the variants (GrowthBook's getBucketRanges)."""
        return bucket_ranges(len(self.variants), self.coverage, self.weights)

    @cached_property
    def choose(self) -> Callable[[float], int]:
        """Variant index for a hash value (-1: outside every range)."""
        return chooser(self.ranges)

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
            "forced": dict(self.forced),
            "seed": self.seed,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ExperimentRule:
        """The inverse of :meth:`to_dict`."""
        return cls(
            key=d["key"],
            variants=tuple(d["variants"]),
            weights=tuple(d["weights"]) if d.get("weights") else None,
            coverage=float(d.get("coverage", 1.0)),
            layer=d.get("layer"),
            layer_range=(float(d["layer_range"][0]), float(d["layer_range"][1]))
            if d.get("layer_range")
            else (0.0, 1.0),
            targeting=MappingProxyType({k: tuple(v) for k, v in d.get("targeting", {}).items()}),
            forced=MappingProxyType(dict(d.get("forced", {}))),
            seed=d.get("seed"),
        )


@dataclass(frozen=True)
class Holdout:
    """A share of units kept out of every experiment in scope (and of shipped changes)."""

    key: str
    share: float
    experiments: tuple[str, ...] | None = None  # None: every experiment

    def holds(self, unit_id: str) -> bool:
        """Whether the unit is in this holdout."""
        n = gb_hash("__holdout", f"{self.key}:{unit_id}", 2)
        assert n is not None
        return n < self.share

    def covers(self, experiment: str) -> bool:
        """Whether the holdout applies to an experiment."""
        return self.experiments is None or experiment in self.experiments

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        exps = list(self.experiments) if self.experiments is not None else None
        return {"key": self.key, "share": self.share, "experiments": exps}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Holdout:
        """The inverse of :meth:`to_dict`."""
        exps = d.get("experiments")
        return cls(d["key"], float(d["share"]), tuple(exps) if exps is not None else None)


class Assigner:
    """Assigns units to the variants of many experiments, locally and deterministically."""

    def __init__(self, experiments: Sequence[ExperimentRule], holdouts: Sequence[Holdout] = ()):
        keys = [e.key for e in experiments]
        dup = {k for k in keys if keys.count(k) > 1}
        if dup:
            raise ConfigError(
                f"experiment {sorted(dup)[0]!r} is defined twice", parameter="experiments"
            )
        for e in experiments:
            lo, hi = e.layer_range
            if not 0 <= lo <= hi <= 1:
                raise ConfigError(
                    f"layer_range must lie within [0, 1], got {e.layer_range}", parameter=e.key
                )
            if len(e.variants) < 2:
                raise ConfigError("needs at least two variants", parameter=e.key)
            for unit, v in e.forced.items():
                if v not in e.variants:
                    raise ConfigError(
                        f"forced variant {v!r} for {unit!r} is not a variant", parameter=e.key
                    )
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

    def to_dict(self) -> dict[str, Any]:
        """The SDK configuration document."""
        return {
            "experiments": [e.to_dict() for e in self.experiments.values()],
            "holdouts": [h.to_dict() for h in self.holdouts],
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Assigner:
        """An assigner from an SDK configuration document."""
        return cls(
            [ExperimentRule.from_dict(e) for e in doc.get("experiments", [])],
            [Holdout.from_dict(h) for h in doc.get("holdouts", [])],
        )

    # -- one unit --------------------------------------------------------------

    def held_out(self, unit_id: str, experiment: str) -> bool:
        """Whether a holdout keeps this unit out of this experiment."""
        return any(h.covers(experiment) and h.holds(unit_id) for h in self.holdouts)

    def variant(
        self, experiment: str, unit_id: str, attributes: Mapping[str, object] | None = None
    ) -> str | None:
        """The unit's variant key in one experiment, or None when not enrolled.

        A missing or empty id is not in the experiment, as GrowthBook's SDKs say.
        """
        e = self.experiments[experiment]
        if unit_id is None or unit_id == "":
            return None
        if unit_id in e.forced:
            return e.forced[unit_id]
        if self.held_out(unit_id, experiment):
            return None
        attrs = attributes or {}
        for name, allowed in e.targeting.items():
            if str(attrs.get(name)) not in allowed:
                return None
        if e.layer is not None and not in_namespace(unit_id, (e.layer, *e.layer_range)):
            return None
        n = gb_hash(e.seed or e.key, unit_id, 2)
        assert n is not None
        i = e.choose(n)
        return e.variants[i] if i >= 0 else None

    def assign(
        self, unit_id: str, attributes: Mapping[str, object] | None = None
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
        unit_ids: ArrayLike,
        attributes: Mapping[str, ArrayLike] | None = None,
    ) -> NDArray[np.int64]:
        """Variant index per unit in one experiment (-1: not enrolled), vectorised.

        Missing ids (None, NaN) and empty ones are not enrolled, as in :meth:`variant`.
        """
        e = self.experiments[experiment]
        given = np.asarray(unit_ids)
        if given.dtype == object:
            missing = np.fromiter(
                (v is None or v == "" or (isinstance(v, float) and v != v) for v in given),
                dtype=bool,
                count=len(given),
            )
        elif given.dtype.kind == "f":
            missing = np.isnan(given)
        else:
            missing = np.zeros(len(given), dtype=bool)
        ids = given.astype(str)
        missing |= ids == ""
        enrolled = ~missing
        for h in self.holdouts:
            if h.covers(experiment):
                enrolled &= hash_many("__holdout", np.char.add(f"{h.key}:", ids), 2) >= h.share
        for name, allowed in e.targeting.items():
            values = np.asarray((attributes or {}).get(name, np.full(len(ids), "None"))).astype(str)
            enrolled &= np.isin(values, list(allowed))
        if e.layer is not None:
            n_layer = hash_many("__" + e.layer, ids, 1)
            enrolled &= (n_layer >= e.layer_range[0]) & (n_layer < e.layer_range[1])
        out = np.where(enrolled, choose_many(hash_many(e.seed or e.key, ids, 2), e.ranges), -1)
        if e.forced:
            index = {v: i for i, v in enumerate(e.variants)}
            for pos in np.flatnonzero(np.isin(ids, list(e.forced))):
                out[pos] = index[e.forced[str(ids[pos])]]
        return out.astype(np.int64)
