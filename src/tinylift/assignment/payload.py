"""The running experiments as GrowthBook's SDK payload (its features document).

Any GrowthBook SDK pointed at ``/api/features/<client key>`` of a tinylift
server gets this document and assigns every unit as :class:`Assigner` does:

- each experiment is a feature of the same key whose value is the variant
  key (the control's when the unit is not enrolled); its last rule is an
  experiment rule carrying the variants, weights, GrowthBook's coverage (a
  share of the layer slice), the namespace (layer slice) or filters, the
  condition (targeting), hash attribute and version, seed, explicit ranges
  and sticky-bucket versions; ``meta`` holds the variant keys, so the
  tracking callback's ``result.key`` is the variant key tinylift records;
- forced (QA) units come first, as force rules on the hash attribute;
- a holdout is GrowthBook's kind: a feature ``$holdout:<key>`` whose
  experiment rule puts ``share`` of units in ``holdoutcontrol``; every
  experiment it covers starts with a rule that forces the control's value
  for them (a prerequisite on that feature). The tracking callback reports
  the holdout's exposures under the holdout's key and variant keys;
- saved groups travel as ``savedGroups`` for ``$inGroup`` conditions.
"""

from __future__ import annotations

from typing import Any

from tinylift.assignment.layers import Assigner, ExperimentRule, Holdout

__all__ = ["HOLDOUT_PREFIX", "features_payload"]

#: GrowthBook's id of a holdout's feature is this prefix and the holdout's key.
HOLDOUT_PREFIX = "$holdout:"


def _holdout_feature(h: Holdout) -> dict[str, Any]:
    return {
        "defaultValue": "genpop",
        "rules": [
            {
                "id": f"{HOLDOUT_PREFIX}{h.key}",
                "key": h.key,
                "seed": h.seed or h.key,
                "hashAttribute": h.hash_attribute,
                "hashVersion": 2,
                "coverage": 1,
                "weights": [h.share, 1 - h.share],
                "variations": ["holdoutcontrol", "holdouttreatment"],
                "meta": [{"key": h.variants[0]}, {"key": h.variants[1]}],
                "phase": "0",
                "name": h.key,
            }
        ],
    }


def _experiment_rule(e: ExperimentRule) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "id": f"{e.key}:experiment",
        "key": e.key,
        "name": e.key,
        "variations": list(e.variants),
        "meta": [{"key": v} for v in e.variants],
        "coverage": e.gb_coverage,
        "hashAttribute": e.hash_attribute,
        "hashVersion": e.hash_version,
        "seed": e.seed or e.key,
        "phase": "0",
    }
    if e.weights is not None:
        rule["weights"] = list(e.weights)
    if e.fallback_attribute:
        rule["fallbackAttribute"] = e.fallback_attribute
    if e.all_filters:
        rule["filters"] = e.all_filters
    elif e.layer is not None:
        rule["namespace"] = [e.layer, e.layer_range[0], e.layer_range[1]]
    if e.full_condition:
        rule["condition"] = e.full_condition
    if e.fixed_ranges is not None:
        rule["ranges"] = [list(r) for r in e.fixed_ranges]
    if e.bucket_version:
        rule["bucketVersion"] = e.bucket_version
    if e.min_bucket_version:
        rule["minBucketVersion"] = e.min_bucket_version
    return rule


def _experiment_feature(e: ExperimentRule, holdouts: list[Holdout]) -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    by_variant: dict[str, list[str]] = {}
    for unit, variant in e.forced.items():
        by_variant.setdefault(variant, []).append(unit)
    for variant, units in by_variant.items():
        rules.append(
            {
                "id": f"{e.key}:forced:{variant}",
                "condition": {e.hash_attribute: {"$in": sorted(units)}},
                "force": variant,
            }
        )
    for h in holdouts:
        if h.covers(e.key):
            rules.append(
                {
                    "id": f"{e.key}:holdout:{h.key}",
                    "parentConditions": [
                        {"id": f"{HOLDOUT_PREFIX}{h.key}", "condition": {"value": "holdoutcontrol"}}
                    ],
                    "force": e.variants[0],
                }
            )
    rules.append(_experiment_rule(e))
    return {"defaultValue": e.variants[0], "rules": rules}


def features_payload(assigner: Assigner, *, date_updated: str | None = None) -> dict[str, Any]:
    """GrowthBook's ``/api/features/<client key>`` answer for these definitions."""
    features: dict[str, Any] = {}
    for h in assigner.holdouts:
        features[f"{HOLDOUT_PREFIX}{h.key}"] = _holdout_feature(h)
    for e in assigner.experiments.values():
        features[e.key] = _experiment_feature(e, list(assigner.holdouts))
    doc: dict[str, Any] = {"status": 200, "features": features, "experiments": []}
    if assigner.saved_groups:
        doc["savedGroups"] = {k: list(v) for k, v in assigner.saved_groups.items()}
    if date_updated is not None:
        doc["dateUpdated"] = date_updated
    return doc
