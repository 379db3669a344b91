"""Channel adapters: Slack and Telegram as Rasa input channels."""
