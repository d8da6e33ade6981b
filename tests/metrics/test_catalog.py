"""The metric catalog: valid definitions load; bad ones say where and why."""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

import pytest

from tinylift.errors import ConfigError, NotFound
from tinylift.metrics import Catalog, MeanMetric, RatioMetric, load_catalog, parse_catalog

DEMO = files("tinylift.demo").joinpath("metrics.yml").read_text()

EVENTS = """
events:
  purchase: {properties: [category]}
  return: {}
"""


def catalog(metrics: str) -> Catalog:
    return parse_catalog(EVENTS + "metrics:\n" + metrics, origin="metrics.yml")


def test_the_demo_catalog_loads() -> None:
    cat = parse_catalog(DEMO)
    assert cat.get("conversion").role == "oec"
    aov = cat.get("aov")
    assert isinstance(aov, RatioMetric)
    assert cat.source(aov.numerator).value == "value"
    assert len(cat.version) == 12


def test_load_from_a_workspace_folder(tmp_path: Path) -> None:
    (tmp_path / "metrics.yml").write_text(DEMO)
    assert "revenue" in load_catalog(tmp_path).metrics


def test_missing_catalog_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no metric catalog here"):
        load_catalog(tmp_path)


def test_unknown_metric_suggests_near_names() -> None:
    with pytest.raises(NotFound, match="did you mean revenue"):
        parse_catalog(DEMO).get("revnue")


BAD = [
    (
        "  - {name: orders, type: mean, event: purchse}\n",
        "metric 'orders', field 'event': unknown event 'purchse' (did you mean 'purchase'?)",
    ),
    (
        "  - {name: revenue, type: mean, event: purchase, value: price}\n",
        "metric 'revenue', field 'value': unknown column 'price'",
    ),
    (
        "  - {name: cams, type: mean, event: purchase, filter: {colour: red}}\n",
        "metric 'cams', field 'filter.colour': event 'purchase' has no property 'colour'",
    ),
    (
        "  - {name: orders, type: mean, event: purchase}\n"
        "  - {name: aov, type: ratio, numerator: orders}\n",
        "metric 'aov': a ratio metric needs a denominator",
    ),
    (
        "  - {name: returns, type: mean, event: return, role: guardrail}\n",
        "metric 'returns': a guardrail needs a non-inferiority margin",
    ),
    (
        "  - {name: a, type: ratio, numerator: b, denominator: b}\n"
        "  - {name: b, type: ratio, numerator: a, denominator: a}\n",
        "metric 'a', field 'numerator': circular definition: a -> b -> a",
    ),
    (
        "  - {name: a, type: ratio, numerator: a, denominator: a}\n",
        "metric 'a', field 'numerator': circular definition: a -> a",
    ),
    (
        "  - {name: orders, type: mean, event: purchase}\n"
        "  - {name: orders, type: mean, event: return}\n",
        "metric 'orders', field 'name': defined twice",
    ),
    (
        "  - {name: orders, type: mean, event: purchase}\n"
        "  - {name: x, type: ratio, numerator: orders, denominator: nope}\n",
        "metric 'x', field 'denominator': refers to unknown metric 'nope'",
    ),
    (
        "  - {name: c, type: proportion, event: purchase}\n"
        "  - {name: x, type: ratio, numerator: c, denominator: c}\n",
        "metric 'x', field 'numerator': 'c' is a proportion metric",
    ),
    (
        "  - {name: a, type: proportion, event: purchase, role: oec}\n"
        "  - {name: b, type: proportion, event: return, role: oec}\n",
        "metric 'b', field 'role': only one metric can be the OEC",
    ),
    (
        "  - {name: a, type: mean, event: purchase, window: {start_days: 7, end_days: 3}}\n",
        "metric 'a', field 'window': end_days must be after start_days",
    ),
    (
        "  - {name: a, type: mean, event: purchase, cap: {absolute: 5, percentile: 0.99}}\n",
        "metric 'a', field 'cap': give exactly one of absolute or percentile",
    ),
    ("  - {name: a, type: median, event: purchase}\n", "metric 'a'"),
    (
        "  - {name: a, type: mean, event: purchase, colour: blue}\n",
        "metric 'a', field 'colour': Extra inputs are not permitted",
    ),
]


@pytest.mark.parametrize(("metrics", "message"), BAD)
def test_bad_catalogs_name_metric_and_field(metrics: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"metrics.yml, {message}")):
        catalog(metrics)


HOSTILE = [
    ('  - {name: "x; drop table events", type: mean, event: purchase}\n', "field 'name'"),
    ('  - {name: "Revenue", type: mean, event: purchase}\n', "field 'name'"),
    ("  - {name: x, type: mean, event: \"purchase' or '1'='1\"}\n", "field 'event'"),
    (
        '  - {name: x, type: mean, event: purchase, filter: {"a\') or 1=1 --": 1}}\n',
        "field 'filter",
    ),
]


@pytest.mark.parametrize(("metrics", "where"), HOSTILE)
def test_hostile_identifiers_are_rejected(metrics: str, where: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(where)):
        parse_catalog("metrics:\n" + metrics)


def test_hostile_filter_values_are_only_data() -> None:
    cat = catalog(
        '  - {name: x, type: mean, event: purchase, filter: {category: "\') OR 1=1 --"}}\n'
    )
    m = cat.get("x")
    assert isinstance(m, MeanMetric)
    assert m.filter == {"category": "') OR 1=1 --"}
