"""The `/voc-weekly [week|help] [force]` slash command: ephemeral answers, the report posted in the channel.

Slack waits 3 s for the acknowledgement, so the command is acknowledged (`확인 중…` with the week)
before anything slow: the delivery ledger is read and the report started afterwards, and what
follows goes to the person who asked through the command's response_url (ephemeral too). The report
itself is a new summary in the channel with its own thread, as the weekly schedule posts it.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from flows.errors import one_line
from flows.settings import VocSettings
from flows.slack.mentions import (
    LEDGER_FAILURE_TEXT,
    ReportRequest,
    StartReport,
    already_delivered_text,
    ask_key,
    delivered_summary,
    not_ended_text,
    refusal_text,
    requested_week,
    started,
    who_to_ask,
)
from flows.weeks import WeekTextError, WeekTooOldError, has_ended, week_range_text

logger = logging.getLogger(__name__)

COMMAND = "/voc-weekly"
FORCE = "force"
HELP_WORDS = {"help", "도움말"}
HELP_TEXT = (
    f"*{COMMAND}* : 주간 VOC 변화 리포트를 이 채널에 올립니다.\n"
    f"• `{COMMAND}` 가장 최근에 끝난 주\n"
    f"• `{COMMAND} 지난주`, `{COMMAND} 2주 전`, `{COMMAND} 2026-11-16`, `{COMMAND} 11/16` 그 주\n"
    f"• `{COMMAND} help` 이 도움말\n"
    f"이미 이 채널에 올라간 주는 그 리포트의 링크로 답합니다 (관리자는 `{FORCE}` 를 붙이면 다시 올립니다)."
)
BAD_WEEK_TEXT = (
    f":information_source: 어느 주인지 알 수 없습니다. 예: `{COMMAND} 2026-11-16`, `{COMMAND} 지난주`, "
    f"`{COMMAND} 2주 전` (`{COMMAND} help`)"
)
FORCE_REFUSAL_TEXT = f":no_entry_sign: `{FORCE}` (이미 올린 주를 다시 올리기)는 관리자만 쓸 수 있습니다."


def register(app: App, settings: VocSettings, *, start: StartReport) -> None:
    """`/voc-weekly` goes to `handle_command`."""

    @app.command(COMMAND)
    def on_command(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        handle_command(command, ack, respond, client, settings, start=start)


def handle_command(
    command: dict[str, Any],
    ack: Ack,
    respond: Respond,
    client: WebClient,
    settings: VocSettings,
    *,
    start: StartReport,
    now: datetime | None = None,
) -> None:
    """Acknowledge `/voc-weekly` at once (ephemeral), then link the week's report or start it."""
    channel, user = str(command.get("channel_id") or ""), str(command.get("user_id") or "")
    words = str(command.get("text") or "").split()
    force = any(word.lower() == FORCE for word in words)
    text = " ".join(word for word in words if word.lower() != FORCE)
    now = now or datetime.now(UTC)
    if text.lower() in HELP_WORDS:
        ack(text=HELP_TEXT, response_type="ephemeral")
        return
    if channel not in settings.allowed_bot_channels:
        logger.info("%s in %s refused: not an allowed channel (VOC_BOT_ALLOWED_CHANNELS)", COMMAND, channel)
        ack(text=refusal_text(settings), response_type="ephemeral")
        return
    try:
        week = requested_week(text, now, settings.max_weeks_back)
    except WeekTooOldError as exc:  # older than VOC_MAX_WEEKS_BACK
        ack(text=exc.slack_text, response_type="ephemeral")
        return
    except WeekTextError:
        ack(text=BAD_WEEK_TEXT, response_type="ephemeral")
        return
    if not has_ended(week, now):
        ack(text=not_ended_text(week, now), response_type="ephemeral")
        return
    if force and user not in settings.bot_admins:
        logger.info("%s %s by %s refused: not in VOC_BOT_ADMINS", COMMAND, FORCE, user)
        ack(text=f"{FORCE_REFUSAL_TEXT} {who_to_ask(settings)}", response_type="ephemeral")
        return
    ack(text=checking_text(week, force), response_type="ephemeral")

    def say(text: str) -> str | None:
        _respond(respond, text, channel)
        return None

    request = ReportRequest(
        channel, week, ask_key("command", channel, str(command["trigger_id"])), force=force
    )
    if not force:
        try:
            delivered = delivered_summary(client, channel, week)
        except Exception as exc:  # an unreadable ledger is not an empty one: nothing may be posted twice
            logger.warning("Could not read the delivery ledger of %s: %s", channel, one_line(exc))
            say(LEDGER_FAILURE_TEXT)
            return
        if delivered is not None:
            admin_hint = (
                f" 다시 올리려면 `{COMMAND} {week.isoformat()} {FORCE}`"
                if user in settings.bot_admins
                else ""
            )
            say(already_delivered_text(week, delivered) + admin_hint)
            return
    if started(settings, request, start, say):
        say(started_text(week))


def checking_text(week: date, force: bool) -> str:
    """The acknowledgement: the week understood, before anything is looked up."""
    again = " (다시 올리기)" if force else ""
    return f":hourglass_flowing_sand: 확인 중… {week_range_text(week)} 주 VOC 리포트{again}"


def started_text(week: date) -> str:
    """What the person who asked hears once the run exists; the report (or why not) comes to the channel."""
    return (
        f":rocket: {week_range_text(week)} 주 리포트를 시작했습니다. 몇 분 뒤 이 채널에 올라옵니다 "
        "(실패하면 그 이유가 이 채널에 올라옵니다)."
    )


def _respond(respond: Respond, text: str, channel: str) -> None:
    """One ephemeral answer through the command's response_url; a failure is logged, not raised."""
    try:
        response = respond(text=text, response_type="ephemeral")
    except Exception as exc:  # unreachable or expired: the bot keeps serving others
        logger.warning("Could not answer %s in %s: %s", COMMAND, channel, one_line(exc))
        return
    if response.status_code != 200:
        logger.warning("Could not answer %s in %s: HTTP %s", COMMAND, channel, response.status_code)
