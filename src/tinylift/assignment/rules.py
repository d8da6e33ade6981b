"""How one experiment and one holdout assign units: the definitions and their checks.

:class:`ExperimentRule` is GrowthBook's experiment in tinylift's words (with
``coverage`` a share of all units); :class:`Holdout` is GrowthBook's kind of
holdout. :class:`~tinylift.assignment.layers.Assigner` applies them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

from tinylift.assignment.conditions import validate_condition
from tinylift.assignment.hashing import bucket_ranges, chooser, gb_hash, id_string
from tinylift.errors import ConfigError

__all__ = ["ExperimentRule", "Holdout", "StickyDocs"]

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
