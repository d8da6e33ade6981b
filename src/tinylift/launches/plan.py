"""A launch plan: workstreams, three-point durations, dependencies, dates and gates.

Written in YAML (``launch.yml``), sent to the API as the same fields, or
built in Python. Every problem is reported before anything is computed,
naming the plan, the task, the field and, from a file, the line::

    key: hub2-launch
    name: Hub 2 launch
    start: 2027-01-04
    target: 2027-09-01          # the date the launch must meet
    status_date: 2027-02-01     # progress below is as of this day (default: start)
    tasks:
      - key: pcb
        team: hardware
        duration: {optimistic: 20, likely: 30, pessimistic: 55}
      - key: firmware
        team: firmware
        duration: [15, 25, 45]  # optimistic, likely, pessimistic
        after: [pcb]            # finish-to-start
      - key: certification
        team: certification
        duration: 20
        after: [{task: firmware, lag: 5}]
        not_before: 2027-05-03  # the lab's slot
      - key: onboarding-test    # an experiment gate
        team: product
        experiment: onb-quick-setup
        after: [firmware]
        fallback: [onboarding-rework]   # only if the experiment does not ship
      - key: onboarding-rework
        team: product
        duration: [10, 15, 30]
        after: [onboarding-test]
      - key: launch
        milestone: true
        after: [certification, onboarding-test, onboarding-rework]
        deadline: 2027-09-01
    risks:                      # shared drivers: their tasks slip together
      - name: supply-chain
        correlation: 0.6
        tasks: [pcb, tooling]

Durations are in calendar days.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tinylift.errors import ConfigError, describe_validation

__all__ = [
    "Dependency",
    "Duration",
    "Gate",
    "Plan",
    "Risk",
    "Task",
    "find_cycle",
    "load_plan",
    "parse_plan",
    "plan_from_dict",
]

KEY = r"^[a-z0-9][a-z0-9_.-]{0,99}$"
#: Longest duration, lag or slip of one task (ten years), and the span of plan dates.
MAX_DAYS = 3650.0
YEARS = (1970, 2200)
Key = Annotated[str, Field(pattern=KEY)]


class Duration(BaseModel):
    """Three-point estimate in days: optimistic <= likely <= pessimistic."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    optimistic: float = Field(ge=0, le=MAX_DAYS)
    likely: float = Field(ge=0, le=MAX_DAYS)
    pessimistic: float = Field(ge=0, le=MAX_DAYS)

    @model_validator(mode="after")
    def _ordered(self) -> Duration:
        if not self.optimistic <= self.likely <= self.pessimistic:
            raise ValueError(
                f"needs optimistic <= likely <= pessimistic, got {self.optimistic:g}, "
                f"{self.likely:g}, {self.pessimistic:g}"
            )
        return self

    @property
    def pert_mean(self) -> float:
        """The PERT mean (a + 4m + b) / 6."""
        return (self.optimistic + 4 * self.likely + self.pessimistic) / 6

    def shifted(self, days: float) -> Duration:
        """The same estimate, every point ``days`` longer (a recorded slip)."""
        return Duration(
            optimistic=self.optimistic + days,
            likely=self.likely + days,
            pessimistic=self.pessimistic + days,
        )


class Dependency(BaseModel):
    """Finish-to-start: this task starts ``lag`` days after ``task`` finishes."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    task: Key
    lag: float = Field(default=0.0, ge=-MAX_DAYS, le=MAX_DAYS)


class Gate(BaseModel):
    """What the plan knows of an experiment gate beyond the registry (all optional)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    planned_units: int | None = Field(default=None, gt=0)
    units_so_far: int | None = Field(default=None, ge=0)
    daily_units: float | None = Field(default=None, gt=0)
    #: The chance it ships, when neither a decision nor evidence says.
    p_ship: float | None = Field(default=None, ge=0, le=1)
    #: Days from the last unit to a decision.
    decision_days: float = Field(default=3.0, ge=0)


