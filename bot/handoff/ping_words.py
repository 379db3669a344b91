"""Ticket facts in words for the agents' pings, shared by every channel's renderer."""

from __future__ import annotations

from datetime import timedelta


def sentiment_words(score: float) -> str:
    """A sentiment score (-1..1) in words, with the number."""
    if score <= -0.6:
        words = "very negative"
    elif score <= -0.2:
        words = "negative"
    elif score < 0.2:
        words = "neutral"
    elif score < 0.6:
        words = "positive"
    else:
        words = "very positive"
    return f"{words} ({score:+.2f})"


def duration_words(delta: timedelta) -> str:
    """``just now``, ``4 min``, ``2 h 5 min``, ``3 d 1 h``."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"
