"""Errors a user can act on. Their message is one line that says what is wrong and how to fix it."""


class VocError(Exception):
    """A failure caused by input or configuration, reported in one line without a stack trace."""


class SourceError(VocError):
    """The source export is missing, unreadable, or lacks a contract column."""


class WeekError(VocError):
    """The requested week cannot be reported (in the future, or without data)."""


class StaleSourceError(VocError):
    """The source data does not reach the end of the reported week."""


class SlackDeliveryError(VocError):
    """Slack refused a message for a reason retrying cannot fix (channel, membership, token)."""


class DbtError(VocError):
    """A dbt command failed; dbt has printed which model or test and why."""
