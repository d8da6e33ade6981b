"""Experiment definitions as a file (``experiments.yml``), beside the registry.

The demo writes one; ``tinylift refresh`` reads it to know each experiment's
variants, dates and metrics, and the SDK configuration combines it with the
registry's running experiments.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tinylift.assignment.layers import Assigner, ExperimentRule, Holdout
from tinylift.errors import ConfigError, NotFound
from tinylift.warehouse.refresh import ExperimentWindow

__all__ = [
    "EXPERIMENTS_FILE",
    "ExperimentConfig",
    "VariantConfig",
    "load_experiments",
    "save_experiments",
]

EXPERIMENTS_FILE = "experiments.yml"


class VariantConfig(BaseModel):
    """One arm and its planned share of traffic."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    key: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,100}$")
    weight: float = Field(gt=0)


class ExperimentConfig(BaseModel):
    """An experiment: its design and the metrics it is judged on."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    key: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,100}$")
    name: str = ""
    team: str | None = None
    area: str | None = None
    layer: str | None = None
    hypothesis: str = ""
    variants: list[VariantConfig] = Field(min_length=2)
    start: date | None = None
    end: date | None = None
    metrics: list[str] | None = None  # None: every metric of the catalog
    coverage: float = Field(default=1.0, ge=0, le=1)
    layer_range: tuple[float, float] = (0.0, 1.0)
    targeting: dict[str, list[str]] = Field(default_factory=dict)
    forced: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _checks(self) -> ExperimentConfig:
        keys = [v.key for v in self.variants]
        if len(set(keys)) != len(keys):
            raise ValueError("variant keys must be unique")
        if self.start and self.end and self.end <= self.start:
            raise ValueError("end must be after start")
        return self

    def rule(self) -> ExperimentRule:
        """How the SDK assigns units to this experiment."""
        return ExperimentRule(
            key=self.key,
            variants=tuple(v.key for v in self.variants),
            weights=tuple(v.weight for v in self.variants),
            coverage=self.coverage,
            layer=self.layer,
            layer_range=self.layer_range,
            targeting={k: tuple(v) for k, v in self.targeting.items()},
            forced=dict(self.forced),
        )

    def window(self, all_metrics: list[str]) -> ExperimentWindow:
        """What the refresh computes for this experiment (end date inclusive)."""

        def at(d: date | None) -> datetime | None:
            return None if d is None else datetime.combine(d, time(), tzinfo=UTC)

        end = None if self.end is None else datetime.combine(self.end, time.max, tzinfo=UTC)
        return ExperimentWindow(
            key=self.key,
            variants=tuple(v.key for v in self.variants),
            metrics=tuple(self.metrics or all_metrics),
            start=at(self.start),
            end=end,
        )


def load_experiments(path: Path | str) -> dict[str, ExperimentConfig]:
    """Experiments by key from ``experiments.yml`` (or a workspace folder holding it)."""
    p = Path(path)
    if p.is_dir():
        p = p / EXPERIMENTS_FILE
    if not p.exists():
        raise NotFound(f"{p}: no experiments defined here (create {EXPERIMENTS_FILE})")
    try:
        raw = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: not valid YAML ({exc})") from None
    out: dict[str, ExperimentConfig] = {}
    for i, entry in enumerate(raw.get("experiments", []) if isinstance(raw, dict) else []):
        label = entry.get("key", f"#{i + 1}") if isinstance(entry, dict) else f"#{i + 1}"
        try:
            exp = ExperimentConfig.model_validate(entry)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(x) for x in err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            raise ConfigError(f"{p}, experiment {label!r}, field {where!r}: {msg}") from None
        if exp.key in out:
            raise ConfigError(f"{p}, experiment {exp.key!r}: defined twice")
        out[exp.key] = exp
    return out


def load_holdouts(path: Path | str) -> list[Holdout]:
    """Holdouts from the ``holdouts:`` list of ``experiments.yml`` (none when absent)."""
    p = Path(path)
    if p.is_dir():
        p = p / EXPERIMENTS_FILE
    raw = yaml.safe_load(p.read_text()) if p.exists() else None
    out = []
    for i, h in enumerate((raw or {}).get("holdouts", []) or []):
        try:
            out.append(Holdout.from_dict(h))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{p}, holdout #{i + 1}: needs key and share ({exc})") from None
    return out


def sdk_config(path: Path | str, *, today: date | None = None) -> dict[str, Any]:
    """The SDK configuration: running experiments and holdouts.

    From the workspace's registry (experiments whose status is running), and
    from ``experiments.yml`` (experiments whose dates include today, or
    undated) for keys the registry does not hold.

    Raises:
        NotFound: the workspace defines no experiments at all.
        ConfigError: running experiments overlap in a layer.
    """
    p = Path(path)
    workspace, file = (p, p / EXPERIMENTS_FILE) if p.is_dir() else (p.parent, p)
    rules: list[ExperimentRule] = []
    holdouts: dict[str, Holdout] = {}
    from_registry = _registry_config(workspace)
    if from_registry is not None:
        rules += [ExperimentRule.from_dict(r) for r in from_registry["experiments"]]
        holdouts |= {h["key"]: Holdout.from_dict(h) for h in from_registry["holdouts"]}
    if file.exists():
        day = today or datetime.now(UTC).date()
        file_holdouts = load_holdouts(file)
        held = {h.key for h in file_holdouts}  # a holdout's own record is for analysis only
        known = {r.key for r in rules}
        rules += [
            e.rule()
            for e in load_experiments(file).values()
            if e.key not in held
            and e.key not in known
            and (e.start is None or e.start <= day)
            and (e.end is None or day <= e.end)
        ]
        holdouts |= {h.key: h for h in file_holdouts if h.key not in holdouts}
    elif from_registry is None:
        raise NotFound(f"{file}: no experiments defined here (create {EXPERIMENTS_FILE})")
    return Assigner(rules, list(holdouts.values())).to_dict()


def _registry_config(workspace: Path) -> dict[str, Any] | None:
    """The registry's running experiments, when the workspace has a registry."""
    from tinylift.config import load_settings
    from tinylift.registry import Registry, registry_sdk_config

    settings = load_settings(workspace)
    if settings.registry_url is None and not (workspace / "registry.db").exists():
        return None
    with Registry(settings.registry) as reg, reg.session() as s:
        return registry_sdk_config(s)


def save_experiments(
    path: Path, experiments: list[ExperimentConfig], holdouts: list[Holdout] | None = None
) -> None:
    """Write ``experiments.yml``."""
    doc: dict[str, Any] = {
        "experiments": [e.model_dump(mode="json", exclude_none=True) for e in experiments]
    }
    if holdouts:
        doc["holdouts"] = [h.to_dict() for h in holdouts]
    path.write_text(yaml.safe_dump(doc, sort_keys=False, width=100))
