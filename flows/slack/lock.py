"""One delivery per Slack channel at a time, on any worker, that a dead holder cannot block for long.

The lock is a one-slot Prefect global concurrency limit (`voc-weekly-delivery-<channel>`) taken with a
lease. Beside it the holder keeps a record of itself in a Prefect variable (flow run, host, pid, since
when, when it last renewed), so that:

- a waiting run frees the slot of a holder that is gone, through the Prefect API, without waiting for
  a server service that may not run (Prefect's temporary server has none): at once when the holder was
  a process on the same machine that no longer exists, else once its lease has not been renewed for
  `LEASE_SECONDS` (freeing a lease is idempotent: two waiting runs free it once);
- `voc-weekly unlock --channel C` frees the rest by hand, saying who held it.

The lease is renewed every `RENEW_EVERY_SECONDS`, so a Prefect API outage shorter than the lease costs
nothing. A holder that could not renew in time (or whose lease was revoked) is not cancelled at an
arbitrary instruction: it stops at the next safe point, between two Slack messages (`check`).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

from flows.errors import VocError
from flows.logs import run_logger
from flows.slack.ledger import safe_name

if TYPE_CHECKING:
    from prefect.client.orchestration import SyncPrefectClient

LEASE_SECONDS = 300.0  # a holder that stopped renewing keeps the slot at most this long (+ grace)
RENEW_EVERY_SECONDS = 30.0  # so an outage of up to ~4 minutes costs the holder nothing
EXPIRY_GRACE_SECONDS = 30.0  # clocks of the holder's and the waiter's machines may differ a little
POLL_SECONDS = 2.0  # how often a waiting run asks again
LOST_SLACK_TEXT = "다른 실행과 겹치지 않도록 잡아 둔 채널 잠금을 잃어 전송을 멈췄습니다. 다시 실행해 주세요."


def limit_name(channel: str) -> str:
    """The global concurrency limit of a channel's deliveries."""
    return f"voc-weekly-delivery-{safe_name(channel)}"


def record_name(channel: str) -> str:
    """The Prefect variable naming the holder (variable names are lowercase letters, digits, - and _)."""
    return f"voc-weekly-delivery-{safe_name(channel).lower().replace('.', '_')}"


@dataclass(frozen=True)
class Machine:
    """Where a process runs: its host and, on Linux, the boot and PID namespace its pid belongs to."""

    host: str
    pid_namespace: str | None

    @classmethod
    def here(cls) -> Machine:
        try:
            boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
            namespace: str | None = f"{boot}:{os.stat('/proc/self/ns/pid').st_ino}"
        except OSError:
            namespace = None
        return cls(socket.gethostname(), namespace)


def process_start(pid: int) -> int | None:
    """When process `pid` started (clock ticks since boot, Linux), None if it is gone or a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] == "Z" else int(fields[19])


def process_exists(pid: int, started: int | None) -> bool:
    """Whether the process `pid` that started at `started` still runs on this machine (not a reused pid)."""
    if Path("/proc/self/stat").exists():
        return started is not None and process_start(pid) == started
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class Holder:
    """Who holds a channel's slot, as its record says."""

    lease_id: str
    flow_run_id: str | None
    flow_run_name: str | None
    host: str
    pid_namespace: str | None
    pid: int
    process_started: int | None
    since: float
    renewed_at: float
    lease_seconds: float

    @classmethod
    def from_record(cls, value: Any) -> Holder | None:
        """The holder a variable's value describes; None for a value this tool did not write."""
        try:
            return cls(**value)
        except TypeError:
            return None

    def describe(self) -> str:
        """One line: which run, where, since when."""
        run = f"flow run {self.flow_run_name} ({self.flow_run_id})" if self.flow_run_id else "a process"
        return f"{run} on {self.host}, pid {self.pid}, since {_utc(self.since)}"

    def is_gone(self, now: float, machine: Machine) -> bool:
        """Its lease was not renewed in time, or it was a process on this machine that no longer runs."""
        if now > self.renewed_at + self.lease_seconds + EXPIRY_GRACE_SECONDS:
            return True
        same_machine = machine.pid_namespace is not None and (self.host, self.pid_namespace) == (
            machine.host,
            machine.pid_namespace,
        )
        return same_machine and not process_exists(self.pid, self.process_started)


