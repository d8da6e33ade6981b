from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

KEY = "test-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_collector(ws: Path, port: int, command: str = "collect") -> subprocess.Popen[bytes]:
    """`tinylift collect` (or ``serve``) in its own process, once it answers."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tinylift.cli.main",
            command,
            "--dir",
            str(ws),
            "--port",
            str(port),
        ],
        env={**os.environ, "TINYLIFT_COLLECTOR_KEYS": KEY},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"tinylift {command} did not start")
