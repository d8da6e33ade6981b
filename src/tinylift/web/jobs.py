"""Background work of the server: analysing running experiments, on a schedule and on demand.

One analysis runs at a time, on the process that owns the warehouse (after
the spool is loaded, so it counts every acknowledged row). Its progress (the
stage it is in) is visible on the pages and at ``GET /api/v1/refresh``;
afterwards the alerts of the new scorecards are raised.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI

__all__ = ["Refresher"]

log = logging.getLogger("tinylift.web")


class Refresher:
    """Analyses the running experiments; one run at a time."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.status: dict[str, Any] = {"state": "idle", "stage": None, "runs": 0}
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> bool:
        """Begin a run now unless one is under way; whether one was begun."""
        if self.running:
            return False
        self._task = asyncio.create_task(self._run())
        return True

    async def wait(self) -> None:
        """Until the current run (if any) has finished."""
        if self._task is not None:
            await asyncio.shield(self._task)

    def _stage(self, text: str) -> None:
        self.status["stage"] = text

    async def _run(self) -> None:
        from tinylift.service import alerts, analysis

        held = getattr(self.app.state, "held", None)
        spool = getattr(self.app.state, "spool", None)
        if held is None or spool is None:
            return
        self.status.update(
            state="running",
            stage="loading the spool",
            started_at=datetime.now(UTC).isoformat(),
            error=None,
        )
        try:
            await asyncio.to_thread(spool.load)

            def work() -> dict[str, Any]:
                result = analysis.analyze(held, None, on_stage=self._stage)
                self._stage("raising alerts")
                raised = alerts.raise_alerts(held, result.scorecards)
                return {
                    "analysed": len(result.scorecards),
                    "failures": dict(result.failures),
                    "alerts": len(raised),
                }

            outcome = await asyncio.to_thread(work)
            self.status.update(outcome)
        except Exception as exc:  # shown on the page and logged; the server goes on
            log.exception("the scheduled analysis failed")
            self.status["error"] = f"{type(exc).__name__}: {exc}"
        finally:
            self.status.update(state="idle", stage=None, finished_at=datetime.now(UTC).isoformat())
            self.status["runs"] += 1

    async def every(self, minutes: float) -> None:
        """Start a run every ``minutes`` (runs forever; cancelled at shutdown)."""
        while True:
            await asyncio.sleep(minutes * 60)
            self.start()
