"""Custom actions. Each one is thin: it calls a service in `bot/`."""
