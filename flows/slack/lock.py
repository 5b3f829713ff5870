"""One delivery per Slack channel at a time, on any worker: a one-slot Prefect global concurrency limit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flows.errors import VocError
from flows.slack.ledger import safe_name

LOCK_LEASE_SECONDS = 60  # a crashed holder's slot is freed this long after its last renewal


@contextmanager
def channel_lock(channel: str, timeout: float) -> Iterator[None]:
    """Hold the channel's one-slot Prefect global concurrency limit: one delivery at a time, any worker."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.concurrency.sync import concurrency
    from prefect.exceptions import ObjectAlreadyExists

    name = f"voc-weekly-delivery-{safe_name(channel)}"
    with get_client(sync_client=True) as client:
        try:  # Prefect does not create a missing limit: it would let every run through
            client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))
        except ObjectAlreadyExists:
            pass  # an earlier run's, or the one we are racing
    acquired = False
    try:
        with concurrency(
            name, occupy=1, timeout_seconds=timeout, strict=True, lease_duration=LOCK_LEASE_SECONDS
        ):
            acquired = True
            yield
    except TimeoutError:
        if acquired:
            raise
        raise VocError(
            f"another run is delivering to Slack channel {channel}: gave up after "
            f"{timeout:g} s (VOC_DELIVERY_LOCK_TIMEOUT_SECONDS)"
        ) from None
