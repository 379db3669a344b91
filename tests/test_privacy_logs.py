"""Personal data never reaches the bot's logs: e-mail addresses, phone numbers, card numbers
and known customers' names are masked in messages, arguments and tracebacks, in every
process started through the launcher."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.privacy.launch import launch_command, load_names
from bot.privacy.log_redaction import MAX_LOG_LINE_CHARS, KnownNames, PersonalDataFilter
from bot.profiles.model import Visit
from bot.profiles.sqlite_store import SqliteProfileStore

PROJECT = Path(__file__).resolve().parents[1]


def masked(message: str, *args: object) -> str:
    record = logging.LogRecord("bot", logging.INFO, __file__, 1, message, args, None)
    PersonalDataFilter(KnownNames(["Ana", "Casey Jones"])).filter(record)
    return record.getMessage()


async def known_customer(folder: Path, name: str) -> None:
    store = SqliteProfileStore(folder / "bot.db")
    await store.record_visit(Visit("telegram:1", "telegram:1", name, datetime.now(timezone.utc)))


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("reply to ana.t@example.com now", "reply to [email] now"),
        ("call +44 20 7946 0958 or 07700 900123", "call [phone] or [phone]"),
        ("card 4111 1111 1111 1111 declined", "card [card] declined"),
        ("Ana wrote again; Casey Jones too", "[name] wrote again; [name] too"),
        ("Casey said Jones, Casey\nJones", "Casey said Jones, [name]"),
    ],
)
def test_personal_data_is_masked(message: str, expected: str) -> None:
    assert masked(message) == expected


def test_arguments_are_masked_after_formatting() -> None:
    assert masked("ticket %s for %s <%s>", 7, "Ana", "ana@example.com") == (
        "ticket 7 for [name] <[email]>"
    )


def test_what_is_not_personal_stays() -> None:
    text = "Ticket 12 for telegram:-1001234567890:42 at 2026-03-02 10:00:05, banana, order 123456"
    assert masked(text) == text


def test_tracebacks_are_masked() -> None:
    try:
        raise ValueError("no account for ana@example.com (Ana)")
    except ValueError:
        error = sys.exc_info()
    record = logging.LogRecord("bot", logging.ERROR, __file__, 1, "failed", (), error)
    PersonalDataFilter(KnownNames(["Ana"])).filter(record)
    formatted = logging.Formatter().format(record)
    assert "ValueError: no account for [email] ([name])" in formatted
    assert "ana@example.com" not in formatted


def test_only_whole_names_are_masked_never_their_common_words_alone() -> None:
    names = KnownNames(["Traceback http", "Ana"])
    assert names.mask("Traceback (most recent call last): http://x") == (
        "Traceback (most recent call last): http://x"
    )
    assert names.mask("from Traceback http: hello Ana") == "from [name]: hello [name]"
    assert "Traceback http" in names and "Traceback" not in names


def test_a_long_log_line_keeps_only_a_bounded_excerpt() -> None:
    typed = "my router " * (MAX_LOG_LINE_CHARS // 5)
    line = masked("customer said %s", typed)
    assert len(line) <= MAX_LOG_LINE_CHARS + 40
    assert line.startswith("customer said my router") and line.endswith("characters cut]")
    assert masked("short %s", "line") == "short line"


def test_a_cut_never_leaves_half_an_email_address() -> None:
    text = "x" * (MAX_LOG_LINE_CHARS - 10) + " ana.t@example.com tail"
    assert "ana" not in masked(text)


def test_names_learned_later_are_masked_from_then_on() -> None:
    names = KnownNames()
    assert names.mask("Hi Ana") == "Hi Ana"
    names.add("Ana", "", "J")  # empty and one-letter names are never masked
    assert names.mask("Hi Ana, J.") == "Hi [name], J."


async def test_the_known_names_come_from_the_profile_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await known_customer(tmp_path, "Zelda")
    monkeypatch.setenv("BOT_SQLITE_PATH", str(tmp_path / "bot.db"))
    monkeypatch.delenv("BOT_DATABASE_URL", raising=False)
    names = KnownNames()
    await load_names(names)
    assert "Zelda" in names


async def test_a_launched_program_logs_masked_whatever_handlers_it_sets_up(
    tmp_path: Path,
) -> None:
    """As `bot run` starts Rasa: the masking is installed before the program configures its
    logging, and the names of known customers are loaded before it starts."""
    await known_customer(tmp_path, "Zelda")
    (tmp_path / "chatty.py").write_text(
        textwrap.dedent("""
        import logging, sys
        logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
        log = logging.getLogger("chatty")
        log.info("customer %s wrote from %s", "Zelda", "zelda@example.com")
        try:
            raise RuntimeError("card 4111111111111111")
        except RuntimeError:
            log.exception("failed for +44 20 7946 0958")
        """)
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(PROJECT)]),
        "BOT_SQLITE_PATH": str(tmp_path / "bot.db"),
        "BOT_LOG_NAMES_REFRESH_SECONDS": "0",
    }
    env.pop("BOT_DATABASE_URL", None)
    ran = await asyncio.create_subprocess_exec(
        *launch_command("chatty"),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(ran.communicate(), 60)
    logged = output.decode()
    assert ran.returncode == 0, logged
    assert "customer [name] wrote from [email]" in logged
    assert "failed for [phone]" in logged and "RuntimeError: card [card]" in logged
    assert "Zelda" not in logged and "zelda@" not in logged and "4111" not in logged
