"""Errors a user can act on. Their message is one line that says what is wrong and how to fix it."""

from __future__ import annotations

import logging
import traceback

GENERIC_SLACK_TEXT = "실행 중 오류가 났습니다. 실행 기록(Prefect 로그)에서 원인을 확인해 주세요."
show_tracebacks = False  # `voc-weekly --debug`: keep every stack trace


class VocError(Exception):
    """A failure caused by input or configuration, reported in one line without a stack trace.

    `slack_text` is the same fact in Korean, for the failure notice in the channel (the CLI line and
    the logs stay English).
    """

    def __init__(self, message: str, *, slack_text: str | None = None) -> None:
        super().__init__(message)
        self.slack_text = slack_text or GENERIC_SLACK_TEXT


class SettingsError(VocError):
    """A setting (environment variable or `.env` entry) has a value the tool cannot use."""


class SourceError(VocError):
    """The source export is missing, unreadable, or lacks a contract column."""


class WeekError(VocError):
    """The requested week cannot be reported (not a date, in the future, or without data)."""


class StaleSourceError(VocError):
    """The source data does not reach the end of the reported week."""


class SlackDeliveryError(VocError):
    """Slack refused a message for a reason retrying cannot fix (channel, membership, token)."""


class DbtError(VocError):
    """A dbt model or test failed; the message names the first one and its first error line."""


class WarehouseLockedError(DbtError):
    """Another process holds the DuckDB warehouse file open for writing."""


class OutDirError(VocError):
    """The dry-run folder holds files this tool did not write, or cannot be written."""


def one_line(error: BaseException) -> str:
    """The error's type and the first line of its message, for a log line or a CLI error."""
    first = (str(error).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {first[:200]}"


class HideUserErrorTracebacks(logging.Filter):
    """Keep Prefect's run logs to one line for errors a user can fix.

    A task that raises a VocError, a dbt node that failed, and dbt's own stack-trace event all
    repeat a message that is already logged in one line; their stack traces help nobody but a
    developer, who can ask for them (`voc-weekly --debug`, or PREFECT_LOGGING_LEVEL=DEBUG).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if show_tracebacks:
            return True
        if isinstance(record.msg, str) and record.msg.startswith("Traceback (most recent call last)"):
            return False  # dbt's MainStackTrace event, after its one-line MainEncounteredError
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, VocError) or _is_dbt_node_failure(error):
            record.exc_info = None
            record.exc_text = None
        return True


def _is_dbt_node_failure(error: BaseException | None) -> bool:
    """prefect-dbt fails a node's task with a bare Exception; dbt has logged why already."""
    if error is None or error.__traceback__ is None:
        return False
    return traceback.extract_tb(error.__traceback__)[-1].name == "execute_dbt_node"


def hide_user_error_tracebacks() -> None:
    """Install the filter on Prefect's run loggers (once), unless the user asked for debug logs."""
    for name in ("prefect.flow_runs", "prefect.task_runs"):
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() <= logging.DEBUG:
            continue
        if not any(isinstance(f, HideUserErrorTracebacks) for f in logger.filters):
            logger.addFilter(HideUserErrorTracebacks())
