"""Reading the team's feedback from Slack: the reactions on the thread replies of earlier reports.

The delivery ledger knows which message is which category's reply (its `complete` entry holds the
report's categories, and each reply's ts is recorded under `reply_key`), so one conversations.replies
call per reported week finds every reply with its reactions. Slack may list only the first users of a
reaction; then reactions.get (full) names them all.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from flows.feedback import FeedbackRow, feedback_reaction
from flows.report import CategoryKey
from flows.slack.ledger import COMPLETE_KEY, DeliveryLedger
from flows.slack.messages import SUMMARY_KEY, reply_key

REPLY_PAGES = 10  # of 200 messages: a report's thread is its summary and one reply (or a few) a category
MAX_REPLY_MESSAGES = 20  # pages of one category's reply looked up in the ledger (a long analysis splits)


class FeedbackReadError(Exception):
    """Slack would not give the reactions; the message is one short line (no token, no body)."""


def read_reactions(
    client: WebClient, channel: str, weeks: list[date], now: datetime | None = None
) -> tuple[list[FeedbackRow], list[date]]:
    """The team's feedback on the channel's reports of `weeks`, and the weeks it could read.

    A week counts when the ledger holds its report complete (the weeks without one keep what the
    warehouse has). The bot's own reactions and reactions that are not feedback are left out.
    """
    read_at = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    try:
        bot_user = str(client.auth_test()["user_id"])
        rows: list[FeedbackRow] = []
        read_weeks: list[date] = []
        for week in weeks:
            ledger = DeliveryLedger(channel, None, week)
            replies = reply_messages(ledger)
            summary_ts = ledger.posted_ts(SUMMARY_KEY)
            if replies is None or summary_ts is None:
                continue  # never delivered complete to this channel: nothing to read
            for message in thread_messages(client, channel, summary_ts):
                category = replies.get(str(message.get("ts")))
                if category is not None:
                    rows += feedback_rows(client, channel, week, category, message, bot_user, read_at)
            read_weeks.append(week)
    except SlackApiError as exc:
        raise FeedbackReadError(_slack_reason(exc)) from None
    except (URLError, OSError) as exc:
        raise FeedbackReadError(f"cannot reach the Slack API ({type(exc).__name__})") from None
    return rows, read_weeks


def reply_messages(ledger: DeliveryLedger) -> dict[str, CategoryKey] | None:
    """The ts of every reply message of the ledger's report → its category; None without a complete report."""
    report = ledger.get(COMPLETE_KEY)
    if not isinstance(report, dict):
        return None
    replies: dict[str, CategoryKey] = {}
    for row in report.get("categories") or []:
        category: CategoryKey = (str(row["category1"]), str(row["category2"]), str(row["category3"]))
        for page in range(1, MAX_REPLY_MESSAGES + 1):
            ts = ledger.posted_ts(reply_key(category, page))
            if ts is None:
                break
            replies[ts] = category
    return replies


def thread_messages(client: WebClient, channel: str, thread_ts: str) -> Iterator[dict[str, Any]]:
    """Every message of a report's thread, reactions included (a bounded number of pages)."""
    pages = client.conversations_replies(channel=channel, ts=thread_ts, limit=200)
    for page in itertools.islice(pages, REPLY_PAGES):
        yield from page.get("messages") or []


def feedback_rows(
    client: WebClient,
    channel: str,
    week: date,
    category: CategoryKey,
    message: dict[str, Any],
    bot_user: str,
    read_at: datetime,
) -> list[FeedbackRow]:
    """One row per feedback reaction and person on one reply message."""
    reactions = message.get("reactions") or []
    if any(len(r.get("users") or []) < int(r.get("count") or 0) for r in reactions):
        # Slack listed only some of the people: ask for the message's reactions in full.
        full = client.reactions_get(channel=channel, timestamp=message["ts"], full=True)
        reactions = (full.get("message") or {}).get("reactions") or []
    rows = []
    for reaction in reactions:
        name = feedback_reaction(str(reaction.get("name", "")))
        if name is None:
            continue
        for user in (str(user) for user in reaction.get("users") or []):
            if user == bot_user:
                continue
            rows.append(
                FeedbackRow(
                    report_week_start=week,
                    category1=category[0],
                    category2=category[1],
                    category3=category[2],
                    reaction=name,
                    user_id=user,
                    message_ts=str(message["ts"]),
                    read_at=read_at,
                )
            )
    return list(dict.fromkeys(rows))  # 👍 in two skin tones is one 👍


def _slack_reason(exc: SlackApiError) -> str:
    """'missing_scope (needs reactions:read)', 'HTTP 503', ...: what Slack said, in a few words."""
    status = exc.response.status_code
    if status >= 500 or status == 429:
        return f"HTTP {status}"
    error = str(exc.response.get("error") or f"HTTP {status}")
    needed = exc.response.get("needed")
    return f"{error} (needs {needed})" if error == "missing_scope" and needed else error