class Task(BaseModel):
    """One workstream, milestone or experiment gate."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    key: Key
    name: str | None = Field(default=None, max_length=200)
    team: str | None = Field(default=None, max_length=100)
    duration: Duration | None = None
    distribution: Literal["pert", "triangular"] | None = None
    after: tuple[Dependency, ...] = ()
    milestone: bool = False
    #: Start no earlier than (a certification slot, a factory's line time).
    not_before: date | None = None
    #: A milestone's date to meet (the retail date).
    deadline: date | None = None
    #: An experiment in the registry whose run (and decision) this task is.
    experiment: str | None = Field(default=None, max_length=100)
    gate: Gate = Field(default_factory=Gate)
    #: Tasks done only when this gate's experiment does not ship.
    fallback: tuple[Key, ...] = ()
    # progress
    done: bool = False
    started_on: date | None = None
    slipped: float = Field(default=0.0, ge=0, le=100 * MAX_DAYS)

    @field_validator("after", mode="before")
    @classmethod
    def _deps(cls, v: Any) -> Any:
        if isinstance(v, (str, dict)):
            v = [v]
        if isinstance(v, list):
            return [{"task": d} if isinstance(d, str) else d for d in v]
        return v

    @field_validator("duration", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> Any:
        if isinstance(v, bool):
            raise ValueError("give days: a number, or optimistic, likely and pessimistic")
        if isinstance(v, (int, float)):
            return {"optimistic": v, "likely": v, "pessimistic": v}
        if isinstance(v, list):
            if len(v) != 3:
                raise ValueError("a list of three days: optimistic, likely, pessimistic")
            return dict(zip(("optimistic", "likely", "pessimistic"), v, strict=True))
        return v

    @field_validator("not_before", "deadline", "started_on")
    @classmethod
    def _year(cls, v: date | None) -> date | None:
        if v is not None and not YEARS[0] <= v.year <= YEARS[1]:
            raise ValueError(f"a date between {YEARS[0]} and {YEARS[1]}")
        return v

    @model_validator(mode="after")
    def _kind(self) -> Task:
        if self.milestone and self.duration is not None and self.duration.pessimistic > 0:
            raise ValueError("a milestone takes no time: leave out its duration")
        if self.experiment is None and self.fallback:
            raise ValueError("only an experiment gate has a fallback path")
        if not self.milestone and self.experiment is None and self.duration is None:
            raise ValueError("give its duration (days), or mark it a milestone")
        if self.deadline is not None and not self.milestone:
            raise ValueError("only a milestone has a deadline (use not_before for a start date)")
        return self

    @property
    def label(self) -> str:
        """Its name, or its key."""
        return self.name or self.key


class Risk(BaseModel):
    """A shared driver: its tasks' durations are correlated (a Gaussian copula)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1, max_length=100)
    correlation: float = Field(ge=0, le=1)
    tasks: tuple[Key, ...] = Field(min_length=2)


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    key: Key
    name: str | None = Field(default=None, max_length=200)
    start: date
    target: date | None = None
    distribution: Literal["pert", "triangular"] = "pert"
    tasks: tuple[Task, ...] = Field(min_length=1, max_length=20_000)
    risks: tuple[Risk, ...] = ()
    status_date: date | None = None

    @field_validator("start", "target", "status_date")
    @classmethod
    def _year(cls, v: date | None) -> date | None:
        if v is not None and not YEARS[0] <= v.year <= YEARS[1]:
            raise ValueError(f"a date between {YEARS[0]} and {YEARS[1]}")
        return v


