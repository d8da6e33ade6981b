"""The metric catalog: one definition per metric, as code."""

from tinylift.metrics.catalog import CATALOG_FILE, Catalog, load_catalog, parse_catalog
from tinylift.metrics.model import (
    Cap,
    Cuped,
    EventDef,
    MeanMetric,
    Metric,
    ProportionMetric,
    QuantileMetric,
    RatioMetric,
    Source,
    Window,
)

__all__ = [
    "CATALOG_FILE",
    "Cap",
    "Catalog",
    "Cuped",
    "EventDef",
    "MeanMetric",
    "Metric",
    "ProportionMetric",
    "QuantileMetric",
    "RatioMetric",
    "Source",
    "Window",
    "load_catalog",
    "parse_catalog",
]
