"""The simulated company: teams, layers, experiments and their true effects.

A connected-home store (smart plugs, cameras, thermostats, hubs) with five
teams running about forty experiments over a year. Effects are *relative*
multipliers on the behaviour the simulator draws (see ``simulate.py``):

===============  =====================================================
channel          what it multiplies
===============  =====================================================
``conversion``   the chance that a visit ends in a purchase
``order_value``  the value of an order
``returns``      the chance that an order is returned
``clicks``       the chance of a promo/recommendation click per visit
``pages``        the extra pages viewed per visit
``support``      the chance of a support contact per visit
===============  =====================================================

Most effects are zero, a few are +0.5 % to +2 %, some are negative, and five
experiments carry the built-in cases of the design (discount vs returns, a
broken split, a novelty effect, a vanity metric, anecdotes that disagree).
The experiments themselves are data: ``calendar.yml`` beside this file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from types import MappingProxyType
from typing import Any, Final, Literal

__all__ = [
    "CHANNELS",
    "HOLDOUT",
    "TEAMS",
    "Anecdote",
    "ExperimentSpec",
    "HoldoutSpec",
    "InteractionSpec",
    "VariantSpec",
    "experiments",
    "interactions",
]

Channel = Literal["conversion", "order_value", "returns", "clicks", "pages", "support"]
CHANNELS: Final[tuple[Channel, ...]] = (
    "conversion",
    "order_value",
    "returns",
    "clicks",
    "pages",
    "support",
)

TEAMS: Final = MappingProxyType(
    {
        "product": "Product pages, onboarding and the app experience.",
        "marketing": "Messaging, campaigns and merchandising.",
        "sales": "Pricing, bundles and promotions.",
        "operations": "Packaging, delivery promises and fulfilment.",
        "support": "Help centre, support scripts and self-service.",
    }
)

#: Enrollment of every experiment closes after its run; enrolled units keep
#: their variant for this many more days so each gets a full metric window,
#: after which the winner ships (or control stays).
WINDOW_DAYS: Final = 14


@dataclass(frozen=True, slots=True)
class VariantSpec:
    """One arm of an experiment: its key, planned weight and true effects."""

    key: str
    weight: float
    effects: MappingProxyType[str, float] = field(default_factory=lambda: MappingProxyType({}))

    def effect(self, channel: str) -> float:
        """The relative effect on one channel (0 when not set)."""
        return self.effects.get(channel, 0.0)


@dataclass(frozen=True, slots=True)
class Anecdote:
    """Qualitative evidence recorded beside an experiment's numbers."""

    variant: str
    source: str
    sentiment: Literal["positive", "neutral", "negative"]
    text: str


@dataclass(frozen=True, slots=True)
class ExperimentSpec:
    """An experiment of the simulated company and its ground truth."""

    key: str
    name: str
    team: str
    area: str
    layer: str
    start_day: int
    run_days: int
    traffic: float
    variants: tuple[VariantSpec, ...]
    hypothesis: str
    ships: bool = False
    countries: tuple[str, ...] | None = None
    platforms: tuple[str, ...] | None = None
    #: Share of treatment exposures lost on ``srm_platform`` (a logging bug).
    srm_loss: float = 0.0
    srm_platform: str | None = None
    #: Novelty: the effect on ``novelty_channels`` starts at ``novelty`` on
    #: top of the lasting effect and decays with this time constant (days).
    novelty: float = 0.0
    novelty_tau_days: float = 0.0
    novelty_channels: tuple[str, ...] = ()
    anecdotes: tuple[Anecdote, ...] = ()
    case: str | None = None

    @property
    def end_day(self) -> int:
        """First day on which no new unit enrolls."""
        return self.start_day + self.run_days

    @property
    def ship_day(self) -> int:
        """Day the decision takes effect: the winner ships or control stays."""
        return self.end_day + WINDOW_DAYS

    @property
    def ship_variant(self) -> VariantSpec | None:
        """The arm that ships (the best treatment on conversion), if any."""
        if not self.ships:
            return None
        return max(self.variants[1:], key=lambda v: v.effect("conversion"))


@dataclass(frozen=True, slots=True)
class HoldoutSpec:
    """A long-term holdout: never enrolled, never receives shipped winners."""

    key: str
    share: float
    start_day: int


@dataclass(frozen=True, slots=True)
class InteractionSpec:
    """Two concurrent experiments whose treatments, when they meet, do more (or less)
    than their effects add up to: ``effects`` multiply a unit's channels while it is
    in a treatment of both."""

    a: str
    b: str
    effects: MappingProxyType[str, float]
    story: str = ""

    def effect(self, channel: str) -> float:
        """The relative effect on one channel (0 when not set)."""
        return self.effects.get(channel, 0.0)


HOLDOUT: Final = HoldoutSpec(key="global-holdout-2026", share=0.05, start_day=0)


def _spec(entry: dict[str, Any]) -> ExperimentSpec:
    """One experiment of ``calendar.yml``."""
    d = dict(entry)
    d["variants"] = tuple(
        VariantSpec(v["key"], float(v["weight"]), MappingProxyType(dict(v.get("effects", {}))))
        for v in d["variants"]
    )
    d["anecdotes"] = tuple(Anecdote(**a) for a in d.get("anecdotes", ()))
    for name in ("countries", "platforms", "novelty_channels"):
        if d.get(name) is not None:
            d[name] = tuple(d[name])
    return ExperimentSpec(**d)


@cache
def _calendar() -> dict[str, Any]:
    from importlib.resources import files

    import yaml

    doc: dict[str, Any] = yaml.safe_load(
        files("tinylift.demo").joinpath("calendar.yml").read_text()
    )
    return doc


@cache
def experiments() -> tuple[ExperimentSpec, ...]:
    """The company's experiments over the year, in start order (from ``calendar.yml``)."""
    specs = [_spec(e) for e in _calendar()["experiments"]]
    return tuple(sorted(specs, key=lambda s: (s.start_day, s.key)))


@cache
def interactions() -> tuple[InteractionSpec, ...]:
    """Pairs of concurrent experiments that interact (from ``calendar.yml``)."""
    out = []
    for e in _calendar().get("interactions", ()):
        a, b = e["experiments"]
        out.append(InteractionSpec(a, b, MappingProxyType(dict(e["effects"])), e.get("story", "")))
    return tuple(out)
