"""slack-app-manifest.yaml installs an app with everything the bot listens to and calls: the @mention,
`/voc-weekly`, DMs, and the scopes for each (Slack grants nothing the manifest does not ask for)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from flows.slack.commands import COMMAND

MANIFEST = Path(__file__).resolve().parents[2] / "slack-app-manifest.yaml"


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return dict(yaml.safe_load(MANIFEST.read_text(encoding="utf-8")))


def test_the_mention_dms_and_their_scopes_are_subscribed(manifest: dict[str, Any]) -> None:
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"app_mention", "message.im"} <= set(events)
    # app_mention needs app_mentions:read; message.im needs im:history; answering in a DM, im:write.
    assert {"app_mentions:read", "im:history", "im:read", "im:write", "chat:write"} <= scopes
    # A run looks up a post whose answer was lost in the channel's or DM's history.
    assert {"channels:history", "groups:history"} <= scopes


def test_people_can_message_the_bot(manifest: dict[str, Any]) -> None:
    home = manifest["features"]["app_home"]
    assert home["messages_tab_enabled"] is True and home["messages_tab_read_only_enabled"] is False


def test_the_slash_command_is_the_one_the_bot_registers(manifest: dict[str, Any]) -> None:
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == COMMAND
    assert "help" in command["usage_hint"] and "force" in command["usage_hint"]
    assert "commands" in manifest["oauth_config"]["scopes"]["bot"]


def test_socket_mode_is_on_and_nothing_else_is_asked_for(manifest: dict[str, Any]) -> None:
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "app_mentions:read",
        "chat:write",
        "commands",
        "im:history",
        "im:read",
        "im:write",
        "channels:history",
        "groups:history",
        "reactions:read",  # the team's 👍 👎 ✅ 🔕 on the replies
    }
