"""Metric definitions: the shape of one entry of ``metrics.yml``.

Names that reach SQL as identifiers (metric names, property keys) must match
strict patterns; everything else (event names, filter values) reaches the
engine only as quoted literals through Ibis, never spliced into SQL text.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

__all__ = [
    "Cap",
    "Cuped",
    "Direction",
    "EventDef",
    "MeanMetric",
    "Metric",
    "ProportionMetric",
    "QuantileMetric",
    "RatioMetric",
    "Role",
    "Source",
    "Window",
]

#: Metric names become column aliases: lower-case identifiers only.
MetricName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
#: Event names are compared as literals; the pattern keeps them readable.
EventName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,100}$")]
#: Property keys become JSON paths ('$.key'): identifiers only.
PropertyKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")]

Role = Literal["oec", "secondary", "guardrail"]
Direction = Literal["higher", "lower"]
#: Columns of the events table a metric can aggregate: the value, or a count.
VALUE_COLUMNS = ("value", "count")


#: A property filter's value: text, a finite number or a boolean (``.nan`` is refused).
FilterValue = str | int | Annotated[float, Field(allow_inf_nan=False)] | bool


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Window(_Strict):
    """Days after a unit's entry (first exposure) whose events count."""

    start_days: int = Field(default=0, ge=0, le=3650)
    end_days: int = Field(default=14, gt=0, le=3650)

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end_days <= self.start_days:
            raise ValueError("end_days must be after start_days")
        return self


class Cap(_Strict):
    """Winsorise per-unit values: at a fixed value or at a percentile of units."""

    absolute: float | None = Field(default=None, gt=0)
    percentile: float | None = Field(default=None, gt=0.5, lt=1)

    @model_validator(mode="after")
    def _one(self) -> Cap:
        if (self.absolute is None) == (self.percentile is None):
            raise ValueError("give exactly one of absolute or percentile")
        return self


class Cuped(_Strict):
    """Use the same measure over this many days before entry as the covariate."""

    pre_days: int = Field(default=28, gt=0, le=365)


class Source(_Strict):
    """A per-unit measure: count or sum the value of matching events."""

    event: EventName
    value: str = "count"
    filter: dict[PropertyKey, FilterValue] = Field(default_factory=dict)


class EventDef(_Strict):
    """A declared event: what it means and which properties it carries."""

    description: str = ""
    properties: list[PropertyKey] = Field(default_factory=list)


class _MetricBase(_Strict):
    name: MetricName
    description: str = ""
    role: Role = "secondary"
    direction: Direction = "higher"
    margin: float | None = Field(default=None, gt=0, lt=1)
    team: str | None = None
    window: Window = Field(default_factory=Window)
    cuped: Cuped | None = None
    value_per_unit: float | None = Field(
        default=None,
        allow_inf_nan=False,
        description="Money value of one unit of the metric, for impact estimates.",
    )

    @model_validator(mode="after")
    def _guardrail_margin(self) -> _MetricBase:
        if self.role == "guardrail" and self.margin is None:
            raise ValueError("a guardrail needs a non-inferiority margin (margin: 0.02 is 2 %)")
        return self


class ProportionMetric(_MetricBase):
    """Share of units that did something at least once in the window."""

    type: Literal["proportion"]
    event: EventName
    filter: dict[PropertyKey, FilterValue] = Field(default_factory=dict)


class MeanMetric(_MetricBase):
    """Per-unit sum (``value: value``) or count (``value: count``), averaged over units."""

    type: Literal["mean"]
    event: EventName
    value: str = "count"
    filter: dict[PropertyKey, FilterValue] = Field(default_factory=dict)
    cap: Cap | None = None


class RatioMetric(_MetricBase):
    """Sum of a numerator over sum of a denominator, both per-unit measures.

    Each side names a mean metric of the catalog or defines a source inline.
    """

    type: Literal["ratio"]
    numerator: MetricName | Source
    denominator: MetricName | Source | None = None

    @model_validator(mode="after")
    def _needs_denominator(self) -> RatioMetric:
        if self.denominator is None:
            raise ValueError("a ratio metric needs a denominator")
        return self


#: A quantile metric is tested from the quantiles at q - delta, q and q + delta.
QUANTILE_DELTA: Final = 0.02


class QuantileMetric(_MetricBase):
    """A quantile of per-unit values (e.g. the median order value per unit)."""

    type: Literal["quantile"]
    event: EventName
    value: str = "value"
    # the test reads the quantiles at q +- 0.02, so q must leave room on both sides
    quantile: float = Field(gt=QUANTILE_DELTA, lt=1 - QUANTILE_DELTA)
    filter: dict[PropertyKey, FilterValue] = Field(default_factory=dict)


Metric = Annotated[
    ProportionMetric | MeanMetric | RatioMetric | QuantileMetric, Field(discriminator="type")
]
