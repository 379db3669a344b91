"""Shared test set-up: the project's pytest plugins (real servers, fake platforms)."""

pytest_plugins = [
    "bot.testing.plugin",
    "bot.testing.fake_slack",
    "bot.testing.telegram_plugin",
]
