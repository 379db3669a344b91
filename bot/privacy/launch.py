"""``python -m bot.privacy.launch <module> [arguments]``: runs a program's main module (for
example ``rasa run``) with personal data masked in its logs.

`bot run` and the test servers start the Rasa server, the action server and the worker this
way. The known customers' names come from the profile store: before the program starts
(waiting at most a few seconds), then every ``BOT_LOG_NAMES_REFRESH_SECONDS`` (default 30;
0: only at start) from a daemon thread. A Rasa started this way also gets the hot-path
shortcuts of :mod:`bot.runtime.rasa_hot_paths`, the apology for a failed custom action
(:mod:`bot.runtime.action_failure`), no substitute tracker store
(:mod:`bot.runtime.no_fallback`), the request checks of :mod:`bot.runtime.rasa_api_guard`
and, for ``rasa run``, its API token from ``BOT_RASA_TOKEN``: added to the arguments inside
this process, so it never shows on a command line (``/proc/<pid>/cmdline``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import runpy
import sys
import threading
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any

from bot.privacy.log_redaction import KnownNames, install, known_names

logger = logging.getLogger(__name__)
DEFAULT_REFRESH_SECONDS = 30.0
FIRST_LOAD_SECONDS = 5.0


def launch_command(module: str, *arguments: str) -> list[str]:
    """The command line that runs ``module`` (e.g. ``rasa``) through this launcher."""
    return [sys.executable, "-m", "bot.privacy.launch", module, *arguments]


async def load_names(names: KnownNames) -> None:
    """Adds every display name in the profile store to ``names``."""
    from bot.profiles.store import profile_store_from_env

    store = profile_store_from_env()
    try:
        names.add(*await store.display_names())
    finally:
        await store.close()


async def try_load_names(names: KnownNames, timeout: float | None = None) -> None:
    """:func:`load_names`, logging (not raising) when the store cannot be read."""
    try:
        await asyncio.wait_for(load_names(names), timeout)
    except Exception as error:
        logger.warning("could not load customers' names for log masking (%r)", error)


async def keep_names_fresh(names: KnownNames, every: float) -> None:
    """Loads the names again every ``every`` seconds."""
    while True:
        await asyncio.sleep(every)
        await try_load_names(names)


def main(argv: Sequence[str] | None = None) -> None:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments:
        sys.exit("usage: python -m bot.privacy.launch <module> [arguments ...]")
    names = known_names()
    install(names)
    # in threads of their own: the program's main thread keeps a pristine event loop state
    first = _in_thread(try_load_names(names, FIRST_LOAD_SECONDS))
    first.join(FIRST_LOAD_SECONDS + 1)
    every = float(os.environ.get("BOT_LOG_NAMES_REFRESH_SECONDS") or DEFAULT_REFRESH_SECONDS)
    if every > 0:
        _in_thread(keep_names_fresh(names, every))
    module, *rest = arguments
    if module == "rasa":
        from bot.runtime.action_failure import install as install_action_failure
        from bot.runtime.no_fallback import install as install_no_fallback
        from bot.runtime.rasa_api_guard import install as install_api_guard
        from bot.runtime.rasa_hot_paths import install as install_hot_paths

        install_hot_paths()
        install_action_failure()
        install_api_guard()
        install_no_fallback()
        rest = with_auth_token(rest, os.environ)
    sys.argv = [module, *rest]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


def with_auth_token(arguments: Sequence[str], env: Mapping[str, str]) -> list[str]:
    """``rasa run`` arguments with ``--auth-token`` from ``BOT_RASA_TOKEN`` (when set)."""
    serves_api = arguments[:1] == ["run"] and arguments[1:2] != ["actions"]
    token = env.get("BOT_RASA_TOKEN")
    if not serves_api or not token or any(a.startswith("--auth-token") for a in arguments):
        return list(arguments)
    # one argument: a token may start with "-", which argparse would take for an option
    return [*arguments, f"--auth-token={token}"]


def _in_thread(work: Coroutine[Any, Any, None]) -> threading.Thread:
    thread = threading.Thread(target=asyncio.run, args=(work,), name="known-names", daemon=True)
    thread.start()
    return thread


if __name__ == "__main__":
    main()
