"""Planning a refresh: the distinct per-unit measures, and each metric's columns.

Many metrics share a measure (the same event, value, filter and window), so a
refresh computes each distinct measure once per unit; a metric is then a few
of those columns (and their CUPED pre-period twins) with a transform.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tinylift.metrics import Catalog, MeanMetric, Metric, ProportionMetric, RatioMetric, Source
from tinylift.metrics.model import QuantileMetric
from tinylift.stats.moments import Kind

__all__ = ["MeasureKey", "Plan"]

MeasureKey = tuple[str, str, tuple[tuple[str, Any], ...], int, int]


class Plan:
    """Distinct per-unit measures and, per metric, the columns of its Moments."""

    def __init__(self, catalog: Catalog, names: Sequence[str]) -> None:
        self.catalog = catalog
        self.measures: dict[MeasureKey, str] = {}
        self.metrics: list[Metric] = [catalog.get(n) for n in dict.fromkeys(names)]
        self.columns: dict[str, list[tuple[str, str]]] = {}  # metric -> [(measure col, transform)]
        self.kinds: dict[str, Kind] = {}
        self.quantiles: dict[str, tuple[str, float]] = {}  # metric -> (measure, q)
        #: metric -> the last day of its window, after entry (a unit's window is
        #: complete once entry + this many days is before the data cutoff)
        self.window_ends: dict[str, int] = {m.name: m.window.end_days for m in self.metrics}
        for m in self.metrics:
            if isinstance(m, QuantileMetric):
                w = m.window
                src = Source(event=m.event, value=m.value, filter=m.filter)
                self.quantiles[m.name] = (self._measure(src, w.start_days, w.end_days), m.quantile)
                continue
            self._add(m)
        self.metrics = [m for m in self.metrics if not isinstance(m, QuantileMetric)]

    def _measure(self, src: Source, lo: int, hi: int) -> str:
        key = (src.event, src.value, tuple(sorted(src.filter.items())), lo, hi)
        return self.measures.setdefault(key, f"m{len(self.measures)}")

    def _add(self, m: Metric) -> None:
        w = m.window
        pre = m.cuped.pre_days if m.cuped else None
        cols: list[tuple[str, str]] = []
        if isinstance(m, RatioMetric):
            num, den = self.catalog.source(m.numerator), self.catalog.source(m.denominator)  # type: ignore[arg-type]
            cols = [
                (self._measure(num, w.start_days, w.end_days), "raw"),
                (self._measure(den, w.start_days, w.end_days), "raw"),
            ]
            if pre:
                cols += [(self._measure(num, -pre, 0), "raw"), (self._measure(den, -pre, 0), "raw")]
            self.kinds[m.name] = "ratio"
        else:
            assert isinstance(m, (MeanMetric, ProportionMetric))
            value = m.value if isinstance(m, MeanMetric) else "count"
            src = Source(event=m.event, value=value, filter=m.filter)
            transform = "any" if isinstance(m, ProportionMetric) else "cap"
            cols = [(self._measure(src, w.start_days, w.end_days), transform)]
            if pre:
                cols.append((self._measure(src, -pre, 0), transform))
            self.kinds[m.name] = "proportion" if isinstance(m, ProportionMetric) else "mean"
        self.columns[m.name] = cols

    @property
    def ends(self) -> list[int]:
        """The distinct window ends of every metric, quantile metrics included."""
        return sorted(set(self.window_ends.values()))

    @property
    def span(self) -> tuple[int, int]:
        """Widest window, in days relative to entry, that any measure reads."""
        los = [k[3] for k in self.measures] or [0]
        his = [k[4] for k in self.measures] or [1]
        return min(min(los), 0), max(his)
