"""Per-message signals: topic and urgency, stored in the message's parse data."""
