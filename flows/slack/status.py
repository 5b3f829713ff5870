"""What a run says in Slack when it ends: the mention's ⏳ message edited to the outcome, and the failure
notice of a run that failed unexpectedly or crashed.

The flow edits the ⏳ message (`status_ts`) itself when it finishes. The flow's `on_failure` and
`on_crashed` hooks (`say_run_failed`) cover every other end: a run that raised anything but a
VocError (a BigQuery Forbidden, a 5xx after retries, a bug) or crashed (SIGTERM, a lost worker)
posts the generic Korean notice, once, and the ⏳ message says it failed and where to look. A
VocError is explained by the flow itself (`explained`), which already said it where it could.
Neither ever shows a stack trace or a secret.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from flows.errors import GENERIC_SLACK_TEXT, VocError, one_line
from flows.logs import run_logger
from flows.slack import mrkdwn
from flows.slack.messages import failure_notice

if TYPE_CHECKING:
    from prefect import Flow
    from prefect.client.schemas.objects import FlowRun
    from prefect.states import State

HOOK_MAX_WAIT_SECONDS = 60.0  # a failure hook gives Slack's rate limits this long, not the run's cap
_explained: dict[UUID, str] = {}  # flow runs whose failure the flow said itself → the Korean reason


def done_text(link: str | None) -> str:
    return ":white_check_mark: 주간 VOC 리포트를 올렸습니다." + _link(link)


def already_posted_text(link: str | None) -> str:
    return ":information_source: 이 주의 리포트는 이미 올라가 있어 새로 올리지 않았습니다." + _link(link)


def quiet_week_text() -> str:
    return ":white_check_mark: 눈에 띄는 변화가 없어 리포트를 올리지 않았습니다 (VOC_POST_QUIET_WEEKS=false)."


def failed_text(reason: str, run_name: str, run_id: UUID) -> str:
    """One line: what failed, and the flow run whose log says more."""
    return (
        f":x: 리포트를 만들지 못했습니다: {mrkdwn.escape(reason)} "
        f"(실행 기록: Prefect flow run `{mrkdwn.escape(run_name)}`, ID `{run_id}`)"
    )


def _link(permalink: str | None) -> str:
    return f" <{permalink}|요약 보기>" if permalink else ""


def permalink(client: WebClient, channel: str, ts: str | None) -> str | None:
    """The link to a message (chat.getPermalink), or None when there is none to give."""
    if ts is None:
        return None
    try:
        return str(client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"])
    except (SlackClientError, OSError) as exc:
        run_logger(__name__).warning("No link to message %s in %s: %s", ts, channel, _why(exc))
        return None


def update_status(client: WebClient, channel: str, status_ts: str, text: str) -> None:
    """Edit the ⏳ message (chat.update); the outcome stands even if the edit fails, so that is logged."""
    try:
        client.chat_update(channel=channel, ts=status_ts, text=text)
    except (SlackClientError, OSError) as exc:
        run_logger(__name__).warning("Could not update message %s in %s: %s", status_ts, channel, _why(exc))


def _why(error: BaseException) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error", "unknown_error"))
    return one_line(error)


def explained(run_id: str | None, slack_text: str) -> None:
    """The flow run failed with a VocError it explained: the hooks add no notice, only the ⏳ edit."""
    if run_id is not None:
        _explained[UUID(run_id)] = slack_text


def say_run_failed(flow: Flow[Any, Any], flow_run: FlowRun, state: State[Any]) -> None:
    """`on_failure` / `on_crashed` hook: say in the run's channel (or thread) that it failed, once."""
    reason = _explained.pop(flow_run.id, None)
    try:
        _say_failed(flow_run, reason)
    except Exception as exc:  # a hook's own failure is one line in the run log, never a traceback
        run_logger(__name__).warning("Could not say in Slack that the run failed: %s", one_line(exc))


def _say_failed(flow_run: FlowRun, reason: str | None) -> None:
    from flows.settings import VocSettings
    from flows.slack.client import post_message, slack_client, slack_token

    parameters = flow_run.parameters
    if str(parameters.get("dry_run")).lower() == "true":
        return
    try:
        settings = VocSettings()
        token = slack_token(settings)
    except VocError:
        return  # a run that cannot reach Slack has nothing to say there; its state says why
    channel = parameters.get("channel") or settings.slack_channel
    if token is None or not channel:
        return
    max_wait = min(settings.max_retry_wait_seconds, HOOK_MAX_WAIT_SECONDS)
    client = slack_client(token, settings.slack_api_url, max_wait=max_wait)
    if reason is None:  # not explained by the flow: nobody has said anything in Slack yet
        notice = failure_notice(f"{GENERIC_SLACK_TEXT} (실행: {flow_run.name})")
        post_message(client, notice.post_args(str(channel), parameters.get("thread_ts")))
    if status_ts := parameters.get("status_ts"):
        text = failed_text(reason or GENERIC_SLACK_TEXT, flow_run.name, flow_run.id)
        update_status(client, str(channel), str(status_ts), text)
