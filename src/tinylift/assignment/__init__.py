"""Deterministic assignment compatible with GrowthBook's SDK specification."""

from tinylift.assignment.hashing import (
    MAX_ID_LENGTH,
    bucket_ranges,
    choose_many,
    choose_variation,
    chooser,
    equal_weights,
    fnv1a32,
    gb_hash,
    hash_many,
    id_string,
    id_strings,
    in_namespace,
)
from tinylift.assignment.layers import Assigner
from tinylift.assignment.rules import ExperimentRule, Holdout

__all__ = [
    "MAX_ID_LENGTH",
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
    "id_string",
    "id_strings",
    "in_namespace",
]
