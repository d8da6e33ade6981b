"""Sufficient statistics: per-variant counts, sums and cross-products.

A metric is a smooth function of per-unit column means, so every estimate,
its variance (delta method) and its CUPED adjustment follow from three
arrays per (metric, variant): the unit count ``n``, the column sums ``s``
and the cross-product matrix ``ss``. They add across shards, days and
segments. Columns by kind:

=============  ===========================  ==============================
kind           columns                      with a CUPED covariate
=============  ===========================  ==============================
``mean``       x (per-unit value)           x, c (pre-period value)
``proportion`` x in {0, 1}                  x, c
``ratio``      x (numerator), y (denom.)    x, y, a, b (pre-period x, y)
=============  ===========================  ==============================

References: Deng, Knoblich, Lu (2018) for the delta method on ratios;
Deng, Xu, Kohavi, Walker (2013) for CUPED with a pooled theta.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tinylift.errors import StatsError

__all__ = ["ArmEstimates", "Kind", "Moments"]

Kind = Literal["mean", "proportion", "ratio"]
F64 = NDArray[np.float64]

_BASE_COLUMNS = {"mean": 1, "proportion": 1, "ratio": 2}


def _names(values: Sequence[str] | None, count: int, prefix: str) -> tuple[str, ...]:
    if values is None and prefix == "variant":
        if count == 2:
            return ("control", "treatment")
        return ("control", *(f"treatment_{i}" for i in range(1, count)))
    if values is None:
        return tuple(f"{prefix}{i}" for i in range(count))
    names = tuple(values)
    if len(names) != count:
        raise StatsError(f"expected {count} {prefix} names, got {len(names)}")
    return names


@dataclass(frozen=True, eq=False)
class Moments:
    """Sufficient statistics of one metric kind, for m metrics by k variants.

    Attributes:
        kind: ``mean``, ``proportion`` or ``ratio``.
        n: units per (metric, variant), shape (m, k).
        s: column sums, shape (m, k, p).
        ss: column cross-products, shape (m, k, p, p).
        metrics: metric names (m,).
        variants: variant names (k,); the first is the control.
        shift: per metric and column, shape (m, p), a value subtracted before
            summing (``s`` and ``ss`` are of ``x - shift``), so that a mean far
            larger than its spread keeps its precision; None is no shift.
    """

    kind: Kind
    n: F64
    s: F64
    ss: F64
    metrics: tuple[str, ...]
    variants: tuple[str, ...]
    shift: F64 | None = None

    @property
    def offset(self) -> F64:
        """The shift, zeros when there is none: shape (m, p)."""
        if self.shift is None:
            return np.zeros((self.s.shape[0], self.s.shape[-1]))
        return self.shift

    # -- construction ------------------------------------------------------

    @classmethod
    def from_sums(
        cls,
        kind: Kind,
        n: ArrayLike,
        s: ArrayLike,
        ss: ArrayLike,
        *,
        metrics: Sequence[str] | None = None,
        variants: Sequence[str] | None = None,
    ) -> Moments:
        """Build from arrays shaped (m, k), (m, k, p), (m, k, p, p); checks shapes."""
        n_, s_, ss_ = (np.asarray(a, dtype=np.float64) for a in (n, s, ss))
        if n_.ndim != 2 or s_.ndim != 3 or ss_.ndim != 4:
            raise StatsError("n, s and ss must be shaped (m, k), (m, k, p) and (m, k, p, p)")
        m, k, p = s_.shape
        if n_.shape != (m, k) or ss_.shape != (m, k, p, p):
            raise StatsError(
                f"mismatched variants or metrics: n is {n_.shape}, s is {s_.shape}, "
                f"ss is {ss_.shape}"
            )
        base = _BASE_COLUMNS[kind]
        if p not in (base, 2 * base):
            raise StatsError(f"a {kind} metric has {base} or {2 * base} columns, got {p}")
        return cls(kind, n_, s_, ss_, _names(metrics, m, "metric"), _names(variants, k, "variant"))

    @classmethod
    def from_units(
        cls,
        kind: Kind,
        columns_by_variant: Sequence[ArrayLike],
        *,
        metric: str = "metric0",
        variants: Sequence[str] | None = None,
    ) -> Moments:
        """One metric from per-unit data: a (units, p) or (units,) array per variant.

        >>> mo = Moments.from_units("mean", [[1.0, 2.0, 3.0], [2.0, 4.0]])
        >>> mo.n.tolist(), mo.s[..., 0].tolist()
        ([[3.0, 2.0]], [[6.0, 6.0]])
        """
        n, s, ss = [], [], []
        for cols in columns_by_variant:
            x = np.asarray(cols, dtype=np.float64)
            x = x[:, None] if x.ndim == 1 else x
            n.append(len(x))
            s.append(x.sum(axis=0))
            ss.append(x.T @ x)
        return cls.from_sums(kind, [n], [s], [ss], metrics=[metric], variants=variants)

    @classmethod
    def proportion(
        cls,
        n: ArrayLike,
        successes: ArrayLike,
        *,
        metrics: Sequence[str] | None = None,
        variants: Sequence[str] | None = None,
    ) -> Moments:
        """Proportions from counts, shape (k,) for one metric or (m, k).

        >>> Moments.proportion([1000, 1000], [100, 120]).s[0, :, 0].tolist()
        [100.0, 120.0]
        """
        n_ = np.atleast_2d(np.asarray(n, dtype=np.float64))
        x = np.atleast_2d(np.asarray(successes, dtype=np.float64))
        if n_.shape != x.shape:
            raise StatsError(f"n has shape {n_.shape} but successes has {x.shape}")
        bad = (x < 0) | (x > n_)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise StatsError(
                f"successes must be between 0 and n, got {x[i, j]:g} of {n_[i, j]:g}",
                metric=_names(metrics, n_.shape[0], "metric")[i],
                variant=_names(variants, n_.shape[1], "variant")[j],
            )
        return cls.from_sums(
            "proportion", n_, x[..., None], x[..., None, None], metrics=metrics, variants=variants
        )

    @classmethod
    def mean(
        cls,
        n: ArrayLike,
        mean: ArrayLike,
        sd: ArrayLike,
        *,
        metrics: Sequence[str] | None = None,
        variants: Sequence[str] | None = None,
    ) -> Moments:
        """Means from summary numbers (n, mean, sample sd), shape (k,) or (m, k).

        >>> mo = Moments.mean([10, 10], [1.0, 2.0], [0.5, 0.5])
        >>> mo.arm_estimates().value.round(6).tolist()
        [[1.0, 2.0]]
        """
        n_, mu, sd_ = (np.atleast_2d(np.asarray(a, dtype=np.float64)) for a in (n, mean, sd))
        if not n_.shape == mu.shape == sd_.shape:
            raise StatsError("n, mean and sd must have the same shape (one entry per variant)")
        if (sd_ < 0).any():
            i, j = np.argwhere(sd_ < 0)[0]
            raise StatsError(
                f"a standard deviation cannot be negative, got {sd_[i, j]:g}",
                metric=_names(metrics, n_.shape[0], "metric")[i],
                variant=_names(variants, n_.shape[1], "variant")[j],
            )
        # centred on the control's mean: with mean / sd of 1e8 the raw sum of
        # squares would not hold the spread at all in double precision
        shift = mu[:, :1]
        s = n_ * (mu - shift)
        ss = sd_**2 * (n_ - 1) + n_ * (mu - shift) ** 2
        mo = cls.from_sums(
            "mean", n_, s[..., None], ss[..., None, None], metrics=metrics, variants=variants
        )
        return dataclasses.replace(mo, shift=shift.copy())

    # -- algebra -----------------------------------------------------------

    def __add__(self, other: Moments) -> Moments:
        """Combine shards: statistics of disjoint sets of units add."""
        if (self.kind, self.metrics, self.variants, self.s.shape) != (
            other.kind,
            other.metrics,
            other.variants,
            other.s.shape,
        ):
            raise StatsError("can only add statistics of the same metrics, variants and kind")
        # move the other's sums onto this shift (exact when the shifts agree)
        d = (other.offset - self.offset)[:, None, :]
        no = other.n[..., None]
        s_o = other.s + no * d
        ss_o = (
            other.ss
            + other.s[..., :, None] * d[..., None, :]
            + d[..., :, None] * other.s[..., None, :]
            + no[..., None] * d[..., :, None] * d[..., None, :]
        )
        return Moments(
            self.kind,
            self.n + other.n,
            self.s + s_o,
            self.ss + ss_o,
            self.metrics,
            self.variants,
            self.shift,
        )

    @property
    def has_covariate(self) -> bool:
        """Whether pre-period columns are present (CUPED is possible)."""
        return bool(self.s.shape[-1] == 2 * _BASE_COLUMNS[self.kind])

    # -- estimates ---------------------------------------------------------

    def validate(self) -> None:
        """Raise :class:`StatsError` naming metric and variant for unusable input."""
        n = self.n
        for test, message in (
            (
                ~np.isfinite(self.s).all(axis=-1) | ~np.isfinite(self.ss).all(axis=(-1, -2)),
                "sums must be finite numbers",
            ),
            (n < 2, "needs at least 2 units"),
        ):
            if test.any():
                i, j = np.argwhere(test)[0]
                raise StatsError(
                    f"{message} (n = {n[i, j]:g})",
                    metric=self.metrics[i],
                    variant=self.variants[j],
                )
        mean = self.s / n[..., None]
        var = np.diagonal(self.ss, axis1=-2, axis2=-1) / n[..., None] - mean**2
        scale = np.maximum(np.diagonal(self.ss, axis1=-2, axis2=-1) / n[..., None], 1.0)
        negative = (var < -1e-9 * scale).any(axis=-1)
        if negative.any():
            i, j = np.argwhere(negative)[0]
            raise StatsError(
                "negative variance: the sum of squares is smaller than the squared sum allows",
                metric=self.metrics[i],
                variant=self.variants[j],
            )
        if self.kind == "ratio":
            zero = (self.s[..., 1] + self.n * self.offset[:, None, 1]) == 0
            if zero.any():
                i, j = np.argwhere(zero)[0]
                raise StatsError(
                    "the ratio's denominator sums to zero",
                    metric=self.metrics[i],
                    variant=self.variants[j],
                )
        if self.kind == "proportion":
            x = self.s[..., 0]
            bad = (x < 0) | (x > n) | (np.abs(self.ss[..., 0, 0] - x) > 1e-9 * np.maximum(n, 1))
            if bad.any():
                i, j = np.argwhere(bad)[0]
                raise StatsError(
                    "a proportion needs 0/1 values (successes between 0 and n)",
                    metric=self.metrics[i],
                    variant=self.variants[j],
                )

    def arm_estimates(self, *, cuped: bool = False) -> ArmEstimates:
        """Each arm's metric value and the variance of that estimate.

        With ``cuped=True`` (and a covariate present) the value is adjusted by
        a theta pooled over all arms: ``g - theta * (h - h_pooled)``.
        """
        self.validate()
        n = self.n
        centred = self.s / n[..., None]
        # Proportions use the binomial variance p(1 - p) (ddof 0), as the Wald
        # test and the usual calculators do; means and ratios the sample one.
        ddof = 0.0 if self.kind == "proportion" else 1.0
        cov = (self.ss - n[..., None, None] * centred[..., :, None] * centred[..., None, :]) / (
            n[..., None, None] - ddof
        )
        mean = centred + self.offset[:, None, :]
        g, dg = _functional(self.kind, mean, 0)
        var_unit = _quad(dg, cov, dg)
        if not (cuped and self.has_covariate):
            return ArmEstimates(g, np.maximum(var_unit, 0.0) / n, n, np.zeros_like(g), None)
        h, dh = _functional(self.kind, mean, _BASE_COLUMNS[self.kind])
        cov_gh, var_h = _quad(dg, cov, dh), _quad(dh, cov, dh)
        # theta from pooled within-arm (co)variances, one per metric
        pooled_var_h = (var_h * n).sum(axis=1)
        theta = np.divide(
            (cov_gh * n).sum(axis=1),
            pooled_var_h,
            out=np.zeros(len(n)),
            where=pooled_var_h > 0,
        )[:, None]
        tot = self.s.sum(axis=1) + n.sum(axis=1)[:, None] * self.offset
        base = _BASE_COLUMNS[self.kind]
        if self.kind == "ratio":
            h_pooled = tot[:, base] / tot[:, base + 1]
        else:
            h_pooled = tot[:, base] / n.sum(axis=1)
        value = g - theta * (h - h_pooled[:, None])
        var = np.maximum(var_unit - 2 * theta * cov_gh + theta**2 * var_h, 0.0) / n
        rho2 = np.divide(
            cov_gh**2, var_unit * var_h, out=np.zeros_like(g), where=var_unit * var_h > 0
        )
        return ArmEstimates(value, var, n, theta * np.ones_like(g), rho2)


def _functional(kind: Kind, mean: F64, offset: int) -> tuple[F64, F64]:
    """A metric's value from column means, and its gradient, at columns offset.."""
    grad = np.zeros_like(mean)
    if kind == "ratio":
        num, den = mean[..., offset], mean[..., offset + 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            value = num / den
            grad[..., offset] = 1.0 / den
            grad[..., offset + 1] = -num / den**2
        return value, grad
    grad[..., offset] = 1.0
    return mean[..., offset], grad


def _quad(a: F64, cov: F64, b: F64) -> F64:
    return np.asarray(np.einsum("...i,...ij,...j->...", a, cov, b), dtype=np.float64)


@dataclass(frozen=True, eq=False)
class ArmEstimates:
    """Per-arm values and the variances of those estimates, shape (m, k).

    Attributes:
        value: the metric's value in each arm (CUPED-adjusted when asked).
        var: the variance of that estimate (already divided by n).
        n: units per arm.
        theta: the CUPED coefficient used (0 without CUPED).
        rho2: squared correlation of metric and covariate, when CUPED ran.
    """

    value: F64
    var: F64
    n: F64
    theta: F64
    rho2: F64 | None
