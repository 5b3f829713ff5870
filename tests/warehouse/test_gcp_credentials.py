"""BigQuery's service account from a GcpCredentials block on the real Prefect test server: both
consumers, dbt-bigquery's profile and the report reader, get the block's key as a service account."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from prefect_gcp import GcpCredentials

from flows.errors import VocError
from flows.settings import VocSettings
from flows.warehouse.bigquery import bigquery_credentials, dbt_profile_env
from flows.warehouse.gcp_credentials import gcp_credentials_block, with_gcp_credentials_block

EMAIL = "voc-weekly@voc-test.iam.gserviceaccount.com"


def service_account_key() -> dict[str, Any]:
    """A throwaway service-account key, as the GCP console downloads it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return {
        "type": "service_account",
        "project_id": "voc-test",
        "private_key_id": "test-key",
        "private_key": pem.decode(),
        "client_email": EMAIL,
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }


def prod_settings(**values: str) -> VocSettings:
    base = {"VOC_DBT_TARGET": "prod", "VOC_BQ_PROJECT": "voc-test", "VOC_BQ_DATASET": "voc_weekly"}
    return VocSettings(_env_file=None, **{**base, **values})  # type: ignore[call-arg]


def test_block_key_is_what_dbt_and_the_reader_authenticate_with(prefect_server: None) -> None:
    info = service_account_key()
    GcpCredentials(service_account_info=info).save("voc-weekly-gcp-test", overwrite=True)

    configured = prod_settings(VOC_GCP_CREDENTIALS_BLOCK="voc-weekly-gcp-test")
    with with_gcp_credentials_block(configured) as settings:
        assert settings.bq_auth_method == "service-account" and settings.bq_keyfile is not None
        keyfile = settings.bq_keyfile
        written = json.loads(keyfile.read_text(encoding="utf-8"))
        mode = stat.S_IMODE(keyfile.stat().st_mode)
        profile = dbt_profile_env(settings)  # what dbt-bigquery's profile reads
        reader = bigquery_credentials(settings)  # what open_warehouse's client sends

    assert written == info
    if hasattr(os, "memfd_create"):  # only in this process's memory: no file anyone could open
        assert str(keyfile).startswith("/proc/self/fd/")
    else:
        assert mode == 0o600
    assert profile["VOC_BQ_AUTH_METHOD"] == "service-account"
    assert profile["VOC_BQ_KEYFILE"] == os.path.abspath(keyfile)
    assert reader.service_account_email == EMAIL  # type: ignore[attr-defined]
    # The key does not outlive the run (a descriptor's number may already serve another file).
    if hasattr(os, "memfd_create"):
        assert not keyfile.is_symlink() or "voc-weekly-gcp-key" not in os.readlink(keyfile)
    else:
        assert not keyfile.exists()


def test_no_block_named_leaves_the_workers_credentials_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", "/var/run/secrets/adc.json")
    configured = prod_settings()

    with with_gcp_credentials_block(configured) as settings:
        assert settings is configured and settings.bq_auth_method == "oauth"
        assert os.environ["GOOGLE_APPLICATION_CREDENTIALS"] == "/var/run/secrets/adc.json"


def test_a_missing_block_is_one_line_naming_the_setting(prefect_server: None) -> None:
    with pytest.raises(VocError) as raised, gcp_credentials_block("voc-weekly-gcp-missing"):
        pass

    message = str(raised.value)
    assert message.startswith(
        "VOC_GCP_CREDENTIALS_BLOCK=voc-weekly-gcp-missing: no such GcpCredentials block"
    )
    assert "\n" not in message


# A run that holds the block's key, as the flow does for its whole length, until its stdin closes.
HOLDER = """
import json, os, sys
if sys.argv[1] == "without-memfd":
    del os.memfd_create
from flows.settings import VocSettings
from flows.warehouse.gcp_credentials import with_gcp_credentials_block
with with_gcp_credentials_block(VocSettings(_env_file=None)) as settings:
    key = json.loads(settings.bq_keyfile.read_text(encoding="utf-8"))
    print(key["private_key_id"], flush=True)
    sys.stdin.read()
"""


def keys_on_disk(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file() and b"PRIVATE KEY" in path.read_bytes()]


@pytest.mark.parametrize("memfd", ["with-memfd", "without-memfd"])
def test_a_run_killed_while_it_holds_the_key_leaves_no_key_on_disk(
    prefect_server: None, tmp_path: Path, memfd: str
) -> None:
    from prefect.settings import PREFECT_API_URL

    GcpCredentials(service_account_info=service_account_key()).save("voc-weekly-gcp-kill", overwrite=True)
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {
        **os.environ,
        "TMPDIR": str(temp),
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "VOC_DBT_TARGET": "prod",
        "VOC_BQ_PROJECT": "voc-test",
        "VOC_BQ_DATASET": "voc_weekly",
        "VOC_GCP_CREDENTIALS_BLOCK": "voc-weekly-gcp-kill",
    }

    def start_run() -> subprocess.Popen[str]:
        command = [sys.executable, "-c", HOLDER, memfd]
        run = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
        assert run.stdout is not None and run.stdout.readline().strip() == "test-key"  # it holds the key
        return run

    killed = start_run()
    killed.kill()  # SIGKILL: no finally, no atexit
    killed.wait()
    if memfd == "with-memfd":  # the key lived only in the killed process's memory
        assert keys_on_disk(temp) == []
    # The next run clears whatever a killed run left, and its own key goes when it ends.
    next_run = start_run()
    assert len(keys_on_disk(temp)) <= 1
    next_run.communicate("")
    assert next_run.returncode == 0
    assert keys_on_disk(temp) == []
