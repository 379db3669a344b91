"""Slack channel: ``channels.slack.SlackInput`` in credentials.yml (see docs/channels-slack.md)."""

from channels.slack.channel import SlackInput

__all__ = ["SlackInput"]
