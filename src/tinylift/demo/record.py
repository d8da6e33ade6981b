"""The simulated company's system of record: register, analyse, decide.

After the data are loaded, the demo registers the teams and experiments,
starts and stops each on its simulated dates, records its anecdotes,
analyses them all in one refresh (storing snapshots) and records a decision
for every finished experiment by the decision rule, as a disciplined team
would: ship what the rule says ships, iterate when the OEC moved but a
guardrail blocked it, abandon the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from tinylift.analysis import Analysis, analyze_registered
from tinylift.demo.company import HOLDOUT, TEAMS, ExperimentSpec
from tinylift.demo.simulate import START, Simulation
from tinylift.metrics import Catalog
from tinylift.registry import (
    Registry,
    add_anecdote,
    add_learning,
    create_experiment,
    create_team,
    decide,
    start_experiment,
    stop_experiment,
)
from tinylift.warehouse.engine import Engine

__all__ = ["RecordSummary", "record_company", "register_company"]


@dataclass(frozen=True, slots=True)
class RecordSummary:
    """What the demo put into the registry."""

    experiments: int
    analysed: int
    decisions: dict[str, int]
    flagged: int
    analysis: Analysis


def _day(n: int) -> datetime:
    return START + timedelta(days=n)


def register_company(
    registry: Registry, sim: Simulation, catalog: Catalog, *, as_of_day: int | None = None
) -> list[ExperimentSpec]:
    """Register the teams, experiments (started and stopped on their simulated days),
    anecdotes and the holdout, as the registry stood on ``as_of_day`` (default: the
    end of the simulation); returns the experiments that had finished."""
    day = sim.days if as_of_day is None else as_of_day
    oec = [m.name for m in catalog if m.role == "oec"]
    guardrails = [m.name for m in catalog if m.role == "guardrail"]
    secondary = [m.name for m in catalog if m.role == "secondary"]
    finished = []
    with registry.session() as s:
        for key, description in TEAMS.items():
            create_team(s, key=key, name=key.capitalize(), description=description)
        for spec in sim.specs:
            lo, hi = sim.ranges[spec.key]
            create_experiment(
                s,
                spec={
                    "key": spec.key,
                    "name": spec.name,
                    "hypothesis": spec.hypothesis,
                    "area": spec.area,
                    "team": spec.team,
                    "owner": f"{spec.team}-lead",
                    "layer": spec.layer,
                    # the slice the simulator assigned from, so SDKs agree with the data
                    "layer_range": (lo, hi),
                    "variants": [{"key": v.key, "weight": v.weight} for v in spec.variants],
                    "coverage": hi - lo,
                    "oec": oec[0] if oec else None,
                    "secondary": secondary,
                    "guardrails": guardrails,
                    "planned_days": spec.run_days,
                },
                catalog=catalog,
            )
            if spec.start_day >= day:
                continue  # still a draft at the end of the year
            start_experiment(s, key=spec.key, at=_day(spec.start_day))
            for a in spec.anecdotes:
                add_anecdote(
                    s,
                    key=spec.key,
                    anecdote={
                        "variant": a.variant,
                        "source": a.source,
                        "sentiment": a.sentiment,
                        "text": a.text,
                        "recorded_by": f"{spec.team}-lead",
                    },
                )
            # enrolment ends after the run; each unit's window runs on after the stop
            if spec.end_day <= day:
                stop_experiment(s, key=spec.key, at=_day(spec.end_day))
            # decided once every enrolled unit had its full window
            if spec.ship_day <= day:
                finished.append(spec)
        # the long-term holdout runs all year: SDKs keep its units out of everything
        create_experiment(
            s,
            spec={
                "key": HOLDOUT.key,
                "kind": "holdout",
                "name": "Global holdout 2026",
                "hypothesis": "Everything we ship this year adds up to a measurable lift.",
                "area": "holdout",
                "team": "product",
                "variants": [
                    {"key": "holdout", "weight": HOLDOUT.share},
                    {"key": "general", "weight": 1 - HOLDOUT.share},
                ],
                "oec": oec[0] if oec else None,
                "guardrails": guardrails,
            },
            catalog=catalog,
        )
        start_experiment(s, key=HOLDOUT.key, at=_day(HOLDOUT.start_day))
    return finished


def record_company(
    registry: Registry,
    engine: Engine,
    catalog: Catalog,
    sim: Simulation,
    *,
    alpha: float = 0.05,
    srm_alpha: float = 0.001,
    on_stage: Callable[[str], None] | None = None,
) -> RecordSummary:
    """Register, analyse and decide the simulated company's experiments."""
    say = on_stage or (lambda _: None)
    say("registering experiments")
    finished = register_company(registry, sim, catalog)
    started = [s.key for s in sim.specs if s.start_day < sim.days]
    analysis = analyze_registered(
        registry,
        engine,
        catalog,
        # the holdout too: the portfolio checks the shipped total against it
        keys=[*started, HOLDOUT.key],
        cutoff=_day(sim.days),
        alpha=alpha,
        srm_alpha=srm_alpha,
        on_stage=say,
    )
    say("recording decisions")
    counts = {"ship": 0, "iterate": 0, "abandon": 0}
    with registry.session() as s:
        for spec in finished:
            card = analysis.scorecards.get(spec.key)
            if card is None:
                continue
            oec_moved = any(r.role == "oec" and r.verdict == "better" for r in card.rows)
            if card.recommendation == "ship":
                outcome = "ship"
            elif oec_moved and card.check("srm").status != "fail":
                outcome = "iterate"  # the idea works on the OEC, but something blocked it
            else:
                outcome = "abandon"
            decide(
                s,
                key=spec.key,
                outcome=outcome,
                variant=card.ship_variant if outcome == "ship" else None,
                rationale="; ".join(card.reasons),
                decided_by=f"{spec.team}-lead",
                snapshot_id=analysis.snapshots.get(spec.key),
                at=_day(spec.ship_day) + timedelta(days=1),
            )
            counts[outcome] += 1
            # one learning per decision: what was tried, what happened, what to watch
            add_learning(
                s,
                text=f"{spec.name}: {outcome}. {card.reasons[0]}."
                + "".join(f" {c.message}." for c in card.flagged),
                tags=[spec.area, spec.team, outcome],
                key=spec.key,
                recorded_by=f"{spec.team}-lead",
            )
    flagged = sum(1 for c in analysis.scorecards.values() if c.flagged)
    return RecordSummary(
        experiments=len(sim.specs),
        analysed=len(analysis.scorecards),
        decisions=counts,
        flagged=flagged,
        analysis=analysis,
    )
