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
    """The key as a file only this user can read (mkstemp's mode 0600), deleted on the way out."""
    handle, name = tempfile.mkstemp(prefix="voc-gcp-", suffix=".json")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(service_account_info, file)
        yield Path(name)
    finally:
        os.remove(name)