def _utc(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class LockLostError(VocError):
    """The holder could not renew its lease in time, or it was revoked: it stops before the next message."""


class ChannelLock:
    """A channel's delivery slot: `held()` waits for it (freeing a dead holder's), renews it, records it."""

    def __init__(
        self,
        channel: str,
        timeout: float,
        *,
        lease_seconds: float = LEASE_SECONDS,
        renew_every: float = RENEW_EVERY_SECONDS,
    ) -> None:
        self.channel = channel
        self.timeout = timeout
        self.lease_seconds = lease_seconds
        self.renew_every = renew_every
        self.name = limit_name(channel)
        self.variable = record_name(channel)
        self._holder: Holder | None = None
        self._lost: str | None = None
        self._stop = threading.Event()

    def check(self) -> None:
        """Raise LockLostError if the slot may no longer be ours: called between two Slack messages."""
        if self._lost:
            raise LockLostError(
                f"stopped delivering to Slack channel {self.channel}: {self._lost}; run again to "
                "deliver the rest (nothing is posted twice)",
                slack_text=LOST_SLACK_TEXT,
            )

    @contextmanager
    def held(self) -> Iterator[ChannelLock]:
        """Hold the slot for the block: wait for it, keep its lease, release it at the end."""
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            holder = self._acquire(client)
        self._holder = holder
        renewing = threading.Thread(
            target=contextvars.copy_context().run,  # the caller's Prefect settings (API, profile)
            args=(self._keep_renewing, holder),
            name=f"renew-{self.name}",
            daemon=True,
        )
        renewing.start()
        try:
            yield self
        finally:
            self._stop.set()
            renewing.join(timeout=5)
            with get_client(sync_client=True) as client:
                self._release(client, holder)

    def _acquire(self, client: SyncPrefectClient) -> Holder:
        create_limit(client, self.name)
        deadline = time.monotonic() + self.timeout
        revoked: set[str] = set()  # leases of gone holders this run freed (the server may not know one)
        while True:
            if (lease_id := self._try_lease(client)) is not None:
                return self._write_record(client, lease_id)
            holder = read_holder(client, self.channel)
            gone = holder is not None and holder.is_gone(time.time(), Machine.here())
            if holder is not None and gone and holder.lease_id not in revoked:
                run_logger(__name__).warning(
                    "Slack channel %s: freeing the delivery slot of %s, which is gone (lease last "
                    "renewed %s)",
                    self.channel,
                    holder.describe(),
                    _utc(holder.renewed_at),
                )
                client.release_concurrency_slots_with_lease(UUID(holder.lease_id))
                revoked.add(holder.lease_id)
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if holder is None:
                    who = "a run that left no record"
                elif gone:  # freed, but the server had no such lease (restarted with in-memory leases)
                    who = f"{holder.describe()}, which is gone but whose lease the Prefect server lost"
                else:
                    who = holder.describe()
                raise VocError(
                    f"another run is delivering to Slack channel {self.channel} ({who}): gave up after "
                    f"{self.timeout:g} s (VOC_DELIVERY_LOCK_TIMEOUT_SECONDS); if no run is delivering "
                    f"there, `voc-weekly unlock --channel {self.channel}` frees it"
                )
            time.sleep(min(POLL_SECONDS, remaining))

    def _try_lease(self, client: SyncPrefectClient) -> UUID | None:
        """Take the slot with a lease, or None while another holds it (HTTP 423)."""
        import httpx
        from prefect.client.schemas.objects import ConcurrencyLeaseHolder

        run_id = _flow_run()[0]
        holder = ConcurrencyLeaseHolder(type="flow_run", id=UUID(run_id)) if run_id else None
        try:
            response = client.increment_concurrency_slots_with_lease(
                names=[self.name],
                slots=1,
                mode="concurrency",
                lease_duration=self.lease_seconds,
                holder=holder,
            )
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code == 423:
                return None
            raise
        return UUID(response.json()["lease_id"])

    def _write_record(self, client: SyncPrefectClient, lease_id: UUID) -> Holder:
        machine, now = Machine.here(), time.time()
        run_id, run_name = _flow_run()
        holder = Holder(
            lease_id=str(lease_id),
            flow_run_id=run_id,
            flow_run_name=run_name,
            host=machine.host,
            pid_namespace=machine.pid_namespace,
            pid=os.getpid(),
            process_started=process_start(os.getpid()),
            since=now,
            renewed_at=now,
            lease_seconds=self.lease_seconds,
        )
        save_holder(client, self.channel, holder)
        return holder

    def _keep_renewing(self, holder: Holder) -> None:
        """Renew the lease and the record's renewed_at; mark the lock lost when that fails for too long."""
        import httpx
        from prefect.client.orchestration import get_client

        renewed = holder.renewed_at
        with get_client(sync_client=True) as client:
            while not self._stop.wait(self.renew_every):
                try:
                    client.renew_concurrency_lease(UUID(holder.lease_id), self.lease_seconds)
                    holder = _replace(holder, renewed_at=time.time())
                    save_holder(client, self.channel, holder)
                    renewed = holder.renewed_at
                except httpx.HTTPStatusError as exc:
                    if exc.response.status_code in (404, 410):  # revoked (voc-weekly unlock, a waiter)
                        self._lost = "its lease on the channel was revoked"
                        return
                    self._warn("Renewing", exc)
                except Exception as exc:  # an outage: the lease outlives a short one
                    self._warn("Renewing", exc)
                if time.time() - renewed > self.lease_seconds - self.renew_every:
                    self._lost = f"its lease could not be renewed for {time.time() - renewed:.0f} s"
                    return

    def _release(self, client: SyncPrefectClient, holder: Holder) -> None:
        try:
            client.release_concurrency_slots_with_lease(UUID(holder.lease_id))
            current = read_holder(client, self.channel)
            if current is not None and current.lease_id == holder.lease_id:
                client.delete_variable_by_name(self.variable)
        except Exception as exc:  # the lease runs out on its own, and waiting runs free it
            self._warn("Releasing", exc)

    def _warn(self, doing: str, error: Exception) -> None:
        run_logger(__name__).warning("%s the lock on Slack channel %s failed: %s", doing, self.channel, error)


def create_limit(client: SyncPrefectClient, name: str) -> None:
    """Create the one-slot limit unless it exists: Prefect lets every run through a missing limit."""
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    try:  # read first: a refused create makes the server log a database error
        client.read_global_concurrency_limit_by_name(name)
    except ObjectNotFound:
        try:
            client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))
        except ObjectAlreadyExists:
            pass  # the run we are racing made it


