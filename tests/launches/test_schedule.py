"""Launch plans: CPM by hand, Monte Carlo against analytic answers, plan errors."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from scipy import stats

from tinylift.errors import ConfigError
from tinylift.launches import (
    Dependency,
    Duration,
    GateState,
    Plan,
    Risk,
    Task,
    cpm,
    forecast,
    parse_plan,
    simulate,
    whatif,
)

START = date(2027, 1, 4)


def plan_of(*tasks: Task, risks: tuple[Risk, ...] = (), target: date | None = None) -> Plan:
    return Plan("p", "p", START, target, "pert", tuple(tasks), risks)


def task(key: str, days: float | tuple[float, float, float], *after: str, **kw: object) -> Task:
    a, m, b = (days, days, days) if isinstance(days, (int, float)) else days
    return Task(
        key=key,
        duration=Duration(optimistic=a, likely=m, pessimistic=b),
        after=tuple(Dependency(task=p) for p in after),
        **kw,  # type: ignore[arg-type]
    )


def test_cpm_matches_the_textbook_example_by_hand() -> None:
    """Eight activities; early/late dates and float worked out by hand:

    A3; B4, C2 after A; D5 after B; E1, F2 after C; G4 after D, E; H3 after F, G.
    Forward: A 0-3, B 3-7, C 3-5, D 7-12, E 5-6, F 5-7, G 12-16, H 16-19.
    Backward from 19: H 16-19, G 12-16, F 14-16, E 11-12, D 7-12, C 9-11, B 3-7, A 0-3.
    Float: A B D G H 0 (the critical path), C 6, E 6, F 9.
    """
    plan = plan_of(
        task("a", 3), task("b", 4, "a"), task("c", 2, "a"), task("d", 5, "b"),
        task("e", 1, "c"), task("f", 2, "c"), task("g", 4, "d", "e"), task("h", 3, "f", "g"),
    )  # fmt: skip
    net, p = cpm(plan)
    got = {
        k: (p.es[0, i], p.ef[0, i], p.ls[0, i], p.lf[0, i], p.total_float[0, i])
        for i, k in enumerate(net.keys)
    }
    assert got == {
        "a": (0, 3, 0, 3, 0), "b": (3, 7, 3, 7, 0), "c": (3, 5, 9, 11, 6),
        "d": (7, 12, 7, 12, 0), "e": (5, 6, 11, 12, 6), "f": (5, 7, 14, 16, 9),
        "g": (12, 16, 12, 16, 0), "h": (16, 19, 16, 19, 0),
    }  # fmt: skip
    result = forecast(plan, runs=1_000)
    assert result.critical_path == ["a", "b", "d", "g", "h"]
    assert result.finish["cpm"] == (START + timedelta(days=19)).isoformat()


def test_lags_and_fixed_start_dates_hold() -> None:
    plan = plan_of(
        task("a", 3),
        Task(key="b", duration=Duration(optimistic=2, likely=2, pessimistic=2),
             after=(Dependency(task="a", lag=4),)),
        task("slot", 1, "a", not_before=START + timedelta(days=20)),
    )  # fmt: skip
    net, p = cpm(plan)
    es = dict(zip(net.keys, p.es[0], strict=True))
    assert es["b"] == 7  # 3 + a lag of 4
    assert es["slot"] == 20  # waits for its slot, not for a
    net, p = cpm(plan, as_of=START + timedelta(days=10))
    es = dict(zip(net.keys, p.es[0], strict=True))
    assert es["a"] == 10  # nothing starts before the day of the forecast
    assert es["b"] == 17


PERT = [(2.0, 5.0, 14.0), (10.0, 12.0, 20.0), (1.0, 1.5, 2.0), (3.0, 9.0, 10.0), (4, 4, 30)]


def test_one_chain_matches_the_sum_of_pert_moments() -> None:
    keys = [f"t{i}" for i in range(len(PERT))]
    tasks = [task(k, PERT[i], *keys[i - 1 : i]) for i, k in enumerate(keys)]
    runs = 40_000
    _, p, _ = simulate(plan_of(*tasks), runs=runs, seed=1)
    means = [(a + 4 * m + b) / 6 for a, m, b in PERT]
    var = sum((mu - a) * (b - mu) / 7 for (a, _, b), mu in zip(PERT, means, strict=True))
    mean = sum(means)
    assert abs(p.finish.mean() - mean) < 4 * np.sqrt(var / runs)
    # the variance of a sample variance, from the fourth moment (finish ~ normal here)
    assert abs(p.finish.var() - var) < 4 * var * np.sqrt(2 / runs)


def test_a_triangular_chain_matches_its_moments() -> None:
    tri = [(2.0, 5.0, 14.0), (10.0, 12.0, 20.0), (0.0, 9.0, 10.0)]
    keys = [f"t{i}" for i in range(len(tri))]
    tasks = [
        task(k, tri[i], *keys[i - 1 : i], distribution="triangular") for i, k in enumerate(keys)
    ]
    runs = 40_000
    _, p, _ = simulate(plan_of(*tasks), runs=runs, seed=2)
    mean = sum((a + m + b) / 3 for a, m, b in tri)
    var = sum((a * a + m * m + b * b - a * m - a * b - m * b) / 18 for a, m, b in tri)
    assert abs(p.finish.mean() - mean) < 4 * np.sqrt(var / runs)
    assert abs(p.finish.var() - var) < 4 * var * np.sqrt(2 / runs)


def test_parallel_paths_into_a_merge_match_the_product_of_their_cdfs() -> None:
    paths = PERT[:4]
    tasks = [task(f"p{i}", d) for i, d in enumerate(paths)]
    merge = Task(key="merge", milestone=True, after=tuple(Dependency(task=t.key) for t in tasks))
    runs = 40_000
    _, p, _ = simulate(plan_of(*tasks, merge), runs=runs, seed=3)

    def cdf(t: float) -> float:
        out = 1.0
        for a, m, b in paths:
            alpha = 1 + 4 * (m - a) / (b - a)
            out *= stats.beta.cdf((t - a) / (b - a), alpha, 6 - alpha)
        return float(out)

    for t in (12.0, 14.0, 15.0, 16.0, 18.0):
        expected = cdf(t)
        seen = float((p.finish <= t).mean())
        assert abs(seen - expected) < 4 * np.sqrt(expected * (1 - expected) / runs) + 1e-3, t


def test_merge_bias_is_the_max_of_uncertain_finishes() -> None:
    paths = [(5.0, 10.0, 25.0)] * 4
    tasks = [task(f"p{i}", d) for i, d in enumerate(paths)]
    merge = Task(key="m", milestone=True, after=tuple(Dependency(task=t.key) for t in tasks))
    f = forecast(plan_of(*tasks, merge), runs=20_000, seed=4)
    [m] = f.merges
    assert m["waits_on"] == 4
    assert m["bias_days"] > 3  # E[max of four] well past the mean of each (about 11.7)


def test_correlation_raises_the_p95_as_theory_says() -> None:
    chain = [(10.0, 15.0, 30.0)] * 6
    keys = [f"c{i}" for i in range(6)]
    tasks = [task(k, chain[i], *keys[i - 1 : i]) for i, k in enumerate(keys)]
    runs = 40_000
    _, alone, _ = simulate(plan_of(*tasks), runs=runs, seed=5)
    risk = (Risk(name="supplier", correlation=0.8, tasks=tuple(keys)),)
    _, together, _ = simulate(plan_of(*tasks, risks=risk), runs=runs, seed=5)
    assert abs(together.finish.mean() - alone.finish.mean()) < 0.2  # the margins are unchanged
    sd1 = alone.finish.std()
    # sd of a sum: sqrt(n s^2 + n (n - 1) r s^2); r a touch under the copula's 0.8
    s2 = sd1**2 / 6
    expected = np.sqrt(6 * s2 + 30 * 0.8 * s2)
    assert together.finish.std() == pytest.approx(expected, rel=0.04)
    assert np.percentile(together.finish, 95) > np.percentile(alone.finish, 95) + 5


def test_a_cycle_is_rejected_with_the_cycle_named() -> None:
    text = """
