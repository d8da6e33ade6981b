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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal

__all__ = [
    "CHANNELS",
    "HOLDOUT",
    "TEAMS",
    "Anecdote",
    "ExperimentSpec",
    "HoldoutSpec",
    "VariantSpec",
    "experiments",
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


HOLDOUT: Final = HoldoutSpec(key="global-holdout-2026", share=0.05, start_day=0)


def _ab(
    effects: dict[str, float] | None = None, *, weights: tuple[float, float] = (0.5, 0.5)
) -> tuple[VariantSpec, ...]:
    return (
        VariantSpec("control", weights[0]),
        VariantSpec("treatment", weights[1], MappingProxyType(dict(effects or {}))),
    )


def _abn(*arms: dict[str, float]) -> tuple[VariantSpec, ...]:
    w = 1.0 / (len(arms) + 1)
    names = "bcdefg"
    treatments = (
        VariantSpec(f"variant_{names[i]}", w, MappingProxyType(dict(a))) for i, a in enumerate(arms)
    )
    return (VariantSpec("control", w), *treatments)


def experiments() -> tuple[ExperimentSpec, ...]:
    """The company's experiments over the year, in start order."""
    e = ExperimentSpec
    specs = [
        # --- product: product pages and onboarding -----------------------
        e(
            "pdp-gallery-video",
            "Product video in the gallery",
            "product",
            "product page",
            "product-page",
            7,
            28,
            0.5,
            _ab({"conversion": 0.0}),
            "Showing a setup video on camera pages reduces doubt and lifts conversion.",
            srm_loss=0.5,
            srm_platform="android",
            case="srm",
            anecdotes=(
                Anecdote(
                    "treatment",
                    "support ticket",
                    "negative",
                    "The product page froze on my Android phone when the video loaded.",
                ),
            ),
        ),
        e(
            "pdp-reviews-top",
            "Reviews above the fold",
            "product",
            "product page",
            "product-page",
            50,
            28,
            0.5,
            _ab({"conversion": 0.015, "pages": 0.02}),
            "Seeing ratings first builds trust and lifts conversion.",
            ships=True,
        ),
        e(
            "pdp-spec-table",
            "Compact spec table",
            "product",
            "product page",
            "product-page",
            50,
            28,
            0.5,
            _ab(),
            "A compact spec table helps shoppers compare models.",
        ),
        e(
            "pdp-compat-checker",
            "Compatibility checker",
            "product",
            "product page",
            "product-page",
            95,
            35,
            0.6,
            _ab({"conversion": 0.012, "returns": -0.04}),
            "Checking compatibility before buying cuts wrong purchases and returns.",
            ships=True,
            anecdotes=(
                Anecdote(
                    "treatment",
                    "return reason",
                    "positive",
                    "Fewer 'not compatible with my router' return reasons this month.",
                ),
            ),
        ),
        e(
            "pdp-sticky-cart",
            "Sticky add-to-cart bar",
            "product",
            "product page",
            "product-page",
            145,
            28,
            0.5,
            _ab({"conversion": -0.01}),
            "A sticky add-to-cart bar shortens the path to purchase.",
            anecdotes=(
                Anecdote(
                    "treatment",
                    "user interview",
                    "positive",
                    "I love that the buy button follows me down the page.",
                ),
            ),
            case="anecdote_disagrees",
        ),
        e(
            "pdp-badges",
            "Energy-saving badges",
            "product",
            "product page",
            "product-page",
            170,
            28,
            0.5,
            _ab(),
            "Energy badges make savings concrete.",
        ),
        e(
            "pdp-price-anchor",
            "Show price per month of warranty",
            "product",
            "product page",
            "product-page",
            210,
            28,
            0.5,
            _ab({"conversion": 0.008, "order_value": 0.005}),
            "Framing warranty per month lifts attachment.",
            ships=True,
        ),
        e(
            "pdp-qna",
            "Questions and answers section",
            "product",
            "product page",
            "product-page",
            252,
            28,
            0.5,
            _ab(),
            "Answers to common questions reduce hesitation.",
        ),
        e(
            "onb-quick-setup",
            "Quick setup wizard",
            "product",
            "onboarding",
            "onboarding",
            14,
            35,
            0.5,
            _ab({"support": -0.08}),
            "A guided setup lowers support contacts for new owners.",
        ),
        e(
            "onb-account-later",
            "Create account later",
            "product",
            "onboarding",
            "onboarding",
            70,
            28,
            0.5,
            _ab({"conversion": 0.02}),
            "Letting people check out as guests removes a hurdle.",
            ships=True,
        ),
        e(
            "onb-tour",
            "Interactive app tour",
            "product",
            "onboarding",
            "onboarding",
            120,
            28,
            0.5,
            _ab(),
            "A tour shows what the hub can do.",
        ),
        e(
            "onb-bundle-suggest",
            "Starter bundle suggestion",
            "product",
            "onboarding",
            "onboarding",
            190,
            28,
            0.5,
            _ab({"conversion": -0.015}),
            "Suggesting a starter bundle raises the first order.",
        ),
        e(
            "home-carousel",
            "New home carousel",
            "product",
            "merchandising",
            "merchandising",
            230,
            35,
            0.5,
            _ab({"conversion": 0.0}),
            "A livelier home page engages visitors.",
            novelty=0.30,
            novelty_tau_days=4.0,
            novelty_channels=("pages", "clicks"),
            case="novelty",
        ),
        # --- marketing: messaging and merchandising -----------------------
        e(
            "msg-hero-copy",
            "Hero copy: 'Works with everything'",
            "marketing",
            "messaging",
            "messaging",
            10,
            28,
            0.5,
            _ab(),
            "Compatibility messaging beats feature messaging.",
        ),
        e(
            "msg-free-shipping",
            "Free shipping banner",
            "marketing",
            "messaging",
            "messaging",
            50,
            28,
            0.5,
            _ab({"conversion": 0.01}),
            "Making free shipping visible lifts conversion.",
            ships=True,
        ),
        e(
            "msg-urgency",
            "Low-stock urgency labels",
            "marketing",
            "messaging",
            "messaging",
            95,
            28,
            0.5,
            _ab({"conversion": 0.004, "returns": 0.03}),
            "Urgency prompts faster decisions.",
        ),
        e(
            "msg-email-subject",
            "Onsite message tone",
            "marketing",
            "messaging",
            "messaging",
            140,
            28,
            0.5,
            _abn({}, {}),
            "A friendlier tone engages more than a formal one.",
        ),
        e(
            "msg-security-trust",
            "Security trust badges",
            "marketing",
            "messaging",
            "messaging",
            185,
            28,
            0.5,
            _ab({"conversion": 0.006}),
            "Security badges reassure camera buyers.",
        ),
        e(
            "msg-holiday-theme",
            "Holiday theme",
            "marketing",
            "messaging",
            "messaging",
            320,
            21,
            0.5,
            _ab(),
            "A festive theme fits the season.",
        ),
        e(
            "merch-rec-widget",
            "Recommendation widget",
            "marketing",
            "merchandising",
            "merchandising",
            20,
            28,
            0.5,
            _ab({"clicks": 0.15}),
            "More recommendations get more clicks.",
            case="vanity",
        ),
        e(
            "merch-sort-popular",
            "Sort by popularity",
            "marketing",
            "merchandising",
            "merchandising",
            60,
            28,
            0.5,
            _ab({"conversion": 0.005, "clicks": -0.05}),
            "Popular items first help undecided shoppers.",
        ),
        e(
            "merch-collections",
            "Curated collections",
            "marketing",
            "merchandising",
            "merchandising",
            110,
            28,
            0.5,
            _ab({"clicks": 0.12, "pages": 0.05}),
            "Curated collections drive discovery.",
        ),
        e(
            "merch-cross-sell",
            "Cross-sell in cart",
            "marketing",
            "merchandising",
            "merchandising",
            160,
            28,
            0.5,
            _ab({"order_value": 0.02}),
            "Suggesting accessories in the cart grows order value.",
            ships=True,
        ),
        e(
            "merch-new-arrivals",
            "New arrivals strip",
            "marketing",
            "merchandising",
            "merchandising",
            280,
            28,
            0.5,
            _ab({"clicks": 0.08}),
            "New arrivals attract returning visitors.",
        ),
        # --- sales: pricing and packaging ---------------------------------
        e(
            "price-discount-10",
            "10 % discount on hubs",
            "sales",
            "pricing",
            "pricing",
            30,
            28,
            1.0,
            _ab({"conversion": 0.05, "order_value": -0.03, "returns": 0.35}),
            "A 10 % discount lifts conversion enough to pay for itself.",
            case="discount",
            anecdotes=(
                Anecdote(
                    "treatment",
                    "return reason",
                    "negative",
                    "Bought it because it was cheap, turned out I did not need it.",
                ),
                Anecdote(
                    "treatment",
                    "sales call",
                    "positive",
                    "Customers love the discount; the team hit its quarterly target.",
                ),
            ),
        ),
        e(
            "price-bundle-3",
            "Three-plug bundle price",
            "sales",
            "pricing",
            "pricing",
            75,
            28,
            0.5,
            _ab({"order_value": 0.012}),
            "A bundle price sells more plugs per order.",
            ships=True,
        ),
        e(
            "price-charm",
            "Charm prices (.99)",
            "sales",
            "pricing",
            "pricing",
            115,
            28,
            0.5,
            _ab(),
            "Charm prices feel cheaper.",
        ),
        e(
            "price-subscription",
            "Cloud storage subscription upsell",
            "sales",
            "pricing",
            "pricing",
            150,
            35,
            0.5,
            _ab({"conversion": -0.02}),
            "Offering the subscription at checkout grows revenue.",
            anecdotes=(
                Anecdote(
                    "treatment",
                    "user interview",
                    "negative",
                    "The subscription pop-up at checkout felt pushy.",
                ),
            ),
        ),
        e(
            "price-financing",
            "Pay in 4 instalments",
            "sales",
            "pricing",
            "pricing",
            200,
            28,
            0.5,
            _abn({"conversion": 0.01}, {"conversion": 0.0}),
            "Instalments make cameras affordable.",
        ),
        e(
            "price-free-install",
            "Free installation over 300",
            "sales",
            "pricing",
            "pricing",
            245,
            28,
            0.5,
            _ab(),
            "Free installation lifts premium sales.",
        ),
        e(
            "pkg-gift-wrap",
            "Gift wrap option",
            "sales",
            "packaging",
            "packaging",
            290,
            28,
            0.5,
            _ab({"order_value": 0.004}),
            "Gift wrapping grows holiday orders.",
        ),
        # --- operations: packaging and delivery -----------------------------
        e(
            "ops-delivery-promise",
            "Delivery date promise",
            "operations",
            "messaging",
            "checkout",
            25,
            28,
            0.5,
            _ab({"conversion": 0.012}),
            "A concrete delivery date removes uncertainty.",
            ships=True,
        ),
        e(
            "ops-eco-packaging",
            "Plastic-free packaging note",
            "operations",
            "packaging",
            "packaging",
            60,
            28,
            0.5,
            _ab(),
            "Eco packaging messaging appeals to buyers.",
        ),
        e(
            "ops-box-insert",
            "Quick-start card in the box",
            "operations",
            "packaging",
            "packaging",
            130,
            28,
            0.5,
            _ab({"returns": -0.06, "support": -0.05}),
            "A quick-start card prevents set-up trouble and returns.",
            ships=False,
        ),
        e(
            "ops-pickup-points",
            "Pickup point option",
            "operations",
            "onboarding",
            "checkout",
            175,
            28,
            0.5,
            _ab({"conversion": -0.006}),
            "Pickup points help people who are rarely home.",
        ),
        e(
            "ops-express-upsell",
            "Express shipping upsell",
            "operations",
            "pricing",
            "checkout",
            260,
            28,
            0.5,
            _ab({"order_value": 0.003}),
            "Express shipping for last-minute buyers.",
        ),
        # --- support: scripts and self-service -----------------------------
        e(
            "sup-chat-proactive",
            "Proactive chat on setup pages",
            "support",
            "support",
            "support",
            35,
            28,
            0.5,
            _ab({"support": 0.10, "conversion": 0.003}),
            "Proactive chat catches problems early.",
        ),
        e(
            "sup-script-empathy",
            "Empathy-first support script",
            "support",
            "support",
            "support",
            100,
            35,
            0.5,
            _ab({"returns": -0.05}),
            "An empathetic script saves orders that would be returned.",
            anecdotes=(
                Anecdote(
                    "treatment",
                    "support ticket",
                    "positive",
                    "The agent understood my problem and helped me keep the camera.",
                ),
            ),
        ),
        e(
            "sup-help-search",
            "Help centre search",
            "support",
            "support",
            "support",
            165,
            28,
            0.5,
            _ab({"support": -0.06}),
            "Better search answers questions before a contact.",
        ),
        e(
            "sup-video-guides",
            "Video troubleshooting guides",
            "support",
            "support",
            "support",
            225,
            28,
            0.5,
            _ab(),
            "Videos solve set-up problems faster than text.",
            anecdotes=(
                Anecdote(
                    "treatment",
                    "app review",
                    "positive",
                    "The new video guides are great, fixed my doorbell in minutes!",
                ),
            ),
        ),
        e(
            "sup-callback",
            "Callback instead of queue",
            "support",
            "support",
            "support",
            300,
            28,
            0.5,
            _ab({"support": -0.03}),
            "Callbacks reduce abandoned contacts.",
        ),
    ]
    return tuple(sorted(specs, key=lambda s: (s.start_day, s.key)))
