"""Immutable results of comparing treatments with control, vectorised.

Every array is shaped (metrics, treatments); ``records()`` turns them into
one dict per (metric, treatment) with the honest field names the CLI's
``--json`` and the web app use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from tinylift.results import Result, frozen_mapping

if TYPE_CHECKING:
    from tinylift.stats.moments import Moments

__all__ = ["Alternative", "Comparison"]

Alternative = Literal["two-sided", "greater", "less"]
F64 = NDArray[np.float64]

#: Fields every comparison has, in the order records show them.
CORE_FIELDS = (
    "control_value",
    "treatment_value",
    "effect",
    "ci_low",
    "ci_high",
    "rel_effect",
    "rel_ci_low",
    "rel_ci_high",
    "p_value",
    "se",
    "rel_se",
    "n_control",
    "n_treatment",
)


def _py(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        # JSON has no infinities; an open-ended interval is None on that side.
        return None
    return value


@dataclass(frozen=True, eq=False, repr=False)
class Comparison(Result):
    """Treatment-versus-control results for several metrics at once.

    ``flags`` explains every value that is not an ordinary number: an empty
    tuple means the row is ordinary; otherwise it holds reasons such as
    ``"zero variance"`` or ``"control mean is zero"``.
    """

    method: str
    metrics: tuple[str, ...]
    control: str
    treatments: tuple[str, ...]
    alpha: float
    alternative: Alternative
    values: Mapping[str, F64]
    flags: NDArray[np.object_]
    extra: Mapping[str, F64] = field(default_factory=dict)
    info: Mapping[str, Any] = field(default_factory=dict)

    _repr_fields = ("method", "metrics", "treatments")

    def __post_init__(self) -> None:
        # a result is a value: its arrays read-only, its mappings immutable
        for name in ("values", "extra"):
            arrays = {k: _read_only(v) for k, v in getattr(self, name).items()}
            object.__setattr__(self, name, frozen_mapping(arrays))
        object.__setattr__(self, "flags", _read_only(self.flags))
        object.__setattr__(self, "info", frozen_mapping(self.info))

    @classmethod
    def of(
        cls,
        moments: Moments,
        *,
        method: str,
        alpha: float,
        alternative: Alternative,
        values: dict[str, F64],
        flags: NDArray[np.object_],
        extra: dict[str, F64] | None = None,
        info: dict[str, Any] | None = None,
    ) -> Comparison:
        """Results for every treatment of ``moments`` against its control."""
        return cls(
            method=method,
            metrics=moments.metrics,
            control=moments.variants[0],
            treatments=moments.variants[1:],
            alpha=alpha,
            alternative=alternative,
            values=values,
            flags=flags,
            extra=extra or {},
            info=info or {},
        )

    def __getattr__(self, name: str) -> F64:
        values = self.__dict__.get("values", {})
        extra = self.__dict__.get("extra", {})
        if name in values:
            return values[name]  # type: ignore[no-any-return]
        if name in extra:
            return extra[name]  # type: ignore[no-any-return]
        raise AttributeError(name)

    @property
    def shape(self) -> tuple[int, int]:
        """(metrics, treatments)."""
        return (len(self.metrics), len(self.treatments))

    def records(self) -> list[dict[str, Any]]:
        """One dict per (metric, treatment), ready for JSON."""
        rows = []
        for i, metric in enumerate(self.metrics):
            for j, variant in enumerate(self.treatments):
                row: dict[str, Any] = {
                    "metric": metric,
                    "control": self.control,
                    "variant": variant,
                    "method": self.method,
                }
                for name, arr in (*self.values.items(), *self.extra.items()):
                    row[name] = _py(arr[i, j])
                row["flags"] = list(self.flags[i, j])
                rows.append(row)
        return rows

    def to_dict(self) -> dict[str, Any]:
        """The single row as a dict, or ``{"rows": [...]}`` for several."""
        rows = self.records()
        return rows[0] if len(rows) == 1 else {"rows": rows}

    def to_dicts(self) -> list[dict[str, Any]]:
        """One dict per (metric, treatment)."""
        return self.records()

    def row(self, metric: str, variant: str | None = None) -> dict[str, Any]:
        """The record of one metric (and treatment; the first by default)."""
        i = self.metrics.index(metric)
        j = 0 if variant is None else self.treatments.index(variant)
        return self.records()[i * len(self.treatments) + j]

    def adjusted(self, method: str = "holm", *, family: str = "metric") -> Comparison:
        """A copy with ``p_value_adjusted`` for a multiple-testing family.

        ``family="metric"``: each metric's treatments form a family (A/B/n);
        ``"experiment"``: every metric and treatment of this comparison does.
        For a family spanning experiments, pass their p-values together to
        :func:`tinylift.stats.adjust_p_values`.
        """
        from tinylift.stats.multiple import adjust_p_values

        p = self.values["p_value"]
        if family == "metric":
            adj = np.vstack([adjust_p_values(row, method) for row in p])  # type: ignore[arg-type]
        elif family == "experiment":
            adj = adjust_p_values(p, method)  # type: ignore[arg-type]
        else:
            from tinylift.errors import StatsError

            raise StatsError(f"family must be 'metric' or 'experiment', got {family!r}")
        return Comparison(
            method=self.method,
            metrics=self.metrics,
            control=self.control,
            treatments=self.treatments,
            alpha=self.alpha,
            alternative=self.alternative,
            values=self.values,
            flags=self.flags,
            extra={**self.extra, "p_value_adjusted": adj},
            info={**self.info, "correction": method, "family": family},
        )


def _read_only(values: Any) -> Any:
    """A read-only view (the caller's own array stays writable)."""
    view = np.asarray(values).view()
    view.setflags(write=False)
    return view