def _replace(holder: Holder, **changes: Any) -> Holder:
    return Holder(**{**asdict(holder), **changes})


def _flow_run() -> tuple[str | None, str | None]:
    """The current flow run's id and name, if any."""
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        return None, None
    return str(context.flow_run.id), context.flow_run.name


def read_holder(client: SyncPrefectClient, channel: str) -> Holder | None:
    """The channel's holder as recorded, if any."""
    variable = client.read_variable_by_name(record_name(channel))
    return Holder.from_record(variable.value) if variable is not None else None


def save_holder(client: SyncPrefectClient, channel: str, holder: Holder) -> None:
    """Record `holder` in the channel's variable (created on first use)."""
    import httpx
    from prefect.client.schemas.actions import VariableCreate, VariableUpdate
    from prefect.exceptions import ObjectAlreadyExists

    name, value = record_name(channel), json.loads(json.dumps(asdict(holder)))
    try:  # update first: a refused create makes the server log a database error
        client.update_variable(VariableUpdate(name=name, value=value))
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code != 404:
            raise
        try:
            client.create_variable(VariableCreate(name=name, value=value))
        except ObjectAlreadyExists:  # another run's record, made just now
            client.update_variable(VariableUpdate(name=name, value=value))


@contextmanager
def channel_lock(channel: str, timeout: float) -> Iterator[ChannelLock]:
    """Hold the channel's delivery slot: one delivery at a time, on any worker."""
    with ChannelLock(channel, timeout).held() as lock:
        yield lock


def unlock(channel: str) -> str:
    """Free a channel's slot by hand (`voc-weekly unlock`); one line saying who held it."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate
    from prefect.exceptions import ObjectNotFound

    name = limit_name(channel)
    with get_client(sync_client=True) as client:
        try:
            limit = client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            return f"Slack channel {channel} has never been locked: nothing to free"
        holder = read_holder(client, channel)
        if holder is None and limit.active_slots == 0:
            return f"Slack channel {channel} is not locked: nothing to free"
        if holder is not None:
            client.release_concurrency_slots_with_lease(UUID(holder.lease_id))
            with contextlib.suppress(ObjectNotFound):  # a run that just released it forgot it first
                client.delete_variable_by_name(record_name(channel))
        if client.read_global_concurrency_limit_by_name(name).active_slots > 0:
            # A slot no lease accounts for: a server that lost its leases (restarted, in-memory
            # lease storage) or a holder of an earlier version. A person asked: empty it.
            client.update_global_concurrency_limit(name, GlobalConcurrencyLimitUpdate(active_slots=0))
    if holder is None:
        return f"freed Slack channel {channel}: its holder left no record (an earlier version, a lost lease)"
    alive = time.time() <= holder.renewed_at + holder.lease_seconds
    note = "; that run was still renewing its lease: it stops before its next message" if alive else ""
    renewed = _utc(holder.renewed_at)
    return f"freed Slack channel {channel}, held by {holder.describe()}, lease last renewed {renewed}{note}"
