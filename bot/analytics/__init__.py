"""Conversation records and analytics, read from Rasa's tracker store (see docs/analytics.md)."""
