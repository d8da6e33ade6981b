"""``tinylift calc``: a calculator for people who have summary numbers."""

from __future__ import annotations

import json
import math
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from tinylift.errors import ConfigError

if TYPE_CHECKING:
    from tinylift.stats import Comparison, Moments

# The statistics are imported inside each command: ``calc srm`` must not pay
# for scipy (seconds on a busy machine).

app = typer.Typer(
    help="Test results from summary numbers, check a split, or plan a sample size.",
    no_args_is_help=True,
)
power_app = typer.Typer(help="Units needed per variant to detect an effect.", no_args_is_help=True)
app.add_typer(power_app, name="power")
out = Console()


class Alternative(StrEnum):
    two_sided = "two-sided"
    greater = "greater"
    less = "less"


AlphaOpt = Annotated[float, typer.Option(help="Significance level (false-positive rate).")]
AltOpt = Annotated[Alternative, typer.Option(help="Which differences count as evidence.")]
SeqOpt = Annotated[
    bool, typer.Option("--sequential", help="Always-valid results: safe to check repeatedly.")
]
TuningOpt = Annotated[
    float | None,
    typer.Option(
        help="Sequential only: total sample at which intervals are tightest "
        "(default: the engine's, 5,000).",
        show_default=False,
    ),
]
BayesOpt = Annotated[
    bool, typer.Option("--bayesian", help="Chance to win and expected loss (flat prior).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
RelativeOpt = Annotated[
    bool, typer.Option("--relative", help="MDE is relative to the baseline (0.02 = +2 %).")
]
PowerOpt = Annotated[float, typer.Option(help="Chance of detecting a true MDE.")]
VariantsOpt = Annotated[int, typer.Option(help="Arms, control included.")]
DailyOpt = Annotated[float | None, typer.Option(help="Units entering per day, for the runtime.")]


def _parse(option: str, text: str, parts: int, shape: str) -> list[float]:
    pieces = text.split(":")
    try:
        if len(pieces) != parts:
            raise ValueError
        values = [float(p) for p in pieces]
    except ValueError:
        raise ConfigError(f"expected {shape}, got {text!r}", parameter=option) from None
    if not all(math.isfinite(v) for v in values):
        raise ConfigError(f"expected finite numbers ({shape}), got {text!r}", parameter=option)
    return values


def _run(
    moments: Moments,
    *,
    alpha: float,
    alternative: Alternative,
    seq: bool,
    tuning: float | None,
    bayes: bool,
) -> Comparison:
    from tinylift.stats import bayesian, fixed_horizon, sequential
    from tinylift.stats.confidence_sequences import DEFAULT_TUNING

    if seq and bayes:
        raise ConfigError("choose one of --sequential and --bayesian", parameter="--sequential")
    if not 0 < alpha < 1:
        raise ConfigError(f"must be between 0 and 1, got {alpha}", parameter="--alpha")
    if tuning is not None and not (math.isfinite(tuning) and tuning > 0):
        raise ConfigError(f"a positive number of units, got {tuning}", parameter="--tuning")
    alt: Any = alternative.value
    if bayes:
        return bayesian(moments, alpha=alpha)
    if seq:
        return sequential(
            moments,
            alpha=alpha,
            alternative=alt,
            tuning=DEFAULT_TUNING if tuning is None else tuning,
        )
    return fixed_horizon(moments, alpha=alpha, alternative=alt)


def _fmt(x: Any, pct: bool = False) -> str:
    if x is None:
        return "∞"
    return f"{x * 100:+.3g} %" if pct else f"{x:.4g}"


def _show(result: Comparison, as_json: bool) -> None:
    from rich.table import Table

    if as_json:
        print(json.dumps(result.to_dict(), indent=2))
        return
    level = f"{(1 - result.alpha) * 100:g} %"
    label = {
        "fixed": "Fixed-horizon",
        "sequential": "Sequential (always valid)",
        "bayesian": "Bayesian (flat prior)",
    }.get(result.method, result.method)
    for row in result.records():
        table = Table(title=f"{label}: {row['variant']} vs {row['control']}", show_header=False)
        table.add_column(style="bold")
        table.add_column(justify="right")
        table.add_row("control", _fmt(row["control_value"]))
        table.add_row(row["variant"], _fmt(row["treatment_value"]))
        table.add_row("effect", _fmt(row["effect"]))
        table.add_row(f"{level} interval", f"{_fmt(row['ci_low'])} to {_fmt(row['ci_high'])}")
        table.add_row("lift", _fmt(row["rel_effect"], pct=True))
        table.add_row(
            f"{level} lift interval",
            f"{_fmt(row['rel_ci_low'], True)} to {_fmt(row['rel_ci_high'], True)}",
        )
        if result.method != "bayesian":  # a posterior has no p-value
            table.add_row("p-value", f"{row['p_value']:.4g} ({result.alternative})")
        if result.method == "bayesian":
            table.add_row("chance to win", f"{row['chance_to_win'] * 100:.1f} %")
            table.add_row("expected loss", _fmt(row["expected_loss"], pct=True))
        out.print(table)
        for flag in row["flags"]:
            out.print(f"[yellow]note:[/] {flag}")


@app.command()
def proportion(
    control: Annotated[str, typer.Option(help="Units and conversions, as N:CONVERSIONS.")],
    treatment: Annotated[
        list[str], typer.Option(help="N:CONVERSIONS of a treatment (repeat for A/B/n).")
    ],
    alpha: AlphaOpt = 0.05,
    alternative: AltOpt = Alternative.two_sided,
    seq: SeqOpt = False,
    tuning: TuningOpt = None,
    bayes: BayesOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Compare conversion rates: did the unit do it or not."""
    from tinylift.stats import Moments

    arms = [_parse("--control", control, 2, "N:CONVERSIONS like 10000:512")]
    arms += [_parse("--treatment", t, 2, "N:CONVERSIONS like 10000:560") for t in treatment]
    for option, (n, x) in zip(["--control"] + ["--treatment"] * len(treatment), arms, strict=True):
        if n < 2 or x < 0 or x > n:
            raise ConfigError(
                f"need N >= 2 and 0 <= conversions <= N, got {n:g}:{x:g}", parameter=option
            )
    variants = ["control"] + (
        ["treatment"]
        if len(treatment) == 1
        else [f"treatment_{i + 1}" for i in range(len(treatment))]
    )
    mo = Moments.proportion(
        [a[0] for a in arms], [a[1] for a in arms], metrics=["proportion"], variants=variants
    )
    _show(
        _run(mo, alpha=alpha, alternative=alternative, seq=seq, tuning=tuning, bayes=bayes), as_json
    )


@app.command()
def mean(
    control: Annotated[str, typer.Option(help="Units, mean and standard deviation: N:MEAN:SD.")],
    treatment: Annotated[
        list[str], typer.Option(help="N:MEAN:SD of a treatment (repeat for A/B/n).")
    ],
    alpha: AlphaOpt = 0.05,
    alternative: AltOpt = Alternative.two_sided,
    seq: SeqOpt = False,
    tuning: TuningOpt = None,
    bayes: BayesOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Compare means (Welch's t-test): revenue per user, pages per visit ..."""
    from tinylift.stats import Moments

    arms = [_parse("--control", control, 3, "N:MEAN:SD like 5000:41.2:80.5")]
    arms += [_parse("--treatment", t, 3, "N:MEAN:SD like 5000:43.0:82.1") for t in treatment]
    for option, (n, _, sd) in zip(
        ["--control"] + ["--treatment"] * len(treatment), arms, strict=True
    ):
        if n < 2 or sd < 0:
            raise ConfigError(f"need N >= 2 and SD >= 0, got N={n:g}, SD={sd:g}", parameter=option)
    variants = ["control"] + (
        ["treatment"]
        if len(treatment) == 1
        else [f"treatment_{i + 1}" for i in range(len(treatment))]
    )
    mo = Moments.mean(
        [a[0] for a in arms],
        [a[1] for a in arms],
        [a[2] for a in arms],
        metrics=["mean"],
        variants=variants,
    )
    _show(
        _run(mo, alpha=alpha, alternative=alternative, seq=seq, tuning=tuning, bayes=bayes), as_json
    )


def _numbers(option: str, text: str) -> list[float]:
    try:
        values = [float(x) for x in text.split(",")]
    except ValueError:
        raise ConfigError(
            f"expected comma-separated numbers, got {text!r}", parameter=option
        ) from None
    if not all(math.isfinite(v) for v in values):
        raise ConfigError(f"expected finite numbers, got {text!r}", parameter=option)
    return values


@app.command()
def srm(
    counts: Annotated[str, typer.Option(help="Units per arm, comma-separated: A,B[,C].")],
    weights: Annotated[
        str | None, typer.Option(help="Planned weights, comma-separated (equal by default).")
    ] = None,
    threshold: Annotated[float, typer.Option(help="Flag a mismatch below this p-value.")] = 0.001,
    as_json: JsonOpt = False,
) -> None:
    """Check a split for sample ratio mismatch (chi-square against the plan)."""
    from tinylift.stats.srm import srm_test

    c = _numbers("--counts", counts)
    w = _numbers("--weights", weights) if weights is not None else None
    if w is not None and len(w) != len(c):
        raise ConfigError(
            f"expected {len(c)} weights, one per count, got {len(w)}", parameter="--weights"
        )
    res = srm_test(c, w, threshold=threshold)
    if as_json:
        print(json.dumps(res.to_dict(), indent=2))
        return
    colour = {"ok": "green", "mismatch": "bold red", "too few units": "yellow"}[res.verdict]
    if res.verdict == "too few units":
        out.print(f"[{colour}]too few units[/] to test: an arm expects fewer than 8")
        return
    out.print(f"p-value {res.p_value:.4g}: [{colour}]{res.verdict}[/]")
    if res.mismatch:
        out.print("The split is not what was planned: find the cause before reading any result.")


@power_app.command("proportion")
def power_proportion(
    baseline: Annotated[float, typer.Option(help="Control conversion rate, e.g. 0.05.")],
    mde: Annotated[float, typer.Option(help="Smallest effect worth detecting.")],
    relative: RelativeOpt = False,
    alpha: AlphaOpt = 0.05,
    power: PowerOpt = 0.8,
    variants: VariantsOpt = 2,
    seq: SeqOpt = False,
    daily_units: DailyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Sample size for a conversion-rate test."""
    _plan(
        "proportion",
        baseline=baseline,
        mde=mde,
        relative=relative,
        sd=None,
        alpha=alpha,
        power=power,
        variants=variants,
        seq=seq,
        daily_units=daily_units,
        as_json=as_json,
    )


@power_app.command("mean")
def power_mean(
    baseline: Annotated[float, typer.Option(help="Control mean.")],
    sd: Annotated[float, typer.Option(help="Per-unit standard deviation.")],
    mde: Annotated[float, typer.Option(help="Smallest effect worth detecting.")],
    relative: RelativeOpt = False,
    alpha: AlphaOpt = 0.05,
    power: PowerOpt = 0.8,
    variants: VariantsOpt = 2,
    seq: SeqOpt = False,
    daily_units: DailyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Sample size for a test of means."""
    _plan(
        "mean",
        baseline=baseline,
        mde=mde,
        relative=relative,
        sd=sd,
        alpha=alpha,
        power=power,
        variants=variants,
        seq=seq,
        daily_units=daily_units,
        as_json=as_json,
    )


def _plan(kind: Any, *, seq: bool, as_json: bool, **kw: Any) -> None:
    from tinylift.stats import sample_size

    plan = sample_size(kind, design="sequential" if seq else "fixed", **kw)
    if as_json:
        print(json.dumps(plan.to_dict(), indent=2))
        return
    out.print(
        f"[bold]{plan.n_per_variant:,}[/] units per variant "
        f"({plan.n_total:,} in all) for {plan.power:.0%} power at alpha {plan.alpha:g}"
        + (f", about {plan.days:g} days" if plan.days is not None else "")
    )
