"""`tinylift demo` (what `make demo` runs) ends serving the web app with a demo login."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def test_the_demo_ends_serving_with_a_login_that_works(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tinylift.cli.main",
                "demo",
                "--dir",
                str(tmp_path / "ws"),
                "--users",
                "3000",
                "--days",
                "66",
                "--port",
                str(port),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 240  # generous: the demo builds first
        password = None
        while time.monotonic() < deadline and password is None:
            found = re.search(r"password: (\S+)", log.read_text())
            password = found.group(1) if found else None
            time.sleep(0.5)
        assert password, log.read_text()[-2000:]
        assert f"http://127.0.0.1:{port}" in log.read_text()
        while time.monotonic() < deadline:
            try:
                r = httpx.post(
                    f"http://127.0.0.1:{port}/api/v1/session",
                    json={"handle": "demo", "password": password},
                    timeout=5,
                )
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        assert r.status_code == 200, r.text
        assert r.json()["role"] == "admin"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
