"""Three real randomised experiments as tinylift files, from the ``causaldata`` package.

Each becomes a folder with what a team would have: ``exposures.csv`` (who got
which arm, when, with what attributes), ``events.csv`` (what they did),
``metrics.yml`` (the catalog) and ``experiments.yml`` (the design). The data
sets carry no times, so each gets a plain timeline, stated below; the
outcome comes some days after the exposure, so stopping the experiment at
the end of enrolment must not cut it off.

- ``broockman``: Broockman (2013), e-mails to US state legislators from a
  Black sender inside or outside the district; outcome: a reply within 7 days
  (replies come 2 days after the e-mail). Published: out-of-district e-mails
  got 26.6 points fewer replies (55.5 % vs 28.9 %).
- ``thornton``: Thornton (2008), cash incentives to learn an HIV test result
  in Malawi; outcome: went to learn it within 14 days (3 days after the offer).
  Published: any incentive raised the share from 33.9 % to 78.9 %.
- ``nsw``: the National Supported Work demonstration (LaLonde 1986; Dehejia
  and Wahba's sample); outcome: 1978 earnings, one event 30 days after entry.
  Published: treated men earned $1,794 more.

    pip install causaldata
    python scripts/real_experiments.py broockman real/broockman
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

START = "2012-10-01"  # every timeline begins here (UTC); enrolment lasts two days


def _write(folder: Path, design: dict[str, Any], catalog: dict[str, Any], frames: Any) -> None:
    exposures, events = frames
    folder.mkdir(parents=True, exist_ok=True)
    exposures.to_csv(folder / "exposures.csv", index=False)
    events.to_csv(folder / "events.csv", index=False)
    (folder / "metrics.yml").write_text(yaml.safe_dump(catalog, sort_keys=False))
    doc = {"teams": [{"key": "research", "name": "Research"}], "experiments": [design]}
    (folder / "experiments.yml").write_text(yaml.safe_dump(doc, sort_keys=False))


def _timeline(n: int, *, delay_days: float) -> tuple[Any, Any]:
    """Exposure times spread over the two days of enrolment, outcome times after them."""
    import pandas as pd

    sent = pd.Timestamp(START, tz="UTC") + pd.to_timedelta(
        [i * 2 * 86400 // n for i in range(n)], unit="s"
    )
    return sent, sent + pd.Timedelta(days=delay_days)


def _frames(
    data: Any,
    *,
    arm: Any,
    arms: tuple[str, str],
    outcome: Any,
    event: str,
    value: Any,
    delay_days: float,
    attributes: list[str],
) -> tuple[Any, Any]:
    import pandas as pd

    n = len(data)
    sent, later = _timeline(n, delay_days=delay_days)
    units = [f"u{i}" for i in range(n)]
    exposures = pd.DataFrame(
        {
            "experiment_key": "",
            "variant_key": [arms[int(a)] for a in arm],
            "unit_id": units,
            "timestamp": sent.strftime("%Y-%m-%dT%H:%M:%SZ"),
            **{a: data[a].astype(int).to_numpy() for a in attributes},
        }
    )
    mask = outcome.to_numpy().astype(bool)
    events = pd.DataFrame(
        {
            "event_id": [f"{event}-{u}" for u in units],
            "unit_id": units,
            "timestamp": later.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "event_name": event,
            "value": value,
        }
    )[mask]
    return exposures, events


def broockman(folder: Path) -> None:
    from causaldata import black_politicians

    d = black_politicians.load_pandas().data
    key = "broockman-2013"
    ex, ev = _frames(
        d,
        arm=d.treat_out,
        arms=("in_district", "out_of_district"),
        outcome=d.responded,
        event="reply",
        value=1.0,
        delay_days=2,
        attributes=["leg_black", "south", "leg_democrat"],
    )
    ex["experiment_key"] = key
    design = {
        "key": key,
        "name": "E-mail from outside the district",
        "team": "research",
        "hypothesis": "Legislators reply less to people who cannot vote for them.",
        "variants": [{"key": "in_district", "weight": 1}, {"key": "out_of_district", "weight": 1}],
        "planned_units": len(d),
    }
    catalog = {
        "dimensions": ["leg_black", "south", "leg_democrat"],
        "metrics": [
            {
                "name": "reply_rate",
                "type": "proportion",
                "event": "reply",
                "role": "oec",
                "window": {"start_days": 0, "end_days": 7},
                "description": "Replied within a week of the e-mail.",
            }
        ],
    }
    _write(folder, design, catalog, (ex, ev))


def thornton(folder: Path) -> None:
    from causaldata import thornton_hiv

    d = thornton_hiv.load_pandas().data.dropna(subset=["any", "got"]).reset_index(drop=True)
    key = "thornton-2008"
    d["hiv2004"] = d.hiv2004.fillna(-1)
    ex, ev = _frames(
        d,
        arm=d["any"],
        arms=("no_incentive", "incentive"),
        outcome=d.got,
        event="learned_result",
        value=1.0,
        delay_days=3,
        attributes=["hiv2004"],
    )
    ex["experiment_key"] = key
    design = {
        "key": key,
        "name": "Cash to learn an HIV test result",
        "team": "research",
        # the data set records no assignment probabilities: the planned split is its own
        "variants": [
            {"key": "no_incentive", "weight": int((d["any"] == 0).sum())},
            {"key": "incentive", "weight": int((d["any"] == 1).sum())},
        ],
        "planned_units": len(d),
    }
    catalog = {
        "dimensions": ["hiv2004"],
        "metrics": [
            {
                "name": "learned",
                "type": "proportion",
                "event": "learned_result",
                "role": "oec",
                "window": {"start_days": 0, "end_days": 14},
            }
        ],
    }
    _write(folder, design, catalog, (ex, ev))


def nsw(folder: Path) -> None:
    from causaldata import nsw_mixtape

    d = nsw_mixtape.load_pandas().data
    key = "nsw-1976"
    ex, ev = _frames(
        d,
        arm=d.treat,
        arms=("control", "training"),
        outcome=d.re78 > 0,
        event="earnings_1978",
        value=d.re78.to_numpy(),
        delay_days=30,
        attributes=["black", "hisp", "nodegree"],
    )
    ex["experiment_key"] = key
    design = {
        "key": key,
        "name": "Supported work",
        "team": "research",
        "variants": [{"key": "control", "weight": 260}, {"key": "training", "weight": 185}],
        "planned_units": len(d),
    }
    catalog = {
        "dimensions": ["black", "nodegree"],
        "metrics": [
            {
                "name": "earnings",
                "type": "mean",
                "event": "earnings_1978",
                "value": "value",
                "role": "oec",
                "window": {"start_days": 0, "end_days": 60},
            }
        ],
    }
    _write(folder, design, catalog, (ex, ev))


DATASETS = {"broockman": broockman, "thornton": thornton, "nsw": nsw}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=sorted(DATASETS))
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    DATASETS[args.dataset](args.folder)
    print(f"wrote {args.folder}/: exposures.csv, events.csv, metrics.yml, experiments.yml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
