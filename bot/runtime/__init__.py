"""Running the bot: runtime configuration and the process supervisor behind `make run`."""
