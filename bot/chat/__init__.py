"""The local chat in the terminal (the default channel when no Slack/Telegram credentials are set)."""
