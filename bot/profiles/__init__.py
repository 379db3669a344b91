"""Customer profiles: who the customer is on each channel, how often and about what they
talked with the bot, and how much personalisation they want (docs/personalisation.md)."""
