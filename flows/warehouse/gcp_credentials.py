"""BigQuery credentials from a prefect-gcp GcpCredentials block: the service account on Prefect Cloud."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from flows.errors import VocError
from flows.settings import VocSettings


@contextmanager
def with_gcp_credentials_block(settings: VocSettings) -> Iterator[VocSettings]:
    """The settings of a run, with the named GcpCredentials block's key as BigQuery's service account.

    The block's key becomes `service-account` auth with its key file, so dbt's profile and the report
    reader get it from the one credentials function (flows/warehouse/bigquery.py). A block without a key, or
    no block, leaves the settings (and the worker's own credentials, e.g. workload identity) as they are.
    """
    with gcp_credentials_block(settings.gcp_credentials_block) as keyfile:
        if keyfile is None:
            yield settings
        else:
            yield settings.model_copy(update={"bq_auth_method": "service-account", "bq_keyfile": keyfile})


@contextmanager
def gcp_credentials_block(block_name: str | None) -> Iterator[Path | None]:
    """The named block's service-account key file for the duration, if it holds a key.

    The block's own file, or its key written to an owner-only temporary file removed afterwards.
    """
    if not block_name:
        yield None
        return
    service_account_file, service_account_info = _load_block(block_name)
    with ExitStack() as stack:
        keyfile = service_account_file
        if keyfile is None and service_account_info is not None:
            keyfile = stack.enter_context(_private_keyfile(service_account_info))
        yield keyfile


def _load_block(block_name: str) -> tuple[Path | None, dict[str, Any] | None]:
    """The block's key file and key contents; a missing block or a key it cannot parse is one line."""
    from prefect_gcp import GcpCredentials

    where = f"VOC_GCP_CREDENTIALS_BLOCK={block_name}"
    try:
        # _sync: a sync caller inside an async flow would otherwise get a coroutine back.
        block = GcpCredentials.load(block_name, _sync=True)
    except ValueError as exc:
        reason = str(exc).strip().splitlines()[0]
        raise VocError(f"{where}: no such GcpCredentials block, or its key is unusable ({reason})") from None
    info = block.service_account_info
    return block.service_account_file, info.get_secret_value() if info is not None else None


@contextmanager
def _private_keyfile(service_account_info: dict[str, Any]) -> Iterator[Path]:
    """The key as a file that goes with the run, even a run killed with `kill -9`.

    Where the system has anonymous files (Linux: memfd), the key never touches a disk and dies
    with the process; dbt and the reader open it as /proc/self/fd/N. Elsewhere it is an owner-only
    file in a folder of this run's own, which the next run removes if this one was killed.
    """
    key = json.dumps(service_account_info).encode("utf-8")
    if hasattr(os, "memfd_create"):
        with os.fdopen(os.memfd_create("voc-weekly-gcp-key", os.MFD_CLOEXEC), "w+b") as memory:
            memory.write(key)
            memory.flush()
            yield Path(f"/proc/self/fd/{memory.fileno()}")
        return
    keys = Path(tempfile.gettempdir()) / "voc-weekly-keys"
    keys.mkdir(mode=0o700, exist_ok=True)
    _remove_keys_of_dead_runs(keys)
    folder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=keys))  # mode 0700
    try:
        keyfile = folder / "key.json"
        keyfile.touch(mode=0o600)
        keyfile.write_bytes(key)
        yield keyfile
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _remove_keys_of_dead_runs(keys: Path) -> None:
    """Remove the key folders of runs whose process is gone (killed before they could)."""
    for folder in keys.iterdir():
        pid = folder.name.split("-", 1)[0]
        if pid.isdigit() and not _is_running(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # POSIX: signal 0 checks the process exists and sends nothing
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True
