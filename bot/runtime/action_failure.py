"""When a custom action fails (the action server down or restarting, a bug in an action):
an apology and a person for the customer, not silence.

Stock Rasa logs "Bot will continue, but the actions events are lost" and the customer
hears nothing: a FAQ answer, a CSAT, even the escalation to a person just vanish.
:func:`install` wraps ``RemoteAction.run`` (Rasa has no hook for this): a failure there
opens a ``bot_failure`` ticket and answers with the apology
(:mod:`bot.handoff.bot_failure`). A failed ``action_session_start`` (ours: profiles and
greetings) falls back to Rasa's default session start instead, so the conversation goes
on and the customer's message is then answered (or apologised for) once. A rejection
(``ActionExecutionRejection``, a form's way of handing back) is not a failure and passes.
The launcher (:mod:`bot.privacy.launch`) installs it in the Rasa server.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)
SESSION_START = "action_session_start"


async def events_after_failure(
    action_name: str, output_channel: Any, nlg: Any, tracker: Any, domain: Any
) -> list[Any]:
    """What the failed action is replaced with: Rasa's default session start for
    ``action_session_start``, otherwise the apology (and the ticket behind it)."""
    from rasa.core.actions.action import ActionSessionStart, create_bot_utterance

    from bot.handoff.bot_failure import FAILURE_MARK, apologise_and_escalate

    if action_name == SESSION_START:
        events: list[Any] = await ActionSessionStart().run(output_channel, nlg, tracker, domain)
        return events
    latest = tracker.latest_message
    messages = await apologise_and_escalate(
        tracker.sender_id,
        tracker.get_latest_input_channel() or "rest",
        (latest.text if latest else "") or "",
        (latest.metadata if latest else None) or {},
    )
    return [create_bot_utterance({**message, FAILURE_MARK: True}) for message in messages]


def install() -> None:
    """Wraps ``RemoteAction.run`` once (later calls do nothing)."""
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction

    original = RemoteAction.run
    if getattr(original, "apologises", False):
        return

    async def run(self: Any, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> Any:
        try:
            return await original(self, output_channel, nlg, tracker, domain)
        except ActionExecutionRejection:
            raise
        except Exception:
            logger.exception(
                "custom action %s failed; the customer gets an apology instead", self.name()
            )
            return await events_after_failure(self.name(), output_channel, nlg, tracker, domain)

    run.apologises = True  # type: ignore[attr-defined]
    RemoteAction.run = run  # type: ignore[method-assign]
