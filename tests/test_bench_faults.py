"""How `make bench-faults` counts what customers saw during a fault."""

from __future__ import annotations

from bot.bench.faults import Message, summarise


def test_a_fault_window_counts_lost_duplicated_freeze_and_recovery() -> None:
    injected, back = 100.0, 110.0  # the message at 95 s belongs to the run too
    messages = [
        Message("project_rest", "a", 95.0, 95.2, accepted=True),  # before the fault
        Message("project_rest", "a", 101.0, 111.5, accepted=True),  # waited 10.5 s
        Message("project_rest", "a", 112.0, 112.3, accepted=True),  # back: 2.3 s after
        Message("telegram_webhook", "t", 102.0, None, accepted=True),  # never answered
        Message("telegram_webhook", "t", 113.0, 113.4, accepted=True),
    ]
    summary = summarise(
        "rasa_killed",
        messages,
        injected_at=injected,
        back_at=back,
        stored={"a": 4},  # three acknowledged, four in the tracker: one processed twice
        still_silent=[],
    )

    assert (summary["sent"], summary["answered"], summary["lost"]) == (5, 4, 1)
    assert summary["duplicated"] == 1
    assert summary["max_freeze_s"] == 10.5
    assert summary["recovery_s"] == 3.4  # the slower route: telegram answered 3.4 s after
    assert summary["manual_action"] is False
