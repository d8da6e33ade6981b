"""Use case of the demo: simulate the company, load it, register, analyse and decide it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tinylift.errors import Conflict
from tinylift.service.owner import owner_of

if TYPE_CHECKING:
    from tinylift.demo.dataset import DemoSummary
    from tinylift.demo.record import RecordSummary
    from tinylift.demo.simulate import Chunk
    from tinylift.service.workspace import Workspace

__all__ = ["DemoResult", "build_demo", "check_demo", "demo_login"]


@dataclass(frozen=True)
class DemoResult:
    """What the demo loaded and recorded."""

    data: DemoSummary
    record: RecordSummary


def check_demo(*, users: int, seed: int, days: int) -> int:
    """Validate the demo's parameters before anything touches the disk; the number of
    blocks of customers the simulation will take."""
    from tinylift.demo.simulate import Simulation

    return Simulation(users=users, days=days, seed=seed).n_chunks


def build_demo(
    ws: Workspace,
    *,
    users: int,
    seed: int = 0,
    days: int = 365,
    on_chunk: Callable[[Chunk], None] | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> DemoResult:
    """Simulate the company into the workspace's warehouse and record it in a fresh registry.

    Raises:
        Conflict: a server owns the warehouse, or ``registry_url`` names a registry that
            already holds experiments.
    """
    from tinylift.demo.dataset import load_demo
    from tinylift.demo.record import record_company
    from tinylift.demo.simulate import Simulation
    from tinylift.registry import Registry, list_experiments

    owner = owner_of(ws)
    if owner is not None:
        raise Conflict(
            f"a server (pid {owner.pid}) owns this workspace's warehouse; stop it before "
            "rebuilding the demo"
        )
    sim = Simulation(users=users, days=days, seed=seed)
    data = load_demo(ws.settings, users=users, seed=seed, days=days, on_chunk=on_chunk)
    if ws.settings.registry_is_file:
        # the demo's own SQLite registry is rebuilt with the data
        own = ws.registry_url.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{own}{suffix}").unlink(missing_ok=True)
    with Registry(ws.registry_url) as reg:
        with reg.session() as s:
            if list_experiments(s):
                raise Conflict(
                    "the registry at registry_url already holds experiments; the demo fills "
                    "an empty one (unset registry_url to use the workspace's own)"
                )
        with ws.engine(read_only=False) as engine:
            recorded = record_company(
                reg,
                engine,
                ws.catalog(),
                sim,
                alpha=ws.settings.alpha,
                srm_alpha=ws.settings.srm_alpha,
                on_stage=on_stage,
            )
    plan_launch(ws)
    write_markets(ws)
    return DemoResult(data, recorded)


def write_markets(ws: Workspace) -> None:
    """The demo's market series (40 countries, weekly sell-through, returns and accessory
    units) written as ``markets.csv`` (one row per market, week and metric) and loaded with
    the ingestion of ``tinylift ingest --kind markets``; its two market tests
    (``markets.yml``: a packaging change, a staggered display roll-out), analysed."""
    import csv

    from tinylift.demo.markets import demo_series, demo_tests
    from tinylift.markets.series import long_rows
    from tinylift.service.data import ingest
    from tinylift.service.markets import analyze, load

    series = demo_series()
    path = ws.root / "markets.csv"
    attrs = ("country", "region", "size")
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["market", "period", "metric", "value", *attrs])
        for r in long_rows(series):
            a = series.attributes[r["market"]]
            out.writerow([r["market"], r["period"], r["metric"], f"{r['value']:.4f}",
                          *[a.get(k, "") for k in attrs]])  # fmt: skip
    ingest(ws, path, "markets")
    (ws.root / "markets.yml").write_text(demo_tests())
    for test in load(ws).tests:  # analysed once, so the registry and portfolio hold them
        analyze(ws, test.key)


#: The demo plan's slips, recorded one after another (task, days, why, who).
DEMO_SLIPS = (
    ("pcb", 12, "board respin after the EMC pre-scan", "hardware-lead"),
    ("tooling", 8, "mould steel arrived late", "manufacturing-lead"),
)


def plan_launch(ws: Workspace) -> None:
    """The demo's launch plan: written to the workspace (launch.yml), stored, forecast,
    and two slips recorded, so the plan has a history."""
    from importlib.resources import files

    from tinylift.launches import parse_plan
    from tinylift.service.launches import forecast_plan, record_slip

    text = files("tinylift.demo").joinpath("launch.yml").read_text()
    path = ws.root / "launch.yml"
    path.write_text(text)
    plan = parse_plan(text, origin=str(path))
    # as of the plan's start: the file records no progress yet
    forecast_plan(ws, path, reason="first forecast", as_of=plan.start)
    for task, days, why, who in DEMO_SLIPS:
        record_slip(ws, plan.key, task, days, reason=why, by=who, as_of=plan.start)


def demo_login(ws: Workspace) -> tuple[str, str]:
    """A fresh admin login ``demo`` for the demo's web app: (user name, new password)."""
    import contextlib
    import secrets

    from tinylift.errors import NotFound
    from tinylift.service.users import add_user, remove_user

    password = secrets.token_urlsafe(12)
    with contextlib.suppress(NotFound):  # a demo run before: a new password
        remove_user(ws, "demo")
    add_user(ws, "demo", password, role="admin", name="Demo admin")
    return "demo", password