key: loop
start: 2027-01-04
tasks:
  - {key: a, duration: 1, after: [c]}
  - {key: b, duration: 1, after: [a]}
  - {key: c, duration: 1, after: [b]}
"""
    with pytest.raises(ConfigError, match="circle") as err:
        parse_plan(text, origin="loop.yml")
    message = str(err.value)
    assert any(c in message for c in ("a → b → c → a", "b → c → a → b", "c → a → b → c"))


def test_an_unknown_task_is_rejected_with_the_plan_line() -> None:
    text = """key: hub
start: 2027-01-04
tasks:
  - key: firmware
    duration: [5, 10, 20]
  - key: certification
    duration: 20
    after:
      - firmwre
"""
    with pytest.raises(ConfigError) as err:
        parse_plan(text, origin="hub.yml")
    assert str(err.value) == (
        "hub.yml, line 9: task 'certification' comes after 'firmwre', which is no task of the "
        "plan (did you mean 'firmware'?)"
    )


def test_bad_fields_name_the_task_field_and_line() -> None:
    text = "key: hub\nstart: 2027-01-04\ntasks:\n  - key: pcb\n    duration: [30, 20, 10]\n"
    with pytest.raises(
        ConfigError, match=r"hub.yml, line 4: task 'pcb', duration: needs optimistic"
    ):
        parse_plan(text, origin="hub.yml")


def test_a_gate_that_does_not_ship_sends_the_plan_down_its_fallback() -> None:
    gate = Task(key="test", experiment="onb", fallback=("rework",), after=(Dependency(task="a"),))
    plan = plan_of(
        task("a", 10), gate, task("rework", 20, "test"), task("ship", 5, "test", "rework")
    )
    state = {"test": GateState(Duration(optimistic=14, likely=14, pessimistic=14), p_ship=0.3)}
    f = forecast(plan, runs=20_000, seed=6, gates=state)
    [g] = f.gates
    assert g["shipped_share"] == pytest.approx(0.3, abs=0.015)
    _, p, _ = simulate(plan, runs=20_000, seed=6, gates=state)
    # 10 + 14 + 5 when it ships; 20 more for the rework when it does not
    assert sorted(set(np.round(p.finish, 6))) == [29.0, 49.0]
    assert (p.finish == 49.0).mean() == pytest.approx(0.7, abs=0.015)
    sure = {"test": GateState(state["test"].duration, p_ship=1.0)}
    assert (
        forecast(plan, runs=1_000, gates=sure).finish["p95"]
        == (START + timedelta(days=29)).isoformat()
    )


def test_a_slip_moves_what_waits_on_it_less_the_float() -> None:
    plan = plan_of(
        task("a", 3), task("b", 4, "a"), task("c", 2, "a"), task("d", 5, "b"),
        task("e", 1, "c"), task("f", 2, "c"), task("g", 4, "d", "e"),
        Task(key="launch", milestone=True, after=(Dependency(task="f"), Dependency(task="g"))),
    )  # fmt: skip
    on_path = whatif(plan, "d", 3, runs=1_000)
    assert on_path.finish["cpm_shift_days"] == 3
    assert {m["key"]: m["shift_days"] for m in on_path.moved} == {"d": 3, "g": 3, "launch": 3}
    with_float = whatif(plan, "c", 4, runs=1_000)  # c has 6 days of float
    assert with_float.finish["cpm_shift_days"] == 0
    assert {m["key"] for m in with_float.moved} == {"c", "e", "f"}
    past_float = whatif(plan, "c", 8, runs=1_000)
    assert past_float.finish["cpm_shift_days"] == 2  # 8 days, 6 absorbed
    [launch] = [m for m in past_float.moved if m["key"] == "launch"]
    assert launch["absorbed_days"] == 6
    assert past_float.finish["p80_shift_days"] > 0


def test_criticality_cruciality_and_sensitivity() -> None:
    plan = plan_of(
        task("long", (20, 30, 60)), task("short", (1, 2, 3)), task("end", 1, "long", "short")
    )
    f = forecast(plan, runs=5_000, seed=7)
    t = {r["key"]: r for r in f.tasks}
    assert t["long"]["criticality"] == 1.0
    assert t["short"]["criticality"] == 0.0
    assert t["long"]["cruciality"] > 0.99
    assert t["long"]["ssi"] > 0.99
    assert t["short"]["ssi"] == 0.0


def test_a_huge_plan_gets_fewer_runs_and_too_many_are_refused() -> None:
    from tinylift.launches.forecast import MAX_CELLS, runs_for

    keys = [f"t{i}" for i in range(4_000)]
    plan = plan_of(*[task(k, (1, 2, 3), *keys[max(0, i - 1) : i]) for i, k in enumerate(keys)])
    runs = runs_for(plan)
    assert runs * len(keys) <= MAX_CELLS
    assert forecast(plan, runs=runs).runs == runs
    with pytest.raises(ConfigError, match=r"runs: 10,000 runs of 4,000 tasks .* at most 2,500"):
        simulate(plan, runs=10_000)
