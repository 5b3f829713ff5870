"""A local Cloud Storage (`gcp-storage-emulator`, a dev dependency) for the docs publishing tests.

Its only pin (google-crc32c) agrees with the project's lock, so it runs from the project's own venv;
the tests start it on a free loopback port, in memory, and stop it with their package.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.bigquery.emulators import free_port

BUCKET = "voc-docs-test"


@contextmanager
def running(log: Path, timeout: float = 60) -> Iterator[str]:
    """The emulator's URL (what STORAGE_EMULATOR_HOST names) while it runs, with BUCKET created."""
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "gcp-storage-emulator"),
        "start",
        "--host=127.0.0.1",
        f"--port={port}",
        "--in-memory",
        f"--default-bucket={BUCKET}",
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, log, timeout)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"gcp-storage-emulator exited at start:\n{log.read_text(errors='replace')[-3000:]}"
            )
        try:
            if httpx.get(f"{url}/storage/v1/b/{BUCKET}", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gcp-storage-emulator did not answer within {timeout:.0f} s")
