"""A scorecard on the terminal: recommendation, metrics grouped by role, checks."""

from __future__ import annotations

from rich import box
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from tinylift.analysis import Scorecard

ROLES = (("oec", "OEC"), ("guardrail", "Guardrails"), ("secondary", "Secondary metrics"))
VERDICT = {
    "better": "[green]better[/]",
    "worse": "[red]worse[/]",
    "flat": "[cyan]flat[/]",
    "inconclusive": "[dim]inconclusive[/]",
}
STATUS = {
    "ok": "[green]ok[/]",
    "info": "[dim]info[/]",
    "warn": "[yellow]warn[/]",
    "fail": "[red]FAIL[/]",
}
REC = {"ship": "green", "don't ship": "red", "keep running": "yellow"}


def _pct(x: float | None, digits: int = 2) -> str:
    return "–" if x is None else f"{100 * x:+.{digits}f}%"


def _lift(lift: float | None, lo: float | None, hi: float | None) -> str:
    if lift is None:
        return "–"
    inner = "–" if lo is None or hi is None else f"{100 * lo:+.1f} … {100 * hi:+.1f}"
    return f"{_pct(lift, 1)} [dim]({inner})[/]"


def _absolute(effect: float | None, lo: float | None, hi: float | None) -> str:
    """The absolute effect (points for a proportion), with its interval."""
    if effect is None:
        return "–"
    inner = "–" if lo is None or hi is None else f"{lo:+.3g} … {hi:+.3g}"
    return f"{effect:+.3g} [dim]({inner})[/]"


def render(card: Scorecard, console: Console) -> None:
    """Print one scorecard."""
    colour = REC.get(card.recommendation, "white")
    head = Text.from_markup(
        f"[bold {colour}]{card.recommendation.upper()}[/]"
        + (f" [bold]{card.ship_variant}[/]" if card.ship_variant else "")
    )
    reasons = Text("\n".join(f"• {r}" for r in card.reasons))
    units = " · ".join(f"{v} {n:,}" for v, n in card.units.items())
    console.print(
        Panel(
            Group(head, reasons, Text(f"units: {units}", style="dim")),
            title=f"[bold]{card.experiment}[/] — data up to {card.data_cutoff[:16]}",
            expand=False,
        )
    )
    multi = len(card.variants) > 2
    for role, label in ROLES:
        rows = card.rows_of(role)
        if not rows:
            continue
        table = Table(title=label, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD)
        table.add_column("metric", no_wrap=True)
        if multi:
            table.add_column("variant", no_wrap=True)
        # arm values make way for the effect on a narrow terminal
        values = console.width >= 110
        cols = ("control", "treatment") if values else ()
        for col in (*cols, "effect (interval)", "lift (interval)", "p", "P(win)", ""):
            table.add_column(col, justify="left" if col == "" else "right", no_wrap=True)
        for r in rows:
            cells = [r.metric + (" ᶜ" if r.cuped else "")]
            if multi:
                cells.append(r.variant)
            if values:
                cells += [
                    "–" if r.control_value is None else f"{r.control_value:.4g}",
                    "–" if r.treatment_value is None else f"{r.treatment_value:.4g}",
                ]
            cells += [
                _absolute(r.effect, r.ci_low, r.ci_high),
                _lift(r.rel_effect, r.rel_ci_low, r.rel_ci_high),
                "–" if r.p_value_adjusted is None else f"{r.p_value_adjusted:.3g}",
                "–" if r.chance_to_win is None else f"{r.chance_to_win:.0%}",
                VERDICT[r.verdict or "inconclusive"]
                + (f" [dim](±{r.margin:.1%})[/]" if r.verdict == "flat" and r.margin else "")
                + "".join(f" [dim]({f})[/]" for f in r.flags),
            ]
            table.add_row(*cells)
        console.print(table)
    console.print(
        "[dim]ᶜ CUPED-adjusted · effect: difference of means (points for a proportion) · "
        "flat: shown within the margin (TOST) · inconclusive: neither · "
        "secondary p-values Holm-adjusted[/]"
    )
    if any(r.method == "sequential" for r in card.rows):
        console.print(
            "[dim]still running: intervals and p-values are always-valid (safe to look "
            "every day); fixed-horizon tests take over at the planned sample[/]"
        )
    checks = Table(
        title="Health checks", title_justify="left", title_style="bold", show_header=False
    )
    checks.add_column(no_wrap=True)
    checks.add_column(no_wrap=True)
    checks.add_column()
    for c in card.checks:
        checks.add_row(STATUS[c.status], c.name, c.message)
    console.print(checks)
    for v in card.value:
        low, high = v.get("annual_low"), v.get("annual_high")
        interval = f" ({low:,.0f} to {high:,.0f})" if low is not None and high is not None else ""
        console.print(
            f"[bold]{v['metric']}[/] ({v['variant']}) is worth about "
            f"{v['annual']:,.0f} a year{interval} at {v['users_per_year']:,.0f} users a year"
        )


def render_summary(cards: list[Scorecard], console: Console) -> None:
    """One line per experiment: recommendation, OEC lift, what needs a look."""
    n = len(cards)
    table = Table(title=f"{n} experiment{'s' if n != 1 else ''} analysed", box=box.SIMPLE_HEAD)
    for col in ("experiment", "recommendation", "OEC lift (interval)", "needs a look"):
        table.add_column(col, no_wrap=col != "needs a look")
    for card in cards:
        oec = card.rows_of("oec")
        lift = _lift(oec[0].rel_effect, oec[0].rel_ci_low, oec[0].rel_ci_high) if oec else "–"
        colour = REC.get(card.recommendation, "white")
        rec = f"[{colour}]{card.recommendation}[/]"
        if card.ship_variant:
            rec += f" {card.ship_variant}"
        look = ", ".join(c.name for c in card.flagged) or "[dim]-[/]"
        table.add_row(card.experiment, rec, lift, look)
    console.print(table)
