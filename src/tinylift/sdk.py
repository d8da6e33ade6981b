"""The Python SDK: local assignment from a cached configuration, batched exposure logging.

Usage::

    client = tinylift.Client("http://127.0.0.1:8100", api_key="...")
    client.variant("pricing-test", "user-1")  # no network call per assignment

Exposures go to a bounded in-memory buffer and a background thread sends them
in batches. A batch the collector does not answer (it restarts, the network
drops) is retried with exponential back-off for ``retry_for`` seconds (five
minutes by default: longer than a restart); with ``queue_dir`` set, what is
still unsent after that, or at ``close()``, is written to disk and sent when
a client next starts there. Rows the collector refuses are counted and logged
with their reasons. Logging never blocks the caller (when the buffer is full
new exposures are counted as dropped). ``stats()`` says where every exposure
went; ``close()`` (also run at interpreter exit) flushes.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import queue
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from numpy.typing import ArrayLike, NDArray

from tinylift.assignment.hashing import MAX_ID_LENGTH, id_string
from tinylift.assignment.layers import Assigner, ExperimentRule
from tinylift.errors import ConfigError

__all__ = ["Client"]

log = logging.getLogger("tinylift.client")

#: Answers after which the same batch is sent again (the collector is busy,
#: restarting or slow), beside no answer at all.
RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


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
        retry_for: float = 300.0,
        retries: int | None = None,
        timeout: float = 5.0,
        queue_dir: Path | str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """``retry_for``: seconds a batch is retried before it is given up (or saved to
        ``queue_dir``); ``retries`` caps the attempts as well (None: no cap)."""
        self._http = httpx.Client(
            base_url=url, headers={"X-API-Key": api_key}, timeout=timeout, transport=transport
        )
        self._etag: str | None = None
        self._assigner = Assigner([])
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=max_buffer)
        self._batch_size = batch_size
        self._flush_every = flush_every
        self._retry_for = retry_for
        self._retries = retries
        self._queue_dir = Path(queue_dir) if queue_dir is not None else None
        self._closed = threading.Event()
        self._idle = threading.Event()
        self._lock = threading.Lock()
        self._in_flight = 0
        #: exposures handed to the client
        self.queued = 0
        #: stored by the collector (``sent`` is the same number, by its older name)
        self.acknowledged = 0
        #: sent again after a lost answer, and recognised by the collector
        self.duplicates = 0
        #: refused by the collector, each logged with its reason
        self.rejected = 0
        #: not taken because the buffer was full
        self.dropped = 0
        #: given up after ``retry_for`` seconds (with no ``queue_dir`` to keep them)
        self.failed = 0
        #: written to ``queue_dir`` to be sent by the next client there
        self.saved = 0
        self.last_error: str | None = None
        self.refresh()
        if self._queue_dir is not None:
            self._load_saved()
        self._worker = threading.Thread(target=self._run, name="tinylift-exposures", daemon=True)
        self._worker.start()
        atexit.register(self.close)

    @property
    def sent(self) -> int:
        """Exposures the collector acknowledged (the older name of ``acknowledged``)."""
        return self.acknowledged

    def stats(self) -> dict[str, int]:
        """Where every exposure handed to the client went, or is."""
        with self._lock:
            pending = self._queue.qsize() + self._in_flight
        return {
            "queued": self.queued,
            "acknowledged": self.acknowledged,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "pending": pending,
            "dropped": self.dropped,
            "failed": self.failed,
            "saved": self.saved,
        }

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

    def rule(self, experiment: str) -> ExperimentRule:
        """How an experiment of the current configuration assigns units."""
        return self._assigner.experiments[experiment]

    def variant(
        self,
        experiment: str,
        unit_id: object,
        attributes: Mapping[str, object] | None = None,
        *,
        log: bool = True,
    ) -> str | None:
        """The unit's variant (None when not enrolled); logs the exposure.

        ``unit_id`` is the ``id`` attribute (None: take it from ``attributes``).
        The exposure is logged for the value that was hashed (the experiment's
        hash attribute, such as a company id), as GrowthBook's SDKs report it.
        """
        rule = self._assigner.experiments.get(experiment)
        if rule is None:
            return None
        v = self._assigner.variant(experiment, unit_id, attributes)
        if v is not None and log:
            attrs = dict(attributes or {})
            if unit_id is not None:
                attrs["id"] = unit_id
            hashed = id_string(attrs.get(rule.hash_attribute))
            if hashed not in rule.forced:  # QA overrides are not exposures (as in GrowthBook)
                self.log_exposure(experiment, v, hashed, attrs)
        return v

    def assign_many(
        self,
        experiment: str,
        unit_ids: ArrayLike | None,
        attributes: Mapping[str, ArrayLike] | None = None,
    ) -> NDArray[np.object_]:
        """Variant keys (None where not enrolled) for many units; logs nothing.

        ``unit_ids`` may be None when ``attributes`` holds an ``id`` column.
        """
        rule = self._assigner.experiments.get(experiment)
        if rule is None:
            columns: list[Any] = [unit_ids, *(attributes or {}).values()]
            first: Any = next((c for c in columns if c is not None), [])
            return np.full(len(first), None, dtype=object)
        idx = self._assigner.assign_many(experiment, unit_ids, attributes)
        out = np.full(len(idx), None, dtype=object)
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
        """Queue one exposure; never blocks.

        An id longer than the collector stores (``MAX_ID_LENGTH`` characters) is
        counted as rejected and logged, not sent.
        """
        attrs = attributes or {}
        if len(unit_id) > MAX_ID_LENGTH:
            self.rejected += 1
            log.warning(
                "exposure not sent (%s, unit %r...): the id has %d characters; the collector "
                "stores ids of up to %d",
                experiment,
                unit_id[:40],
                len(unit_id),
                MAX_ID_LENGTH,
            )
            return
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
            self.queued += 1
            self._idle.clear()
        except queue.Full:
            self.dropped += 1

    def _answered(self, batch: list[dict[str, Any]], body: dict[str, Any]) -> None:
        self.acknowledged += int(body.get("accepted", 0))
        self.duplicates += int(body.get("duplicates", 0))
        refused = body.get("rejected") or []
        self.rejected += len(refused)
        for r in refused[:20]:
            i = r.get("index")
            row = batch[i] if isinstance(i, int) and 0 <= i < len(batch) else {}
            log.warning(
                "exposure refused by the collector (%s, unit %r): %s: %s",
                row.get("experiment_key"),
                str(row.get("unit_id"))[:80],
                r.get("field"),
                r.get("reason"),
            )
        if len(refused) > 20:
            log.warning("... and %d more exposures refused", len(refused) - 20)

    def _send(self, batch: list[dict[str, Any]]) -> None:
        """Send one batch until the collector answers, within ``retry_for`` seconds."""
        delay = 0.2
        give_up = time.monotonic() + self._retry_for
        attempt = 0
        while True:
            try:
                r = self._http.post("/api/exposures", json=batch)
                if r.status_code == 200:
                    self._answered(batch, r.json())
                    return
                self.last_error = f"HTTP {r.status_code}: {r.text[:200]}"
                if r.status_code == 413 and len(batch) > 1:  # too large: halves go alone
                    half = len(batch) // 2
                    self._send(batch[:half])
                    self._send(batch[half:])
                    return
                if r.status_code not in RETRY_STATUS:
                    # the key or the whole batch is wrong: sending it again will not help
                    log.error(
                        "the collector refused a batch of %d: %s", len(batch), self.last_error
                    )
                    self.rejected += len(batch)
                    return
            except httpx.HTTPError as exc:  # the collector is unreachable: retry
                self.last_error = f"{type(exc).__name__}: {exc}"
            attempt += 1
            out_of_time = time.monotonic() + delay > give_up
            out_of_tries = self._retries is not None and attempt > self._retries
            # closed: close() already waited its flush timeout; keep (or count) the rest
            if out_of_time or out_of_tries or self._closed.is_set():
                self._give_up(batch)
                return
            self._closed.wait(delay)  # back off, but wake at once when closed
            delay = min(delay * 2, 10.0)

    def _give_up(self, batch: list[dict[str, Any]]) -> None:
        if self._queue_dir is not None:
            self._save(batch)
            return
        self.failed += len(batch)
        log.error(
            "gave up on %d exposures after %.0f s without an answer (%s)",
            len(batch),
            self._retry_for,
            self.last_error,
        )

    # -- the on-disk queue -----------------------------------------------------

    def _save(self, rows: list[dict[str, Any]]) -> None:
        assert self._queue_dir is not None
        self._queue_dir.mkdir(parents=True, exist_ok=True)
        path = self._queue_dir / f"exposures-{time.time_ns()}-{os.getpid()}.jsonl"
        tmp = path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)
            f.flush()
            os.fsync(f.fileno())
        tmp.rename(path)
        self.saved += len(rows)

    def _load_saved(self) -> None:
        """Queue the exposures an earlier client saved here (each file once)."""
        assert self._queue_dir is not None
        for path in sorted(self._queue_dir.glob("exposures-*.jsonl")):
            claimed = path.with_suffix(".sending")
            try:
                path.rename(claimed)  # another client may take it first
            except OSError:
                continue
            rows = [json.loads(line) for line in claimed.read_text().splitlines() if line]
            for row in rows:
                try:
                    self._queue.put_nowait(row)
                    self.queued += 1
                except queue.Full:
                    self._save(rows[rows.index(row) :])
                    break
            claimed.unlink()

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
            with self._lock:
                self._in_flight = len(batch)
            try:
                self._send(batch)
            finally:
                with self._lock:
                    self._in_flight = 0
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
        """Flush and stop the background sender; with ``queue_dir``, what is still
        unsent is saved there for the next client."""
        if self._closed.is_set():
            return
        self.flush(timeout)
        self._closed.set()
        self._worker.join(timeout)
        if self._queue_dir is not None:
            rest: list[dict[str, Any]] = []
            while True:
                try:
                    rest.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if rest:
                self._save(rest)
        self._http.close()
        atexit.unregister(self.close)
