"""BigQuery credentials from a prefect-gcp GcpCredentials block: the service account on Prefect Cloud."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from flows.errors import VocError

ADC_VARIABLE = "GOOGLE_APPLICATION_CREDENTIALS"


@contextmanager
def gcp_credentials_block(block_name: str | None) -> Iterator[Path | None]:
    """For the duration of a run, the named block's service account as application default credentials.

    dbt-bigquery (method `oauth`) and the report reader both authenticate with application default
    credentials, which take the key file GOOGLE_APPLICATION_CREDENTIALS names: the block's own file,
    or its key written to an owner-only temporary file removed afterwards. A block without a key
    leaves the worker's own credentials (workload identity) in place. Yields the key file, if any.
    """
    if not block_name:
        yield None
        return
    service_account_file, service_account_info = _load_block(block_name)
    with ExitStack() as stack:
        keyfile = service_account_file
        if keyfile is None and service_account_info is not None:
            keyfile = stack.enter_context(_private_keyfile(service_account_info))
        if keyfile is not None:
            stack.enter_context(_environment(ADC_VARIABLE, str(keyfile)))
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
    """The key as a file only this user can read (mkstemp's mode 0600), deleted on the way out."""
    handle, name = tempfile.mkstemp(prefix="voc-gcp-", suffix=".json")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(service_account_info, file)
        yield Path(name)
    finally:
        os.remove(name)


@contextmanager
def _environment(name: str, value: str) -> Iterator[None]:
    """One environment variable set for the duration, then put back as it was."""
    saved = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = saved
