"""The customer commands every channel offers, and what Rasa receives for each.

One neutral table: Telegram's ``/help`` and Slack's ``/privacy`` slash command translate
the same way. The translated texts are produced by the adapters (never typed by the
customer), so they may carry Rasa's ``/intent`` syntax.
"""

from __future__ import annotations

# command (without the slash) -> what Rasa receives (an intent, or Rasa's own /restart)
COMMANDS = {
    "start": "/greet",
    "help": "/chitchat_capabilities",
    "human": "/human_handoff",
    "restart": "/restart",
    "privacy": "/privacy",
    "forgetme": "/forget_me",
    "cancel": "/handoff_cancel",
}
# Commands that work but stay out of the menus (docs/personalisation.md)
UNLISTED_COMMANDS = {
    "link": "/link_account",
}
# What Rasa receives when the customer only says hello in a platform's own way
# (a bare @mention in Slack, a /me emote): the greeting, which asks how to help.
GREETING = "/greet"


def command_text(name: str) -> str | None:
    """What Rasa receives for the command ``name`` (case-insensitive), None when unknown."""
    key = name.lower().lstrip("/")
    return COMMANDS.get(key) or UNLISTED_COMMANDS.get(key)