@dataclass(frozen=True)
class Plan:
    """A validated launch plan: tasks in an order where every task follows its predecessors."""

    key: str
    name: str
    start: date
    target: date | None
    distribution: str
    tasks: tuple[Task, ...]
    risks: tuple[Risk, ...] = ()
    origin: str = "the plan"
    #: Per task key, the line of the plan file that defines it (when read from text).
    lines: dict[Any, int] = field(default_factory=dict, compare=False, repr=False)
    #: The day the plan's progress (done, started_on) is recorded up to: its data date.
    status_date: date | None = None

    def __post_init__(self) -> None:
        _check(self)

    @property
    def data_date(self) -> date:
        """What a forecast is made as of unless told: the status date, else the start."""
        return max(self.status_date or self.start, self.start)

    @property
    def index(self) -> dict[str, int]:
        """Position of each task key."""
        return {t.key: i for i, t in enumerate(self.tasks)}

    def task(self, key: str) -> Task:
        """The task called ``key``."""
        try:
            return self.tasks[self.index[key]]
        except KeyError:
            raise ConfigError(f"{self.origin} has no task {key!r}", parameter="task") from None

    @property
    def fallback_of(self) -> dict[str, str]:
        """Each fallback task's gate."""
        return {f: t.key for t in self.tasks for f in t.fallback}

    def with_task(self, key: str, **changes: Any) -> Plan:
        """The plan with one task changed (a slip, progress)."""
        i = self.index.get(key)
        if i is None:
            raise ConfigError(f"{self.origin} has no task {key!r}", parameter="task")
        tasks = list(self.tasks)
        tasks[i] = tasks[i].model_copy(update=changes)
        return Plan(
            self.key, self.name, self.start, self.target, self.distribution, tuple(tasks),
            self.risks, self.origin, self.lines, self.status_date,
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """The plan as the YAML fields (JSON-ready)."""
        return {
            "key": self.key,
            "name": self.name,
            "start": self.start.isoformat(),
            "target": self.target.isoformat() if self.target else None,
            "status_date": self.status_date.isoformat() if self.status_date else None,
            "distribution": self.distribution,
            "tasks": [t.model_dump(mode="json", exclude_defaults=True) for t in self.tasks],
            "risks": [r.model_dump(mode="json") for r in self.risks],
        }


def _where(plan: Plan, key: str) -> str:
    line = plan.lines.get(key)
    return f"{plan.origin}, line {line}" if line else plan.origin


def _check(plan: Plan) -> None:
    """References resolve, keys are unique, the graph has no cycle."""
    seen: dict[str, int] = {}
    for i, t in enumerate(plan.tasks):
        if t.key in seen:
            raise ConfigError(f"{_where(plan, t.key)}: task {t.key!r} is defined twice")
        seen[t.key] = i
    for t in plan.tasks:
        for d in t.after:
            if d.task not in seen:
                line = plan.lines.get((t.key, d.task)) or plan.lines.get(t.key)
                at = f"{plan.origin}, line {line}" if line else plan.origin
                raise ConfigError(
                    f"{at}: task {t.key!r} comes after {d.task!r}, which is no task of the plan"
                    + _suggest(d.task, seen)
                )
            if d.task == t.key:
                raise ConfigError(f"{_where(plan, t.key)}: task {t.key!r} comes after itself")
        for f in t.fallback:
            if f not in seen:
                raise ConfigError(
                    f"{_where(plan, t.key)}: gate {t.key!r} names fallback {f!r}, which is no "
                    "task of the plan" + _suggest(f, seen)
                )
    owners: dict[str, str] = {}
    for t in plan.tasks:
        for f in t.fallback:
            if f in owners:
                raise ConfigError(f"{_where(plan, f)}: {f!r} is the fallback of two gates")
            owners[f] = t.key
    in_risk: dict[str, str] = {}
    for r in plan.risks:
        for k in r.tasks:
            if k not in seen:
                raise ConfigError(
                    f"{plan.origin}: risk {r.name!r} names {k!r}, which is no task of the plan"
                    + _suggest(k, seen)
                )
            if k in in_risk:
                raise ConfigError(
                    f"{plan.origin}: task {k!r} is in two risks ({in_risk[k]!r}, {r.name!r}); "
                    "give each task one shared driver"
                )
            in_risk[k] = r.name
    cycle = find_cycle(plan.tasks)
    if cycle:
        raise ConfigError(
            f"{_where(plan, cycle[0])}: the dependencies go round in a circle: "
            + " → ".join([*cycle, cycle[0]])
        )


def _suggest(key: str, known: dict[str, int]) -> str:
    import difflib

    close = difflib.get_close_matches(key, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def find_cycle(tasks: Sequence[Task]) -> list[str]:
    """One cycle of the dependency graph (task keys in order), or [] if it has none."""
    import graphlib

    graph = {t.key: [d.task for d in t.after] for t in tasks}
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        return list(exc.args[1][:-1])  # [a, b, c, a]: b comes after a, c after b, a after c
    return []


def _lines(text: str) -> dict[Any, int]:
    """Line of each task (by key) and of each dependency (task key, predecessor key)."""
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    out: dict[Any, int] = {}
    if not isinstance(root, yaml.MappingNode):
        return out
    for k, v in root.value:
        if k.value != "tasks" or not isinstance(v, yaml.SequenceNode):
            continue
        for item in v.value:
            if not isinstance(item, yaml.MappingNode):
                continue
            fields = {fk.value: fv for fk, fv in item.value}
            key = getattr(fields.get("key"), "value", None)
            if not isinstance(key, str):
                continue
            out[key] = item.start_mark.line + 1
            after = fields.get("after")
            items = after.value if isinstance(after, yaml.SequenceNode) else [after]
            for d in items:
                if isinstance(d, yaml.ScalarNode):
                    out[(key, d.value)] = d.start_mark.line + 1
                elif isinstance(d, yaml.MappingNode):
                    sub = {a.value: b for a, b in d.value}
                    name = getattr(sub.get("task"), "value", None)
                    if isinstance(name, str):
                        out[(key, name)] = d.start_mark.line + 1
    return out


def parse_plan(text: str, *, origin: str = "the plan") -> Plan:
    """A plan from YAML text; errors name ``origin``, the task, the field and the line."""
    from tinylift.config import parse_yaml

    data = parse_yaml(text, origin=origin)
    lines = _lines(text)
    return plan_from_dict(data, origin=origin, lines=lines)


def plan_from_dict(
    data: Any, *, origin: str = "the plan", lines: dict[Any, int] | None = None
) -> Plan:
    """A plan from the YAML fields as data (what the API receives)."""
    lines = lines or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: a plan is a mapping with key, start and tasks")
    try:
        f = _File.model_validate(data)
    except ValidationError as exc:
        where, message = describe_validation(exc)
        at = origin
        m = re.match(r"tasks\.(\d+)(?:\.(.*))?", where or "")
        if m:
            i = int(m.group(1))
            tasks = data.get("tasks") or []
            key = tasks[i].get("key") if i < len(tasks) and isinstance(tasks[i], dict) else None
            line = lines.get(key) if isinstance(key, str) else None
            at = f"{origin}, line {line}" if line else origin
            where = f"task {key or i + 1!r}" + (f", {m.group(2)}" if m.group(2) else "")
        raise ConfigError(f"{at}: {where + ': ' if where else ''}{message}") from None
    return Plan(
        key=f.key,
        name=f.name or f.key,
        start=f.start,
        target=f.target,
        status_date=f.status_date,
        distribution=f.distribution,
        tasks=f.tasks,
        risks=f.risks,
        origin=origin,
        lines=dict(lines),
    )


def load_plan(path: Path | str) -> Plan:
    """A plan from a YAML file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"no launch plan at {p}", parameter="plan") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the launch plan {p}: {exc}", parameter="plan") from None
    return parse_plan(text, origin=str(p))
