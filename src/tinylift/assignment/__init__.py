"""Deterministic assignment compatible with GrowthBook's SDK specification."""

from tinylift.assignment.hashing import (
    bucket_ranges,
    choose_many,
    choose_variation,
    chooser,
    equal_weights,
    fnv1a32,
    gb_hash,
    hash_many,
    in_namespace,
)
from tinylift.assignment.layers import Assigner, ExperimentRule, Holdout

__all__ = [
    "Assigner",
    "ExperimentRule",
    "Holdout",
    "bucket_ranges",
    "choose_many",
    "choose_variation",
    "chooser",
    "equal_weights",
    "fnv1a32",
    "gb_hash",
    "hash_many",
    "in_namespace",
]
