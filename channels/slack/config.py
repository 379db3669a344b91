"""The channel's settings: credentials.yml values, falling back to environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Transport = Literal["socket", "http"]
Scope = Literal["per-thread", "per-dm-user"]

# credentials.yml key -> environment variable used when the key is absent or empty.
ENV = {
    "bot_token": "SLACK_BOT_TOKEN",
    "signing_secret": "SLACK_SIGNING_SECRET",
    "app_token": "SLACK_APP_TOKEN",
    "transport": "SLACK_TRANSPORT",
    "api_url": "SLACK_API_URL",
    "conversation_scope": "SLACK_CONVERSATION_SCOPE",
    "agent_channel": "SLACK_AGENT_CHANNEL",
}


@dataclass(frozen=True)
class SlackSettings:
    """Validated settings; ``repr`` never shows the secrets."""

    bot_token: str
    signing_secret: str | None
    app_token: str | None
    transport: Transport
    api_url: str | None
    conversation_scope: Scope
    agent_channel: str | None = None  # the agents' channel id (handoff pings, agents' replies)

    def __repr__(self) -> str:
        return (
            f"SlackSettings(transport={self.transport!r}, api_url={self.api_url!r}, "
            f"conversation_scope={self.conversation_scope!r}, agent_channel={self.agent_channel!r})"
        )


def settings_from(
    credentials: Mapping[str, Any] | None, env: Mapping[str, str] = os.environ
) -> SlackSettings:
    """Reads and checks the settings; ValueError names the missing variable, never a value."""
    values = {
        key: str((credentials or {}).get(key) or env.get(var) or "").strip()
        for key, var in ENV.items()
    }
    if not values["bot_token"]:
        raise ValueError("Slack needs a bot token (bot_token / SLACK_BOT_TOKEN)")
    transport = values["transport"] or ("socket" if values["app_token"] else "http")
    if transport not in ("socket", "http"):
        raise ValueError("SLACK_TRANSPORT must be 'socket' or 'http'")
    if transport == "socket" and not values["app_token"]:
        raise ValueError("Socket Mode needs an app-level token (app_token / SLACK_APP_TOKEN)")
    if transport == "http" and not values["signing_secret"]:
        raise ValueError(
            "the Events API needs a signing secret (signing_secret / SLACK_SIGNING_SECRET)"
        )
    scope = values["conversation_scope"] or "per-thread"
    if scope not in ("per-thread", "per-dm-user"):
        raise ValueError("SLACK_CONVERSATION_SCOPE must be 'per-thread' or 'per-dm-user'")
    api_url = values["api_url"] or None
    if api_url and not api_url.endswith("/"):
        api_url += "/"
    return SlackSettings(
        bot_token=values["bot_token"],
        signing_secret=values["signing_secret"] or None,
        app_token=values["app_token"] or None,
        transport=transport,  # type: ignore[arg-type]
        api_url=api_url,
        conversation_scope=scope,  # type: ignore[arg-type]
        agent_channel=values["agent_channel"] or None,
    )
