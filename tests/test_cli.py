"""`bot <command>`: every command answers --help; `python -m bot` works like `bot`."""

import subprocess
import sys

import pytest

from bot.cli import COMMAND_MODULES, build_parser


def command_names() -> list[str]:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    return sorted(subparsers.choices)  # type: ignore[arg-type]


def test_every_registered_module_adds_a_command() -> None:
    assert len(command_names()) == len(COMMAND_MODULES)


@pytest.mark.parametrize("command", command_names())
def test_every_command_explains_itself(command: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([command, "--help"])
    assert exit_info.value.code == 0


def test_python_dash_m_bot_lists_the_commands() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--help"], capture_output=True, text=True, check=True
    )
    for command in command_names():
        assert command in result.stdout
