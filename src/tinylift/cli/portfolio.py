"""``tinylift portfolio``: what all the experiments add up to."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from tinylift.cli.shared import DirOpt, JsonOpt, workspace

app = typer.Typer(help="What all the experiments add up to.")
out = Console()


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.0%}"


def _num(x: float | None) -> str:
    return "–" if x is None else f"{x:+.4g}"


def _health_table(title: str, rows: list[dict[str, Any]], key: str) -> Table:
    table = Table(title=title, title_justify="left")
    columns = (key, "started", "decided", "a month", "win", "loss", "flat", "inconclusive",
               "learning", "underpowered", "days to decide")  # fmt: skip
    for col in columns:
        table.add_column(col, justify="left" if col == key else "right")
    for r in rows:
        days, pace = r["median_days_to_decision"], r["decided_per_month"]
        table.add_row(
            str(r[key]),
            str(r["started"]),
            str(r["decided"]),
            "–" if pace is None else f"{pace:.1f}",
            _pct(r["win_rate"]),
            _pct(r["loss_rate"]),
            _pct(r["flat_rate"]),
            _pct(r["inconclusive_rate"]),
            _pct(r["learning_rate"]),
            _pct(r["underpowered_share"]),
            "–" if days is None else f"{days:.0f}",
        )
    return table


@app.callback(invoke_without_command=True)
def portfolio(dir: DirOpt = None, as_json: JsonOpt = False) -> None:
    """Program health by team, area and quarter; the corrected total of what shipped."""
    from tinylift.service.portfolio import portfolio as build

    result = build(workspace(dir))
    if as_json:
        print(json.dumps(result.to_dict(), indent=2, default=str))
        return
    o = result.overall
    if not o:
        out.print("no experiments yet")
        return
    out.print(
        f"[bold]{o['decided']}[/] of {o['started']} experiments decided, {o['shipped']} shipped; "
        f"win rate {_pct(o['win_rate'])}, learning rate {_pct(o['learning_rate'])}, "
        f"false-positive risk of the wins {_pct(o['false_positive_risk'])}"
    )
    if o.get("note"):
        out.print(f"[yellow]{o['note']}[/]")
    out.print(_health_table("By team", result.by_team, "team"))
    out.print(_health_table("By quarter", result.by_quarter, "quarter"))
    table = Table(title="Cumulative impact of what shipped", title_justify="left")
    for col in ("metric", "shipped", "naive total", "corrected total", "95 % interval", "shrunk"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    for m in result.impact:
        corrected = m["corrected"] or m["shrunk"]
        interval = (
            "–"
            if corrected is None or corrected["ci_low"] is None
            else f"{corrected['ci_low']:+.4g} … {corrected['ci_high']:+.4g}"
        )
        table.add_row(
            f"{m['metric']} ({m['role']})",
            f"{m['shipped']} of {m['experiments']}",
            _num(m["naive"]),
            _num(corrected["total"]) if corrected else "–",
            interval,
            _num(m["shrunk"]["total"]) if m["shrunk"] else "–",
        )
    out.print(table)
    for m in result.impact:
        if m["note"]:
            out.print(f"[dim]{m['note']}[/]")
    for h in result.holdout:
        state = (
            "[red]they disagree beyond their uncertainty[/]"
            if h["flagged"]
            else ("within the corrected interval" if h["inside"] else "consistent, given its noise")
        )
        out.print(
            f"holdout {h['holdout']} on {h['metric']}: {_num(h['holdout_effect'])} "
            f"(corrected total {_num(h['corrected_total'])}): {state}"
        )
    for f in result.roadmap:
        out.print(
            f"roadmap: {f['planned']} planned experiments would add about "
            f"{_num(f['expected_total'])} to {f['metric']} "
            f"({f['level']:.0%}: {_num(f['ci_low'])} … {_num(f['ci_high'])})"
        )
    conflicts = result.alignment.get("conflicts", [])
    for c in conflicts:
        out.print(
            f"[yellow]conflict:[/] {c['team']}'s {c['experiment']} helped "
            f"{', '.join(c['helped'])} but hurt {c['hurt']} ({_num(c['effect'])}, "
            f"FDR-adjusted p {c['p_adjusted']:.3g})"
        )
    vanity = [q["metric"] for q in result.metric_quality if q["vanity"]]
    if vanity:
        out.print(
            f"[yellow]looks good, doesn't matter:[/] {', '.join(vanity)} often move(s) while the "
            "OEC does not, and do(es) not track it"
        )
    for t in result.interactions:
        what = (
            f"{t['metric']} moves by {_num(t['contrast'])} more when both treatments meet "
            f"(FDR-adjusted p {t['p_adjusted']:.3g})"
            if t["test"] == "interaction"
            else f"their assignments depend on each other (p {t['p']:.3g})"
        )
        out.print(
            f"[yellow]interaction:[/] {t['a']} ({t['team_a']}) × {t['b']} ({t['team_b']}): {what}"
        )
