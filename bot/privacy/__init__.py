"""Privacy: what the bot keeps about a customer (the /privacy report), forgetting a customer
in every store, and personal data masked in the bot's logs (docs/personalisation.md)."""
