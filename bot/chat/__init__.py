"""The local chat in the terminal (the default when no Slack/Telegram credentials are set)."""
