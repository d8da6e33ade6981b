"""Launch plans: dependencies, uncertainty, and the cascade of one slip.

A plan (:mod:`.plan`) lists workstreams with three-point durations,
finish-to-start dependencies, fixed dates, shared risk drivers and
experiment gates. :func:`cpm` gives the deterministic critical path;
:func:`forecast` the Monte Carlo forecast (percentile dates, the chance to
meet the target, criticality, cruciality, sensitivity, merge bias, who waits
on whom); :func:`whatif` what moves when one task slips. Pure numpy: the
registry, gates' evidence and history are in :mod:`tinylift.service.launches`.
"""

from tinylift.launches.cascade import Cascade, whatif
from tinylift.launches.forecast import Forecast, forecast, simulate
from tinylift.launches.plan import (
    Dependency,
    Duration,
    Gate,
    Plan,
    Risk,
    Task,
    load_plan,
    parse_plan,
    plan_from_dict,
)
from tinylift.launches.schedule import GateState, cpm

__all__ = [
    "Cascade",
    "Dependency",
    "Duration",
    "Forecast",
    "Gate",
    "GateState",
    "Plan",
    "Risk",
    "Task",
    "cpm",
    "forecast",
    "load_plan",
    "parse_plan",
    "plan_from_dict",
    "simulate",
    "whatif",
]
