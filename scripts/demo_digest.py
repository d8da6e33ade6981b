"""Digest of every stored snapshot's numbers and every decision in a workspace.

Used to check that a change which should not change results did not:

    tinylift demo --dir /tmp/before --users 100000 --seed 7 --no-serve   # on the old commit
    tinylift demo --dir /tmp/after --users 100000 --seed 7 --no-serve    # on the new one
    python scripts/demo_digest.py /tmp/before /tmp/after
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys


def digest(workspace: str) -> tuple[int, str, str]:
    con = sqlite3.connect(f"{workspace}/registry.db")
    snaps = con.execute(
        "select e.key, s.digest, s.recommendation from snapshots s "
        "join experiments e on e.id = s.experiment_id order by e.key, s.id"
    ).fetchall()
    decisions = con.execute(
        "select e.key, d.outcome, d.variant from decisions d "
        "join experiments e on e.id = d.experiment_id order by e.key"
    ).fetchall()
    con.close()
    h = lambda rows: hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:16]  # noqa: E731
    return len(snaps), h(snaps), h(decisions)


if __name__ == "__main__":
    for ws in sys.argv[1:]:
        n, snaps, decisions = digest(ws)
        print(f"{ws}: {n} snapshots {snaps}, decisions {decisions}")
