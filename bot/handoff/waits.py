"""The customer's estimated wait, from real recent waits and the place in the queue.

``estimate = median(time from opening to claim of the last N claimed tickets) x position``

A typical ticket recently waited ``median`` to reach an agent; every ticket ahead of you
adds about one such turn, so position 1 waits one median, position 3 three. The median keeps
one forgotten ticket from skewing the figure. Without any claimed ticket in the history
there is no honest estimate, and the answer is None.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import timedelta

#: How many recent claims the estimate looks at.
RECENT_SAMPLE = 20


def estimate_wait(recent_waits: Sequence[timedelta], position: int | None) -> timedelta | None:
    """The expected wait at ``position`` (None if not queued or there is no history)."""
    if position is None or not recent_waits:
        return None
    median_seconds = statistics.median(wait.total_seconds() for wait in recent_waits)
    return timedelta(seconds=max(median_seconds, 0.0) * position)
