"""One channel-neutral response model, rendered per channel by small pure functions."""
