"""Conformance cases in the shapes of GrowthBook's cross-SDK test suite, generated.

GrowthBook publishes its SDK specification as cases grouped in sections
(``hash``, ``getBucketRange``, ``chooseVariation``, ``inNamespace``,
``getEqualWeights``, ``evalCondition``, ``run``, ``feature``,
``stickyBucket``). The cases here take the same shapes but are drawn at
random (fixed seeds), and their expected answers come from the real SDKs at
test time: the JavaScript SDK under Node and the ``growthbook`` package.

Experiments and features are drawn as tinylift definitions (``ExperimentRule``,
``Holdout``) and given to the SDKs as tinylift's payload writes them, so a
case checks the translation as well as the assignment.
"""

from __future__ import annotations

import dataclasses
import random
import string
from typing import Any

from tinylift.assignment import Assigner, ExperimentRule, Holdout
from tinylift.assignment.payload import _experiment_rule, features_payload

ATTRIBUTES = ("country", "age", "plan", "app", "tags", "email", "company", "score")
COUNTRIES = ["US", "DE", "FR", "GB", "BR", "JP", "", "us"]
PLANS = ["free", "pro", "team", "enterprise"]
TAGS = ["beta", "vip", "new", "churn-risk", "", "0"]


def random_id(rng: random.Random) -> Any:
    """A unit id of any kind a real system sends: text, emoji, surrogates, numbers, nothing."""
    kind = rng.random()
    if kind < 0.35:
        return f"user-{rng.randrange(10**9)}"
    if kind < 0.45:
        return "".join(rng.choice("αβγдждエンジ中文éü🎉😀👍🏽") for _ in range(rng.randint(1, 12)))
    if kind < 0.5:
        return "\ud83d" + str(rng.randrange(1000))  # a lone surrogate, as JavaScript allows
    if kind < 0.55:
        return ""
    if kind < 0.62:
        return rng.choice([rng.randrange(1, 10**6), -rng.randrange(1, 10**6), 2**53 + 11, 0])
    if kind < 0.68:
        return rng.choice([rng.random() * 1000, 1.0, 1e21, 1.5e-7, 123.0, 0.1 + 0.2])
    if kind < 0.73:
        return None
    if kind < 0.8:
        return "x" * rng.randint(65, 600) + str(rng.randrange(1000))  # past the fast path
    if kind < 0.85:
        return str(rng.randrange(10**6))
    return "".join(rng.choice(string.printable) for _ in range(rng.randint(1, 40)))


def random_attributes(rng: random.Random) -> dict[str, Any]:
    """Attributes with consistent types (the SDKs differ only on mixed-type comparisons)."""
    attrs: dict[str, Any] = {}
    if rng.random() < 0.9:
        attrs["country"] = rng.choice(COUNTRIES)
    if rng.random() < 0.9:
        attrs["age"] = rng.choice([rng.randint(0, 90), rng.randint(0, 90) + 0.5])
    if rng.random() < 0.9:
        attrs["plan"] = rng.choice(PLANS)
    if rng.random() < 0.8:
        attrs["app"] = rng.choice(
            ["1.0.0", "1.2.3", "1.10.0", "2.0.0-beta.1", "2.0.0", "v2.1.0", "10.0.1+build"]
        )
    if rng.random() < 0.8:
        attrs["tags"] = rng.sample(TAGS, rng.randint(0, 3))
    if rng.random() < 0.8:
        attrs["email"] = rng.choice(["a@example.com", "b@corp.io", "x@EXAMPLE.com", ""])
    if rng.random() < 0.7:
        attrs["company"] = rng.choice(["acme", "globex", "initech", ""])
    if rng.random() < 0.5:
        attrs["score"] = rng.choice([None, True, False, rng.random()])
    return attrs


