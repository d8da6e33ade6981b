"""Start-up of the ``tinylift`` command against the floor of any Typer + Rich CLI.

Each job is a fresh process (what a user pays per command), timed as the
median of several runs; the baseline ``python -c "import typer, rich"`` runs
in the same loop, so a busy machine slows both alike. Target: ``tinylift
--help`` and ``tinylift calc srm`` at most 3x the baseline.

A second reference is the floor of *any* Typer command that takes options
(Typer 0.29 coerced every parameter through Pydantic, 0.3 s of imports per
command here, which is why tinylift pins Typer 0.28).

    python benchmarks/bench_startup.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

FLOOR = """
import typer
app = typer.Typer()
@app.command()
def f(counts: str = "1", threshold: float = 0.001, as_json: bool = False) -> None:
    print(counts)
app()
"""

JOBS = {
    "python -c 'import typer, rich' (baseline)": [sys.executable, "-c", "import typer, rich"],
    "any Typer command with 3 options (floor)": [sys.executable, "-c", FLOOR, "--counts", "5"],
    "tinylift --help": [sys.executable, "-m", "tinylift.cli.main", "--help"],
    "tinylift calc srm --counts 5000,4600": [
        sys.executable,
        "-m",
        "tinylift.cli.main",
        "calc",
        "srm",
        "--counts",
        "5000,4600",
    ],
    "tinylift calc proportion (scipy)": [
        sys.executable,
        "-m",
        "tinylift.cli.main",
        "calc",
        "proportion",
        "--control",
        "10000:1000",
        "--treatment",
        "10000:1100",
    ],
}
TARGET = 3.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in JOBS}
    for _ in range(args.repeat):
        for name, argv in JOBS.items():  # interleaved: noise hits every job alike
            start = time.perf_counter()
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
            times[name].append(time.perf_counter() - start)
    base_name = next(iter(JOBS))
    base = statistics.median(times[base_name])
    print(f"start-up, median of {args.repeat} fresh processes each")
    for name, ts in times.items():
        ratio = statistics.median(ts) / base
        mark = " (target <= 3x)" if name.startswith("tinylift") and "scipy" not in name else ""
        print(f"  {name:45s} {statistics.median(ts) * 1000:7.0f} ms   x{ratio:.2f}{mark}")
    ours = ["tinylift --help", "tinylift calc srm --counts 5000,4600"]
    worst = max(statistics.median(times[n]) / base for n in ours)
    floor = statistics.median(times[list(JOBS)[1]])
    srm = statistics.median(times[ours[1]])
    print(f"worst of --help and calc srm: x{worst:.2f} ({'ok' if worst <= TARGET else 'over'})")
    print(f"calc srm against the floor of a Typer command with options: x{srm / floor:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
