"""The simulated company as data: in memory for tests, or loaded into a workspace."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tinylift.config import Settings
from tinylift.demo.company import HOLDOUT, TEAMS, ExperimentSpec
from tinylift.demo.simulate import START, Chunk, Simulation
from tinylift.metrics.catalog import CATALOG_FILE
from tinylift.warehouse.contract import ExperimentWindow
from tinylift.warehouse.store import Warehouse

__all__ = [
    "Company",
    "DemoSummary",
    "anecdotes_table",
    "experiment_windows",
    "experiments_table",
    "generate",
    "load_demo",
    "write_catalog",
]


@dataclass(frozen=True, slots=True)
class Company:
    """All of the simulated company's data, in memory."""

    exposures: pa.Table
    events: pa.Table
    truth: pa.Table
    experiments: pa.Table
    anecdotes: pa.Table
    units: pa.Table
    simulation: Simulation


def generate(users: int, *, days: int = 365, seed: int = 0) -> Company:
    """Simulate the company in memory (for tests and notebooks).

    >>> c = generate(2_000, seed=1)
    >>> c.exposures.num_rows > 0 and c.events.num_rows > c.exposures.num_rows
    True
    """
    sim = Simulation(users=users, days=days, seed=seed)
    chunks = list(sim.chunks())
    return Company(
        exposures=pa.concat_tables(c.exposures for c in chunks),
        events=pa.concat_tables(c.events for c in chunks),
        truth=sim.truth.table(),
        experiments=experiments_table(sim),
        anecdotes=anecdotes_table(sim.specs),
        units=pa.concat_tables(c.units_table for c in chunks),
        simulation=sim,
    )


def experiments_table(sim: Simulation) -> pa.Table:
    """One row per experiment (and the holdout): design, dates, truth flags."""
    rows = []
    for s in sim.specs:
        lo, hi = sim.ranges[s.key]
        winner = s.ship_variant
        rows.append(
            {
                "experiment_key": s.key,
                "name": s.name,
                "team": s.team,
                "area": s.area,
                "layer": s.layer,
                "hypothesis": s.hypothesis,
                "start_day": s.start_day,
                "end_day": s.end_day,
                "ship_day": s.ship_day,
                "layer_range_low": lo,
                "layer_range_high": hi,
                "variants": json.dumps([{"key": v.key, "weight": v.weight} for v in s.variants]),
                "ships": winner is not None,
                "ship_variant": winner.key if winner else None,
                "case": s.case,
            }
        )
    rows.append(
        {
            "experiment_key": HOLDOUT.key,
            "name": "Global holdout 2026",
            "team": "product",
            "area": "holdout",
            "layer": "holdout",
            "hypothesis": "Everything we ship this year adds up to a measurable lift.",
            "start_day": HOLDOUT.start_day,
            "end_day": sim.days,
            "ship_day": sim.days,
            "layer_range_low": 0.0,
            "layer_range_high": 1.0,
            "variants": json.dumps(
                [
                    {"key": "holdout", "weight": HOLDOUT.share},
                    {"key": "general", "weight": 1 - HOLDOUT.share},
                ]
            ),
            "ships": False,
            "ship_variant": None,
            "case": "holdout",
        }
    )
    return pa.Table.from_pylist(rows)


def anecdotes_table(specs: tuple[ExperimentSpec, ...]) -> pa.Table:
    """The qualitative evidence recorded with some experiments."""
    rows = [
        {
            "experiment_key": s.key,
            "variant_key": a.variant,
            "source": a.source,
            "sentiment": a.sentiment,
            "text": a.text,
        }
        for s in specs
        for a in s.anecdotes
    ]
    return pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                (n, pa.string())
                for n in ("experiment_key", "variant_key", "source", "sentiment", "text")
            ]
        ),
    )


def write_catalog(workspace: Path) -> None:
    """The demo's metric catalog, as the workspace's ``metrics.yml``."""
    from importlib.resources import files

    (workspace / CATALOG_FILE).write_text(
        files("tinylift.demo").joinpath("metrics.yml").read_text()
    )


def experiment_windows(sim: Simulation) -> list[ExperimentWindow]:
    """Each experiment's design and enrolment dates, as the warehouse's checks read them."""
    from datetime import timedelta

    return [
        ExperimentWindow(
            key=s.key,
            variants=tuple(v.key for v in s.variants),
            metrics=(),
            start=START + timedelta(days=s.start_day),
            end=START + timedelta(days=min(s.ship_day, sim.days)),
            weights=tuple(v.weight for v in s.variants),
            layer=s.layer,
        )
        for s in sim.specs
    ]


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What :func:`load_demo` produced."""

    teams: int
    experiments: int
    users: int
    exposures: int
    events: int
    first_day: str
    last_day: str
    workspace: Path


def load_demo(
    settings: Settings,
    *,
    users: int,
    seed: int = 0,
    days: int = 365,
    on_chunk: Callable[[Chunk], None] | None = None,
) -> DemoSummary:
    """Simulate the company and load it into the workspace's warehouse.

    The warehouse's exposures and events are replaced in one transaction, so
    an interrupted run leaves the previous data intact. The ground truth goes
    to ``<workspace>/demo/`` as Parquet files.
    """
    sim = Simulation(users=users, days=days, seed=seed)
    exposures = events = 0
    with Warehouse(settings.warehouse_path) as wh, wh.transaction():
        wh.truncate()
        for chunk in sim.chunks():
            exposures += wh.append("exposures", chunk.exposures, source="demo")
            events += wh.append("events", chunk.events, source="demo")
            if on_chunk is not None:
                on_chunk(chunk)
    out = settings.workspace / "demo"
    out.mkdir(exist_ok=True)
    write_catalog(settings.workspace)
    pq.write_table(sim.truth.table(), out / "truth.parquet")
    pq.write_table(experiments_table(sim), out / "experiments.parquet")
    pq.write_table(anecdotes_table(sim.specs), out / "anecdotes.parquet")
    return DemoSummary(
        teams=len(TEAMS),
        experiments=len(sim.specs),
        users=users,
        exposures=exposures,
        events=events,
        first_day=(START.date().fromordinal(START.date().toordinal() - 90)).isoformat(),
        last_day=START.date().fromordinal(START.date().toordinal() + days - 1).isoformat(),
        workspace=settings.workspace,
    )
