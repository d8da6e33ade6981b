"""Use case of planning: how many units and days an experiment needs."""

from __future__ import annotations

from typing import Any

from tinylift.errors import ConfigError

__all__ = ["power_plan"]


def power_plan(
    kind: str,
    *,
    baseline: float,
    mde: float,
    sd: float | None = None,
    daily_units: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    variants: int = 2,
) -> dict[str, Any]:
    """Units per variant, in all, and days, for a fixed-horizon and a sequential test.

    ``mde`` is relative to ``baseline`` (0.02 is a 2 % lift). A mean needs its
    per-unit standard deviation ``sd``.

    Raises:
        ConfigError: a mean without ``sd``, or a kind other than proportion or mean.
        StatsError: numbers the arithmetic cannot plan with (named).
    """
    from tinylift.stats import sample_size

    if kind not in ("proportion", "mean"):
        raise ConfigError("choose proportion or mean", parameter="kind")
    if kind == "mean" and sd is None:
        raise ConfigError("a mean needs its per-unit standard deviation", parameter="sd")
    out: dict[str, Any] = {}
    for design in ("fixed", "sequential"):
        plan = sample_size(
            kind,  # type: ignore[arg-type]
            baseline=baseline,
            mde=mde,
            relative=True,
            sd=sd,
            alpha=alpha,
            power=power,
            variants=variants,
            design=design,
            daily_units=daily_units,
        )
        out[design] = {
            "n_per_variant": plan.n_per_variant,
            "n_total": plan.n_total,
            "days": plan.days,
        }
    return out
