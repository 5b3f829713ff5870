"""Where a module logs: the Prefect run logger inside a flow or task run (shown in the UI), else its own."""

from __future__ import annotations

import logging


def run_logger(name: str) -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    """The current run's logger, or the logger `name` outside a run (the CLI, the bot, tests)."""
    from prefect.exceptions import MissingContextError
    from prefect.logging import get_run_logger

    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger(name)