def random_condition(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    """A condition from GrowthBook's whole language, on :func:`random_attributes`."""
    pick = rng.randrange(22 if depth < 2 else 18)
    if pick == 0:
        return {"country": {"$in": rng.sample(COUNTRIES, rng.randint(1, 4))}}
    if pick == 1:
        return {"country": {"$nin": rng.sample(COUNTRIES, rng.randint(1, 3))}}
    if pick == 2:
        return {"age": {rng.choice(["$gt", "$gte", "$lt", "$lte"]): rng.randint(10, 70)}}
    if pick == 3:
        return {"age": {"$eq": rng.randint(0, 90)}} if rng.random() < 0.5 else {"age": 30}
    if pick == 4:
        return {"plan": rng.choice(PLANS)}
    if pick == 5:
        return {"plan": {"$ne": rng.choice(PLANS)}}
    if pick == 6:
        op = rng.choice(["$veq", "$vne", "$vgt", "$vgte", "$vlt", "$vlte"])
        return {"app": {op: rng.choice(["1.2.3", "2.0.0", "2.0.0-alpha", "1.10.0"])}}
    if pick == 7:
        return {"tags": {"$elemMatch": {"$eq": rng.choice(TAGS)}}}
    if pick == 8:
        return {"tags": {"$all": rng.sample(TAGS, rng.randint(1, 2))}}
    if pick == 9:
        return {"tags": {"$size": rng.choice([0, 1, 2, {"$gt": 1}])}}
    if pick == 10:
        return {"email": {"$regex": rng.choice(["@example\\.com$", "^[ab]@", "corp"])}}
    if pick == 11:
        return {"email": {"$regexi": "@example\\.com$"}}
    if pick == 12:
        return {rng.choice(ATTRIBUTES): {"$exists": rng.random() < 0.5}}
    if pick == 13:
        return {
            rng.choice(ATTRIBUTES): {"$type": rng.choice(["string", "number", "array", "null"])}
        }
    if pick == 14:
        return {"country": {"$ini": ["us", "de"]}}
    if pick == 15:
        return {"company": {"$inGroup": rng.choice(["enterprise", "nobody"])}}
    if pick == 16:
        return {"company": {"$notInGroup": "enterprise"}}
    if pick == 17:
        return {"tags": {"$in": ["vip", "beta"]}}
    if pick == 18:
        return {"$or": [random_condition(rng, depth + 1) for _ in range(rng.randint(1, 3))]}
    if pick == 19:
        return {"$and": [random_condition(rng, depth + 1) for _ in range(rng.randint(1, 3))]}
    if pick == 20:
        return {"$not": random_condition(rng, depth + 1)}
    return {"$nor": [random_condition(rng, depth + 1) for _ in range(rng.randint(1, 2))]}


SAVED_GROUPS = {"enterprise": ["acme", "globex"]}


def random_rule(
    rng: random.Random,
    key: str,
    *,
    layer_slot: tuple[str, float, float] | None = None,
    sticky: bool = False,
) -> ExperimentRule:
    n = rng.randint(2, 4)
    variants = tuple(["control"] + [f"t{i}" for i in range(1, n)])
    raw = [rng.uniform(0.1, 1.0) for _ in range(n)]
    weights = tuple(w / sum(raw) for w in raw) if rng.random() < 0.6 else None
    layer, lo, hi = layer_slot if layer_slot else (None, 0.0, 1.0)
    width = hi - lo
    coverage = None if rng.random() < 0.3 else round(rng.uniform(0.05, 1.0) * width, 4)
    if coverage is not None and coverage <= 0:
        coverage = None
    fixed = None
    if rng.random() < 0.1:
        fixed = tuple(
            tuple(sorted((round(rng.random(), 2), round(rng.random(), 2)))) for _ in range(n)
        )
    filters: tuple[dict[str, Any], ...] = ()
    if rng.random() < 0.15:
        filters = (
            {
                "seed": rng.choice(["", "f1", "seed-2"]),
                "ranges": [[0.0, round(rng.random(), 2)], [0.8, 1.0]],
                "hashVersion": rng.choice([1, 2]),
                "attribute": rng.choice(["id", "company"]),
            },
        )
    return ExperimentRule(
        key=key,
        variants=variants,  # type: ignore[arg-type]
        weights=weights,
        coverage=coverage,
        layer=layer,
        layer_range=(lo, hi),
        condition=random_condition(rng) if rng.random() < 0.5 else {},
        targeting={"plan": tuple(rng.sample(PLANS, 2))} if rng.random() < 0.15 else {},
        seed=rng.choice([None, None, "s-" + key, ""]) or None,
        hash_attribute=rng.choice(["id"] * 6 + ["company"]),
        fallback_attribute=rng.choice([None, "company", "email"]) if sticky else None,
        hash_version=rng.choice([1, 2]),
        fixed_ranges=fixed,  # type: ignore[arg-type]
        filters=filters,  # type: ignore[arg-type]
        bucket_version=rng.randint(0, 2) if sticky else 0,
        min_bucket_version=rng.randint(0, 1) if sticky else 0,
    )


def random_assigner(rng: random.Random, n: int, *, forced: bool = True) -> Assigner:
    """``n`` experiments over a few layers, a holdout or two, and QA overrides."""
    rules = []
    layers = {f"layer-{i}": 0.0 for i in range(3)}
    for i in range(n):
        slot = None
        if rng.random() < 0.4:
            name = rng.choice(list(layers))
            start = layers[name]
            width = round(rng.uniform(0.05, 0.3), 3)
            if start + width <= 1.0:
                slot = (name, start, round(start + width, 3))
                layers[name] = round(start + width, 3)
        rule = random_rule(rng, f"exp-{i}", layer_slot=slot)
        if forced and rng.random() < 0.1:
            rule = dataclasses.replace(rule, forced={"user-1": rule.variants[-1]})
        rules.append(rule)
    holdouts = [Holdout("holdout-2026", round(rng.uniform(0.02, 0.1), 3))]
    if rng.random() < 0.7:
        scope = tuple(r.key for r in rng.sample(rules, min(3, len(rules))))
        holdouts.append(Holdout("team-holdout", 0.2, scope, ("held", "rest"), "id", "team-h"))
    return Assigner(rules, holdouts, SAVED_GROUPS)


def _with_id(attrs: dict[str, Any], unit: Any) -> dict[str, Any]:
    if unit is not None:
        attrs["id"] = unit
    return attrs


def generate(seed: int = 15, per_section: int = 300) -> dict[str, Any]:
    """Every section, ``per_section`` cases each (fewer where the space is small)."""
    rng = random.Random(seed)
    cases: dict[str, Any] = {}
    ids = [random_id(rng) for _ in range(per_section)]
    text_ids = [i for i in ids if isinstance(i, str)]
    cases["hash"] = [
        [rng.choice(["", "seed", "exp-1", "__ns", "🎉"]), v, rng.choice([1, 2, 2, 3])]
        for v in text_ids
    ]
    cases["getBucketRange"] = []
    for i in range(per_section):
        n = rng.randint(1, 5)
        weights: Any = None
        if rng.random() < 0.7:
            raw = [rng.random() for _ in range(rng.choice([n, n, n, n + 1]))]
            weights = [w / sum(raw) for w in raw] if rng.random() < 0.8 else raw
        coverage = rng.choice([rng.random(), 1.0, 0.0, -0.2, 1.3])
        cases["getBucketRange"].append([f"ranges {i}", [n, coverage, weights]])
    cases["chooseVariation"] = []
    for i in range(per_section):
        ranges = [
            sorted([round(rng.random(), 2), round(rng.random(), 2)])
            for _ in range(rng.randint(1, 4))
        ]
        if rng.random() < 0.5:
            ranges.sort()
        cases["chooseVariation"].append([f"choose {i}", round(rng.random(), 2), ranges])
    cases["inNamespace"] = [
        [f"namespace {i}", v, [rng.choice(["ns", "pricing", "layer-1"]), lo, round(lo + 0.3, 2)]]
        for i, v in enumerate(text_ids)
        for lo in [round(rng.random() * 0.7, 2)]
    ]
    cases["getEqualWeights"] = [[n] for n in range(-1, 12)]
    cases["evalCondition"] = [
        [f"condition {i}", random_condition(rng), random_attributes(rng), SAVED_GROUPS]
        for i in range(per_section * 3)
    ]
    cases["run"] = []
    for i in range(per_section):
        slot = None
        if rng.random() < 0.4:
            lo = round(rng.random() * 0.6, 2)
            slot = ("ns-" + str(rng.randrange(3)), lo, round(lo + rng.uniform(0.1, 0.4), 2))
        rule = random_rule(rng, f"run-{i}", layer_slot=slot)
        exp = {k: v for k, v in _experiment_rule(rule).items() if k not in ("id",)}
        ctx = {
            "attributes": _with_id(random_attributes(rng), rng.choice(ids)),
            "savedGroups": SAVED_GROUPS,
        }
        cases["run"].append([f"run {i}", ctx, exp, rule.to_dict()])
    assigner = random_assigner(rng, 40)
    payload = features_payload(assigner)
    cases["feature"] = []
    for i in range(per_section):
        unit = rng.choice([*ids, "user-1"])
        key = rng.choice(list(assigner.experiments))
        ctx = {
            "attributes": _with_id(random_attributes(rng), unit),
            "features": payload["features"],
            "savedGroups": payload.get("savedGroups", {}),
        }
        cases["feature"].append([f"feature {i}", ctx, key])
    cases["feature_assigner"] = assigner.to_dict()
    cases["stickyBucket"] = []
    for i in range(per_section):
        rule = random_rule(rng, f"sticky-{i}", sticky=True)
        sticky_payload = features_payload(Assigner([rule], [], SAVED_GROUPS))
        unit = rng.choice([*ids[:40], "user-7"])
        attrs = _with_id(random_attributes(rng), unit)
        docs: dict[str, Any] = {}
        if rng.random() < 0.7:
            attr = rng.choice([rule.hash_attribute, rule.fallback_attribute or "id"])
            value = attrs.get(attr)
            if isinstance(value, str) and value:
                version = rng.randint(0, 2)
                docs[f"{attr}||{value}"] = {
                    "attributeName": attr,
                    "attributeValue": value,
                    "assignments": {f"{rule.key}__{version}": rng.choice([*rule.variants, "gone"])},
                }
        ctx = {
            "attributes": attrs,
            "features": sticky_payload["features"],
            "savedGroups": SAVED_GROUPS,
        }
        cases["stickyBucket"].append([f"sticky {i}", ctx, docs, rule.key, rule.to_dict()])
    return cases
