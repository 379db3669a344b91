"""Shared test set-up: the project's pytest plugin (real servers, fake platforms)."""

pytest_plugins = ["bot.testing.plugin"]
