"""End to end through the fake Slack and the fake Telegram, with the trained model and the
real Rasa and action servers (one bot serving both platforms for the module): returning
customers are greeted by name, group chats reveal nothing, /privacy shows what is stored,
linked accounts can be unlinked and are forgotten together, and after forget-me nothing is
left in any store nor in the logs."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from profiles_platforms import Platforms, buttons, serving_both, slack_text, traces, until

from bot.testing.telegram_updates import GROUP_ID

pytestmark = pytest.mark.e2e


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def both(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Platforms]:
    async with serving_both(tmp_path_factory.mktemp("profiles-e2e")) as platforms:
        yield platforms


async def test_a_returning_customer_is_greeted_by_name_and_asked_about_last_time(
    both: Platforms,
) -> None:
    # Telegram: a first conversation about the bill, then a second one
    ana = 918273601
    [first] = await both.telegram_says("hello", ana)
    assert "Customer" not in first["text"]  # a first conversation: the plain greeting
    await both.telegram_says("how can I pay my bill?", ana)
    await both.telegram_restarts(ana)
    [again] = await both.telegram_says("hello", ana)
    assert again["text"] == (
        f"Hi Customer{ana}, welcome back! Last time we talked about Billing and payments;"
        " is this about the same thing?"
    )
    [choices] = await both.telegram_presses(again, "Yes, the same thing", ana)
    titles = [b["text"] for row in choices["reply_markup"]["inline_keyboard"] for b in row]
    assert "How can I pay my bill?" in titles and titles[-1] == "None of these"

    # Slack: the same in a DM
    casey, dm = "U0PROF0001", "D0PROF0001"
    both.slack.workspace.people[casey] = ("Casey", "Casey Customer")
    [hello] = await both.slack_says("hello", casey, dm)
    assert "Casey" not in slack_text([hello])
    await both.slack_says("how can I pay my bill?", casey, dm)
    await both.slack_restarts(casey, dm)
    [welcome] = await both.slack_says("hello", casey, dm)
    assert "Hi Casey, welcome back! Last time we talked about" in slack_text([welcome])
    assert buttons(welcome) == ["Yes, the same thing", "No, something else"]
    [new_topic] = await both.slack_clicks(welcome, "No, something else", casey)
    assert "What can I help you with today?" in slack_text([new_topic])


async def test_a_group_chat_never_shows_what_the_bot_knows(both: Platforms) -> None:
    username = both.telegram.bot_user["username"]
    bo = 918273602
    await both.telegram_says("hello", bo)
    await both.telegram_says("how can I pay my bill?", bo)  # Bo is known now, with a topic
    [greeting] = await both.telegram_says(f"hello @{username}", bo, chat=GROUP_ID)
    assert f"Customer{bo}" not in greeting["text"] and "Billing" not in greeting["text"]
    assert not greeting.get("reply_markup")
    [refusal] = await both.telegram_says(f"/privacy@{username}", bo, chat=GROUP_ID)
    assert refusal["text"].startswith("For your privacy, I only talk about your personal data")
    [refusal] = await both.telegram_says(f"/forgetme@{username}", bo, chat=GROUP_ID)
    assert refusal["text"].startswith("For your privacy")  # nothing deleted from a group

    dana, dm, channel = "U0PROF0002", "D0PROF0002", "C0PROF0002"
    both.slack.workspace.people[dana] = ("Dana", "Dana Customer")
    await both.slack_says("hello", dana, dm)
    await both.slack_says("how can I pay my bill?", dana, dm)
    [greeting_call] = await both.slack_says("hello", dana, channel, mention=True)
    assert greeting_call.params.get("thread_ts")  # answered in the channel's thread
    assert "Dana" not in slack_text([greeting_call]) and not buttons(greeting_call)
    [refusal_call] = await both.slack_says("what do you know about me", dana, channel, mention=True)
    assert slack_text([refusal_call]).startswith("For your privacy")


async def test_privacy_shows_what_is_stored_and_the_customer_can_choose_less(
    both: Platforms,
) -> None:
    eve, dm = "U0PROF0003", "D0PROF0003"
    both.slack.workspace.people[eve] = ("Eve", "Eve Customer")
    await both.slack_says("hello", eve, dm)
    await both.slack_says("how can I pay my bill?", eve, dm)
    report, options = await both.slack_says("/privacy", eve, dm, expect=2)
    shown = slack_text([report])
    assert shown.startswith("Here's everything I keep about you:")
    for fact in (
        "Your name on Slack: Eve",
        f"We first talked on: {time.strftime('%-d %B %Y', time.gmtime())}",
        "Conversations with me: 1",
        "What we talked about last: Billing and payments",
        "Personalisation: your name, what we talked about last and your open requests",
        "The history of our chats, and your requests to our support team",
    ):
        assert f"\n• {fact}" in shown, (fact, shown)
    assert buttons(options) == ["Use it all", "Only my name", "Don't personalise", "Forget me"]
    [done] = await both.slack_clicks(options, "Only my name", eve)
    assert slack_text([done]) == "Done. From now on I'll use: your name only."
    await both.slack_restarts(eve, dm)
    [welcome] = await both.slack_says("hello", eve, dm)
    assert slack_text([welcome]) == "Hi Eve! Good to see you again. What can I do for you today?"

    fay = 918273603
    await both.telegram_says("hello", fay)
    report_message, _ = await both.telegram_says("what do you know about me", fay, expect=2)
    assert f"• Your name on Telegram: Customer{fay}" in report_message["text"]


async def test_linked_accounts_can_be_unlinked_again(both: Platforms) -> None:
    gus, dm, tg = "U0UNLINK1", "D0UNLINK1", 918273605
    both.slack.workspace.people[gus] = ("Gus", "Gus Unlink")
    await both.slack_says("hello", gus, dm)
    await both.link_accounts(gus, dm, tg)

    [done] = await both.telegram_says("unlink my accounts", tg)
    assert done["text"].startswith("Done: this chat is no longer linked to your Slack account.")
    report, _ = await both.telegram_says("/privacy", tg, expect=2)
    assert f"Your name on Telegram: Customer{tg}" in report["text"]
    assert "Slack" not in report["text"]
    [again] = await both.slack_says("unlink my accounts", gus, dm)
    assert "isn't linked to any other account" in slack_text([again])


async def test_forget_me_forgets_linked_accounts_everywhere_and_the_logs_never_had_them(
    both: Platforms,
) -> None:
    frida, dm, channel, tg = "U0FORGET1", "D0FORGET1", "C0FORGET1", 918273604
    both.slack.workspace.people[frida] = ("Frida", "Frida Forget")
    await both.slack_says("hello", frida, dm)
    await both.slack_says("how can I pay my bill?", frida, dm)
    ask = await both.link_accounts(frida, dm, tg)
    assert "your Slack account (Frida)" in ask["text"]

    # a request to a person from a channel thread; what she adds while waiting is relayed
    [queued] = await both.slack_says("talk to a human", frida, channel, mention=True)
    thread = queued.params["thread_ts"]
    w = both.slack.workspace
    extra = w.message(
        "this is Frida, frida.f@example.com",
        channel=channel,
        user=frida,
        channel_type="channel",
        thread_ts=thread,
    )
    assert (await both.slack.post_event(both.events_url, w.wrap(extra)))[0] == 200
    assert await until(lambda: "customer: this is [name], [email]" in both.logs()), both.logs()

    report, _ = await both.telegram_says("/privacy", tg, expect=2)
    assert "• Your name on Slack: Frida" in report["text"]
    assert f"• Your name on Telegram: Customer{tg}" in report["text"]
    assert "• Open request to our support team: ticket" in report["text"]

    needles = [frida, dm, channel, thread, str(tg), "Frida", "frida.f@"]
    before = traces(both.every_row(), needles)
    stores = {row.split(": ")[0] for row in before}
    assert {"profile_identities", "profile_conversations", "handoff_tickets", "events"} <= stores

    [question] = await both.telegram_says("/forgetme", tg)
    assert question["text"].startswith("Do you want me to forget you?")
    [done] = await both.telegram_presses(question, "Yes, delete everything", tg)
    assert done["text"].startswith("Done: I've deleted everything I had about you")
    left: list[str] = []

    def nothing_left() -> bool:
        left[:] = traces(both.every_row(), needles)
        return not left

    assert await until(nothing_left), left  # the running conversation goes once saved
    logs = both.logs()
    assert "Frida" not in logs and "frida.f@" not in logs

    [fresh] = await both.telegram_says("hello", tg)  # a stranger again: the plain greeting
    assert f"Customer{tg}" not in fresh["text"] and "welcome back" not in fresh["text"]
