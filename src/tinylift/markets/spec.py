"""A market test as its owners write it down (``markets.yml`` in the workspace).

```yaml
series: markets.csv                 # the market series file, beside this one
tests:
  - key: pkg-eco-box
    name: Eco packaging box
    team: operations
    metric: sell_through            # the test's success metric (OEC)
    guardrails: [{metric: returns, lower_is_better: true, margin: 0.05}]
    value_per_unit: 4.2             # money per unit of the metric
    method: synthetic_control       # or did
    treated: [DE, FR, ES]
    start: 2027-06-21               # the first treated period
  - key: retail-display
    metric: sell_through
    adoption: {2027-02-08: [BR, MX], 2027-04-19: [JP, KR]}   # a staggered roll-out
```
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tinylift.errors import ConfigError

__all__ = ["Guardrail", "MarketTest", "MarketTests", "parse_tests"]

KEY = r"^[a-z0-9][a-z0-9._-]{0,99}$"


class Guardrail(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metric: str
    lower_is_better: bool = False
    #: relative non-inferiority margin
    margin: float = Field(0.02, gt=0, lt=1)


class MarketTest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=KEY)
    name: str = ""
    team: str | None = None
    hypothesis: str = ""
    metric: str
    lower_is_better: bool = False
    secondary: list[str] = []
    guardrails: list[Guardrail] = []
    value_per_unit: float | None = None
    currency: str = "EUR"
    method: Literal["synthetic_control", "did"] = "synthetic_control"
    #: log: effects estimated on the log of the metric (relative lifts, for markets of
    #: very different sizes); level: in metric units
    scale: Literal["log", "level"] = "log"
    treated: list[str] = []
    start: date | None = None
    #: the last period analysed (default: the series' last); reaching it completes the test
    end: date | None = None
    adoption: dict[date, list[str]] = {}
    alpha: float = Field(0.05, gt=0, lt=0.5)

    @model_validator(mode="after")
    def _one_design(self) -> MarketTest:
        if self.adoption and (self.treated or self.start):
            raise ValueError("give treated and start, or adoption (a staggered roll-out), not both")
        if not self.adoption and not (self.treated and self.start):
            raise ValueError("give the treated markets and the start, or an adoption schedule")
        if not self.name:
            self.name = self.key
        return self

    @property
    def staggered(self) -> bool:
        return bool(self.adoption)

    @property
    def markets(self) -> list[str]:
        return self.treated or [m for ms in self.adoption.values() for m in ms]


class MarketTests(BaseModel):
    model_config = ConfigDict(extra="forbid")

    series: str = "markets.csv"
    tests: list[MarketTest] = []


def parse_tests(path: Path | str) -> MarketTests:
    """The market tests in a YAML file (errors name the file, test and field)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not YAML ({exc})") from None
    try:
        out = MarketTests.model_validate(data)
    except ValidationError as exc:
        e = exc.errors()[0]
        where = ".".join(str(p) for p in e["loc"])
        raise ConfigError(f"{path}: {where or 'the file'}: {e['msg']}") from None
    keys = [t.key for t in out.tests]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    if dup:
        raise ConfigError(f"{path}: market test {dup[0]!r} is defined twice")
    return out
