"""Which metrics matter: sensitivity and agreement with the OEC, from the experiments run."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from tinylift.portfolio.model import MetricInfo, Record, Row

__all__ = ["VANITY_SHARE", "metric_quality"]

#: A metric that moves while the OEC does not more than this many times as often as
#: chance alone would (alpha), and whose effects do not track the OEC's, "looks good
#: but doesn't matter".
VANITY_SHARE = 2.0
#: Below this noise-corrected correlation with the OEC, a metric does not track it.
TRACKS = 0.3


def _oec(records: Sequence[Record]) -> str | None:
    names = Counter(r.oec for r in records if r.oec)
    return names.most_common(1)[0][0] if names else None


def _corrected_correlation(pairs: Sequence[tuple[Row, Row]]) -> float | None:
    """Correlation of true relative effects across experiments, sampling noise removed.

    ``cov(x, y)`` across experiments less the mean within-experiment sampling
    covariance, over the square root of each variance less its mean sampling
    variance. The sampling covariance of two metrics' estimates is not in a
    scorecard; it is taken as the correlation of their z-scores over the
    experiments where neither moved (mostly noise) times their standard errors.
    """
    rows = np.array(
        [
            (a.rel_effect, a.rel_se, b.rel_effect, b.rel_se, a.significant or b.significant)
            for a, b in pairs
            if a.rel_effect is not None and a.rel_se and b.rel_effect is not None and b.rel_se
        ],
        dtype=np.float64,
    ).reshape(-1, 5)
    if len(rows) < 5:
        return None
    x, sx, y, sy, moved = rows.T
    quiet = moved == 0
    rho = 0.0
    zx, zy = x[quiet] / sx[quiet], y[quiet] / sy[quiet]
    if quiet.sum() >= 5 and zx.std() > 0 and zy.std() > 0:
        rho = float(np.corrcoef(zx, zy)[0, 1])
    cov = float(np.cov(x, y)[0, 1]) - rho * float(np.mean(sx * sy))
    tx = float(np.var(x, ddof=1) - np.mean(sx**2))
    ty = float(np.var(y, ddof=1) - np.mean(sy**2))
    if tx <= 0 or ty <= 0:
        return None
    return max(-1.0, min(1.0, cov / math.sqrt(tx * ty)))


def metric_quality(
    records: Sequence[Record], metrics: Sequence[MetricInfo], *, alpha: float = 0.05
) -> list[dict[str, Any]]:
    """Per metric, over decided experiments: how often it moves and whether it tracks the OEC.

    ``sensitivity`` is the share of experiments where it moved significantly;
    ``median_rel_se`` how precisely it is measured; ``concordance`` the share
    of experiments where it and the OEC moved significantly whose directions
    agree (in each metric's good direction); ``correlation`` the
    noise-corrected correlation of their relative effects; ``vanity`` flags a
    metric that moves significantly while the OEC does not in more than twice
    the share chance alone gives (``2 alpha``) and does not track the OEC
    ("looks good, doesn't matter"); guardrails are never flagged, as they guard
    against harm rather than stand in for value.
    """
    decided = [r for r in records if r.is_test and r.outcome is not None]
    oec = _oec(decided)
    out = []
    for m in metrics:
        pairs: list[tuple[Row, Row | None]] = []
        for r in decided:
            x = r.row(m.name)
            if x is not None:
                pairs.append((x, r.row(oec) if oec else None))
        both: list[tuple[Row, Row]] = [(x, o) for x, o in pairs if o is not None]
        if not pairs:
            continue
        n = len(pairs)
        moved = [x for x, _ in pairs if x.significant]
        rel_ses = [x.rel_se for x, _ in pairs if x.rel_se is not None]
        both_moved = [(x, o) for x, o in both if x.significant and o.significant]
        agree = [
            (x.verdict == "better") == (o.verdict == "better")
            for x, o in both_moved
            if x.verdict in ("better", "worse") and o.verdict in ("better", "worse")
        ]
        alone = sum(1 for x, o in both if x.significant and not o.significant)
        corr = None if m.name == oec else _corrected_correlation(both)
        if corr is not None and m.lower_is_better:
            corr = -corr  # in the metric's good direction: positive means it tracks value
        vanity = (
            m.name != oec
            and m.role != "guardrail"  # kept for the harm it catches, not as a proxy of value
            and n >= 5
            and alone / n > VANITY_SHARE * alpha
            and (corr is None or corr < TRACKS)
        )
        out.append(
            {
                "metric": m.name,
                "role": m.role,
                "experiments": n,
                "sensitivity": len(moved) / n,
                "median_rel_se": statistics.median(rel_ses) if rel_ses else None,
                "concordance": sum(agree) / len(agree) if agree else None,
                "moved_without_oec": alone / n if both else None,
                "correlation": corr if m.name != oec else 1.0,
                "vanity": vanity,
            }
        )
    return out
