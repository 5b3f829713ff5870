"""The channel lock on the session's Prefect test server, which runs no service that frees expired
leases (tests/conftest.py turns the repossessor off), as Prefect's temporary server does not."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from uuid import uuid4

import pytest
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL
from typer.testing import CliRunner

from flows.cli import app
from flows.errors import VocError
from flows.slack.lock import (
    LEASE_SECONDS,
    ChannelLock,
    Holder,
    LockLostError,
    Machine,
    channel_lock,
    limit_name,
    process_start,
    read_holder,
)

HOLD = """
import sys, time
from flows.slack.lock import channel_lock
with channel_lock(sys.argv[1], timeout=30):
    print("held", flush=True)
    time.sleep(600)
"""


def a_channel() -> str:
    """A channel no other test (nor an earlier run on this server) has locked."""
    return f"C0{uuid4().hex[:10].upper()}"


def test_a_run_waiting_for_another_delivery_to_the_channel_gives_up_in_one_line_naming_the_holder(
    prefect_server: None,
) -> None:
    channel = a_channel()
    with channel_lock(channel, timeout=5):
        with pytest.raises(
            VocError, match=f"^another run is delivering to Slack channel {channel} "
        ) as error:
            with channel_lock(channel, timeout=1):
                pytest.fail("two deliveries to one channel at once")
    message = str(error.value)
    assert f"on {socket.gethostname()}, pid {os.getpid()}, since " in message and "\n" not in message
    assert "VOC_DELIVERY_LOCK_TIMEOUT_SECONDS" in message
    assert message.endswith(f"`voc-weekly unlock --channel {channel}` frees it")
    with channel_lock(channel, timeout=5):  # released: the next delivery goes ahead
        pass


def test_regression_a_holder_killed_with_sigkill_frees_the_channel_for_the_next_run(
    prefect_server: None,
) -> None:
    """kill -9 (or the OOM killer) runs no cleanup: the next run frees the slot of a holder that is
    gone instead of waiting VOC_DELIVERY_LOCK_TIMEOUT_SECONDS for a service that does not run."""
    channel = a_channel()
    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, channel], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with get_client(sync_client=True) as client:
            recorded = read_holder(client, channel)
        assert recorded is not None and recorded.pid == holder.pid
    finally:
        holder.kill()
        holder.wait(timeout=30)
    with channel_lock(channel, timeout=20):  # acquired well before its lease would have run out
        with get_client(sync_client=True) as client:
            assert read_holder(client, channel).pid == os.getpid()  # type: ignore[union-attr]


def holder(**changes: object) -> Holder:
    """A record of a holder on this machine, this process, renewed just now."""
    machine, now = Machine.here(), time.time()
    values: dict[str, object] = {
        "lease_id": str(uuid4()),
        "flow_run_id": None,
        "flow_run_name": None,
        "host": machine.host,
        "pid_namespace": machine.pid_namespace,
        "pid": os.getpid(),
        "process_started": process_start(os.getpid()),
        "since": now,
        "renewed_at": now,
        "lease_seconds": LEASE_SECONDS,
    }
    return Holder(**{**values, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "gone"),
    [
        pytest.param({}, False, id="this-process"),
        pytest.param({"process_started": -1}, True, id="pid-reused-by-another-process"),
        pytest.param({"pid": 2**22 + 1}, True, id="process-no-longer-exists"),
        pytest.param({"host": "elsewhere", "pid": 2**22 + 1}, False, id="other-machine-renewing"),
        pytest.param({"pid_namespace": "other-container", "pid": 2**22 + 1}, False, id="other-pid-namespace"),
        pytest.param(
            {"host": "elsewhere", "renewed_at": time.time() - LEASE_SECONDS - 60}, True, id="lease-lapsed"
        ),
    ],
)
def test_a_holder_is_gone_when_its_process_is_or_its_lease_lapsed(
    changes: dict[str, object], gone: bool
) -> None:
    if Machine.here().pid_namespace is None:
        pytest.skip("process identity is read from /proc (Linux)")
    assert holder(**changes).is_gone(time.time(), Machine.here()) is gone


def unlock(channel: str) -> str:
    result = CliRunner().invoke(app, ["unlock", "--channel", channel])
    assert result.exit_code == 0, result.output
    return " ".join(result.stdout.split())


def test_unlock_frees_a_held_channel_says_who_held_it_and_the_holder_stops_before_its_next_message(
    prefect_server: None,
) -> None:
    channel = a_channel()
    assert unlock(channel) == f"Slack channel {channel} has never been locked: nothing to free"
    with ChannelLock(channel, timeout=5, renew_every=0.2).held() as held:
        said = unlock(channel)
        assert re.fullmatch(
            rf"freed Slack channel {channel}, held by a process on {re.escape(socket.gethostname())}, "
            rf"pid {os.getpid()}, since .+ UTC, lease last renewed .+ UTC; that run was still renewing its "
            r"lease: it stops before its next message",
            said,
        ), said
        with channel_lock(channel, timeout=1):  # free at once
            pass
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not held._lost:
            time.sleep(0.1)
        with pytest.raises(LockLostError, match=f"^stopped delivering to Slack channel {channel}: its lease"):
            held.check()
    assert unlock(channel) == f"Slack channel {channel} is not locked: nothing to free"


def test_unlock_frees_a_slot_no_record_accounts_for(prefect_server: None) -> None:
    """A slot taken by an earlier version, or whose lease a restarted server forgot: no waiting run can
    tell whether its holder is gone, so a person frees it."""
    channel = a_channel()
    with channel_lock(channel, timeout=5):
        pass  # the limit exists
    with get_client(sync_client=True) as client:
        client.increment_concurrency_slots_with_lease(
            names=[limit_name(channel)], slots=1, mode="concurrency", lease_duration=300
        )
    with pytest.raises(VocError, match="a run that left no record"):
        with channel_lock(channel, timeout=1):
            pass
    assert unlock(channel) == (
        f"freed Slack channel {channel}: its holder left no record (an earlier version, a lost lease)"
    )
    with channel_lock(channel, timeout=1):
        pass


def test_unlock_without_a_prefect_api_is_one_line_naming_the_setting() -> None:
    from prefect.settings import PREFECT_CLIENT_MAX_RETRIES, temporary_settings

    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:9/api", PREFECT_CLIENT_MAX_RETRIES: 0}):
        result = CliRunner().invoke(app, ["unlock", "--channel", "C0NOWHERE"])
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: the Prefect API did not answer (ConnectError")
    assert "check PREFECT_API_URL" in line
