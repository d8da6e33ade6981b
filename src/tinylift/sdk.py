"""The Python SDK: local assignment from a cached configuration, batched exposure logging.

Usage::

    client = tinylift.Client("http://127.0.0.1:8100", api_key="...")
    client.variant("pricing-test", "user-1")  # no network call per assignment

Exposures go to a bounded in-memory buffer and a background thread sends them
in batches, retrying with exponential back-off; logging never blocks the
caller (when the buffer is full the oldest-waiting are kept and new ones are
counted as dropped). ``close()`` (also run at interpreter exit) flushes.
"""

from __future__ import annotations

import atexit
import queue
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import numpy as np
from numpy.typing import ArrayLike, NDArray

from tinylift.assignment.layers import Assigner
from tinylift.errors import ConfigError

__all__ = ["Client"]


class Client:
    """Assigns units locally and logs exposures to a tinylift collector."""

    def __init__(
        self,
        url: str,
        *,
        api_key: str,
        batch_size: int = 500,
        max_buffer: int = 100_000,
        flush_every: float = 1.0,
        retries: int = 5,
        timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=url, headers={"X-API-Key": api_key}, timeout=timeout, transport=transport
        )
        self._etag: str | None = None
        self._assigner = Assigner([])
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=max_buffer)
        self._batch_size = batch_size
        self._flush_every = flush_every
        self._retries = retries
        self._closed = threading.Event()
        self._idle = threading.Event()
        self.dropped = 0
        self.sent = 0
        self.failed = 0
        self.last_error: str | None = None
        self.refresh()
        self._worker = threading.Thread(target=self._run, name="tinylift-exposures", daemon=True)
        self._worker.start()
        atexit.register(self.close)

    # -- configuration ---------------------------------------------------------

    def refresh(self) -> bool:
        """Fetch the configuration if it changed (ETag); True when it did."""
        headers = {"If-None-Match": self._etag} if self._etag else {}
        r = self._http.get("/api/sdk/config", headers=headers)
        if r.status_code == 304:
            return False
        if r.status_code != 200:
            raise ConfigError(f"the collector refused the configuration: {r.status_code} {r.text}")
        self._assigner = Assigner.from_dict(r.json())
        self._etag = r.headers.get("ETag")
        return True

    @property
    def experiments(self) -> list[str]:
        """Keys of the experiments in the current configuration."""
        return list(self._assigner.experiments)

    # -- assignment ------------------------------------------------------------

    def held_out(self, unit_id: str) -> bool:
        """Whether the unit is in a holdout: keep shipped changes from it too."""
        return any(h.holds(unit_id) for h in self._assigner.holdouts)

    def variant(
        self,
        experiment: str,
        unit_id: str,
        attributes: Mapping[str, object] | None = None,
        *,
        log: bool = True,
    ) -> str | None:
        """The unit's variant (None when not enrolled); logs the exposure."""
        if experiment not in self._assigner.experiments:
            return None
        v = self._assigner.variant(experiment, unit_id, attributes)
        if v is not None and log:
            self.log_exposure(experiment, v, unit_id, attributes)
        return v

    def assign_many(
        self,
        experiment: str,
        unit_ids: ArrayLike,
        attributes: Mapping[str, ArrayLike] | None = None,
    ) -> NDArray[np.object_]:
        """Variant keys (None where not enrolled) for many units; logs nothing."""
        ids = np.asarray(unit_ids)
        out = np.full(len(ids), None, dtype=object)
        rule = self._assigner.experiments.get(experiment)
        if rule is None:
            return out
        idx = self._assigner.assign_many(experiment, ids, attributes)
        names = np.array(rule.variants, dtype=object)
        out[idx >= 0] = names[idx[idx >= 0]]
        return out

    # -- exposures -------------------------------------------------------------

    def log_exposure(
        self,
        experiment: str,
        variant: str,
        unit_id: str,
        attributes: Mapping[str, object] | None = None,
    ) -> None:
        """Queue one exposure; never blocks."""
        attrs = attributes or {}
        row = {
            "experiment_key": experiment,
            "variant_key": variant,
            "unit_id": unit_id,
            "timestamp": datetime.now(UTC).isoformat(),
            "country": attrs.get("country"),
            "platform": attrs.get("platform"),
        }
        try:
            self._queue.put_nowait(row)
            self._idle.clear()
        except queue.Full:
            self.dropped += 1

    def _send(self, batch: list[dict[str, Any]]) -> None:
        delay = 0.2
        for attempt in range(self._retries + 1):
            try:
                r = self._http.post("/api/exposures", json=batch)
                if r.status_code == 200:
                    self.sent += int(r.json()["accepted"])
                    return
                if 400 <= r.status_code < 500:
                    break  # the data or the key is wrong: retrying will not help
            except httpx.HTTPError as exc:  # the collector is unreachable: retry
                self.last_error = f"{type(exc).__name__}: {exc}"
            if attempt < self._retries:
                time.sleep(delay)
                delay = min(delay * 2, 10.0)
        self.failed += len(batch)

    def _run(self) -> None:
        while True:
            batch: list[dict[str, Any]] = []
            try:
                batch.append(self._queue.get(timeout=self._flush_every))
            except queue.Empty:
                self._idle.set()
                if self._closed.is_set():
                    return
                continue
            while len(batch) < self._batch_size:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._send(batch)
            if self._queue.empty():
                self._idle.set()

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every queued exposure was sent (or gave up); True if done."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.empty() and self._idle.wait(0.05):
                return True
        return False

    def close(self, timeout: float = 30.0) -> None:
        """Flush and stop the background sender."""
        if self._closed.is_set():
            return
        self.flush(timeout)
        self._closed.set()
        self._worker.join(timeout)
        self._http.close()
        atexit.unregister(self.close)
