"""Serving an app with uvicorn, with a deadline on reading each request.

uvicorn closes idle keep-alive connections but waits for ever on a client
that sends a request slowly (a "slow loris": a few bytes of headers at a time,
hundreds of connections). Here a connection must deliver a request's headers
within ``read_timeout`` seconds of opening (or of the previous response), or
it is closed; the app bounds the body's read the same way.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["guarded_protocol", "serve"]


def guarded_protocol(read_timeout: float) -> type[Any]:
    """uvicorn's h11 protocol, closing connections whose headers are late."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class Guarded(H11Protocol):
        _guard: asyncio.TimerHandle | None = None

        def _arm(self) -> None:
            self._disarm()
            self._guard = self.loop.call_later(read_timeout, self._expire)

        def _disarm(self) -> None:
            if self._guard is not None:
                self._guard.cancel()
                self._guard = None

        def _expire(self) -> None:
            self._guard = None
            waiting = self.cycle is None or self.cycle.response_complete
            if waiting and not self.transport.is_closing():
                self.transport.close()  # headers did not arrive in time

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def handle_events(self) -> None:
            before = self.cycle
            super().handle_events()
            if self.cycle is not before and self.cycle is not None:
                self._disarm()  # a whole request head arrived: the app bounds the body

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return Guarded


def serve(app: Any, *, host: str, port: int, read_timeout: float) -> None:
    """Run ``app`` until interrupted, bounding how long a request may take to arrive."""
    import uvicorn

    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        http=guarded_protocol(read_timeout),
        timeout_keep_alive=min(5, int(read_timeout) or 1),
    )
