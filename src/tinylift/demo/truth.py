"""The simulated company's ground truth: expected metrics under every arm.

For each enrolled unit the simulator knows its traits and its visits, so the
expected value of every metric under *each* arm is computable exactly (no
sampling). Summed over all analysed units of an experiment, this gives the
true effect on that sample: ``mean E[Y(arm)] - mean E[Y(control)]``. A
correct estimator from the observed data is unbiased for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from tinylift.demo import behaviour as bh
from tinylift.demo.company import HOLDOUT, WINDOW_DAYS, ExperimentSpec

__all__ = ["BASE_SUMS", "METRICS", "TruthAccumulator", "expected_outcomes"]

#: Per-unit sums the truth tracks (each a sum over units of an expectation).
BASE_SUMS: Final = (
    "conversion",
    "orders",
    "revenue",
    "returns",
    "pages",
    "clicks",
    "support_contacts",
)


@dataclass(frozen=True, slots=True)
class TruthMetric:
    """A demo metric as the truth sees it: a per-unit mean or a ratio of sums."""

    numerator: str
    denominator: str | None = None


#: The demo catalog's metrics, by name.
METRICS: Final[Mapping[str, TruthMetric]] = {
    "conversion": TruthMetric("conversion"),
    "orders": TruthMetric("orders"),
    "revenue": TruthMetric("revenue"),
    "aov": TruthMetric("revenue", "orders"),
    "return_rate": TruthMetric("returns", "orders"),
    "pages": TruthMetric("pages"),
    "clicks": TruthMetric("clicks"),
    "support_contacts": TruthMetric("support_contacts"),
}


def expected_outcomes(
    units: bh.Units,
    unit_pos: NDArray[np.int64],
    time_us: NDArray[np.int64],
    mult: NDArray[np.float64],
    window_end_us: NDArray[np.int64],
    *,
    count_units: NDArray[np.bool_],
) -> NDArray[np.float64]:
    """Sums over units of each metric's expectation, given visits in their window.

    Args:
        units: traits of the block.
        unit_pos: the unit of each visit in the window.
        time_us: the time of each such visit.
        mult: channel x visit multipliers under the arm in question.
        window_end_us: per visit, the end of its unit's metric window.
        count_units: which units of the block are analysed (the denominator).

    Returns:
        One sum per entry of :data:`BASE_SUMS`, then the number of units.
    """
    conv, ov, ret, clk, pgs, sup = mult
    p_buy = np.minimum(units.buy[unit_pos] * conv, bh.MAX_PROB)
    p_ret = np.minimum(units.return_prob[unit_pos] * ret, bh.MAX_PROB)
    in_window = 1.0 - np.exp(
        -(window_end_us - time_us) / (bh.MEAN_RETURN_DELAY_DAYS * bh.US_PER_DAY)
    )
    log_none = np.bincount(unit_pos, np.log1p(-p_buy), minlength=len(units.index))
    return np.array(
        [
            (1.0 - np.exp(log_none))[count_units].sum(),
            p_buy.sum(),
            (p_buy * units.order_value[unit_pos] * ov).sum(),
            (p_buy * p_ret * in_window).sum(),
            (1.0 + bh.EXTRA_PAGES_PER_VISIT * pgs).sum(),
            np.minimum(units.click[unit_pos] * clk, bh.MAX_PROB).sum(),
            np.minimum(units.support[unit_pos] * sup, bh.MAX_PROB).sum(),
            float(count_units.sum()),
        ]
    )


class TruthAccumulator:
    """Adds the expected sums of every (experiment, arm) over blocks of units."""

    def __init__(self, specs: tuple[ExperimentSpec, ...]) -> None:
        self._specs = specs
        self._sums: dict[tuple[str, str], NDArray[np.float64]] = {}

    def add(self, experiment: str, arm: str, sums: NDArray[np.float64]) -> None:
        """Add one block's sums for an arm."""
        key = (experiment, arm)
        self._sums[key] = self._sums.get(key, 0.0) + sums

    def table(self) -> pa.Table:
        """True effect per experiment x treatment arm x metric, against control."""
        arms: dict[str, list[str]] = {s.key: [v.key for v in s.variants] for s in self._specs}
        arms[HOLDOUT.key] = ["holdout", "general"]
        rows: dict[str, list[object]] = {
            k: []
            for k in (
                "experiment_key",
                "variant_key",
                "metric",
                "window_days",
                "n_units",
                "control_value",
                "variant_value",
                "true_abs_effect",
                "true_rel_effect",
            )
        }
        for exp, names in arms.items():
            if (exp, names[0]) not in self._sums:
                continue
            control = self._sums[(exp, names[0])]
            for arm in names[1:]:
                sums = self._sums[(exp, arm)]
                for metric, m in METRICS.items():
                    c, v = _value(control, m), _value(sums, m)
                    if abs(v - c) <= 1e-12 * abs(c):
                        v = c  # an exact zero effect, up to rounding of the sums
                    rows["experiment_key"].append(exp)
                    rows["variant_key"].append(arm)
                    rows["metric"].append(metric)
                    rows["window_days"].append(None if exp == HOLDOUT.key else WINDOW_DAYS)
                    rows["n_units"].append(int(sums[-1]))
                    rows["control_value"].append(c)
                    rows["variant_value"].append(v)
                    rows["true_abs_effect"].append(v - c)
                    rows["true_rel_effect"].append(v / c - 1.0 if c else float("nan"))
        return pa.table(rows, schema=_TRUTH_SCHEMA)


def _value(sums: NDArray[np.float64], metric: TruthMetric) -> float:
    num = sums[BASE_SUMS.index(metric.numerator)]
    den = sums[BASE_SUMS.index(metric.denominator)] if metric.denominator else sums[-1]
    return float(num / den) if den else float("nan")


_TRUTH_SCHEMA: Final = pa.schema(
    [
        ("experiment_key", pa.string()),
        ("variant_key", pa.string()),
        ("metric", pa.string()),
        ("window_days", pa.int32()),
        ("n_units", pa.int64()),
        ("control_value", pa.float64()),
        ("variant_value", pa.float64()),
        ("true_abs_effect", pa.float64()),
        ("true_rel_effect", pa.float64()),
    ]
)
