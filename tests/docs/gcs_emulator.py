"""A local Cloud Storage (`gcp-storage-emulator`, a dev dependency) for the docs publishing tests.

Its only pin (google-crc32c) agrees with the project's lock, so it runs from the project's own venv;
the tests start it on a free loopback port, in memory, and stop it with their package.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.servers.processes import free_port, serving

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
    url = f"http://127.0.0.1:{port}"
    with serving("gcp-storage-emulator", command, f"{url}/storage/v1/b/{BUCKET}", log, timeout):
        yield url
