"""`bot run`: start the action server and the Rasa server; chat locally without credentials."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import os
import signal
from pathlib import Path
from typing import Any

import yaml

from bot.chat.terminal import chat, stdin_reader
from bot.privacy.launch import launch_command
from bot.runtime.settings import external_channels, runtime_credentials, runtime_endpoints
from bot.runtime.supervisor import RestartPolicy, Service, running


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run the bot (`make run` calls this after training)",
        description="Starts the action server and the Rasa server with the configured channels. "
        "Without Slack/Telegram credentials in the environment it opens a local chat. "
        "A process that dies is restarted (after 1 s, doubling up to 30 s; the reason and its "
        "last log lines are logged). Ctrl-C stops everything it started.",
    )
    parser.add_argument("--model", type=Path, default=Path("models/support-bot.tar.gz"))
    parser.add_argument("--port", type=int, default=5005, help="Rasa server port")
    parser.add_argument("--actions-port", type=int, default=5055, help="action server port")
    parser.add_argument("--state", type=Path, default=Path(".state"), help="runtime folder")
    parser.add_argument("--no-chat", action="store_true", help="never open the local chat")
    parser.set_defaults(handler=handle)


def prepare(args: argparse.Namespace) -> tuple[Path, Path, list[str]]:
    """Writes the runtime endpoints and credentials; returns their paths and the channels."""
    args.state.mkdir(parents=True, exist_ok=True)
    endpoints = runtime_endpoints(Path("endpoints.yml"))
    if "BOT_ACTION_SERVER_URL" not in os.environ:
        endpoints["action_endpoint"] = {"url": f"http://127.0.0.1:{args.actions_port}/webhook"}
    tracker_store = endpoints.get("tracker_store") or {}
    if tracker_store.get("dialect") == "sqlite" and str(tracker_store.get("db", "")).startswith(
        ".state/"
    ):
        tracker_store["db"] = str(args.state / Path(tracker_store["db"]).name)
    credentials = runtime_credentials(Path("credentials.yml"))
    credentials.setdefault("rest", None)
    endpoints_file, credentials_file = args.state / "endpoints.yml", args.state / "credentials.yml"
    endpoints_file.write_text(yaml.safe_dump(endpoints, sort_keys=False))
    credentials_file.write_text(yaml.safe_dump(credentials, sort_keys=False))
    credentials_file.chmod(0o600)  # it holds secrets from the environment
    return endpoints_file, credentials_file, external_channels(credentials)


async def handle(args: argparse.Namespace) -> int:
    if not args.model.exists():
        print(f"error: no trained model at {args.model}; run `make run` (it trains first).")
        return 1
    endpoints_file, credentials_file, channels = prepare(args)
    # every process masks personal data in its logs (bot/privacy/launch.py)
    services = [
        Service(
            "action server",
            launch_command(
                "rasa", "run", "actions", "--actions", "actions", "--port", str(args.actions_port)
            ),
            f"http://127.0.0.1:{args.actions_port}/health",
            args.state / "logs" / "actions.log",
        ),
        Service(
            "Rasa server",
            launch_command(
                "rasa",
                "run",
                "--model",
                str(args.model),
                "--enable-api",
                "--port",
                str(args.port),
                "--endpoints",
                str(endpoints_file),
                "--credentials",
                str(credentials_file),
            ),
            f"http://127.0.0.1:{args.port}/status",
            args.state / "logs" / "rasa.log",
        ),
        Service(
            "worker",
            launch_command("bot", "worker"),
            None,
            args.state / "logs" / "worker.log",
        ),
    ]
    env = {"BOT_RASA_URL": f"http://127.0.0.1:{args.port}"}
    if "BOT_TRACKER_STORE_URL" not in os.environ:  # forget-me deletes transcripts there
        env["BOT_TRACKER_STORE_URL"] = f"sqlite:///{(args.state / 'tracker.db').resolve()}"
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    print(f"Starting the bot (logs in {args.state / 'logs'}) ...", flush=True)
    async with running(services, env=env, restart=RestartPolicy()):
        print(f"Ready: Rasa on http://127.0.0.1:{args.port}, actions on :{args.actions_port}.")
        if channels:
            print(f"Channels: {', '.join(channels)}. Press Ctrl-C to stop.")
        waiters: list[asyncio.Task[object]] = [asyncio.create_task(stopping.wait())]
        if not channels and not args.no_chat:
            sender = f"local-{getpass.getuser()}"
            reader = await stdin_reader()
            waiters.append(
                asyncio.create_task(chat(f"http://127.0.0.1:{args.port}", sender, reader))
            )
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await waiter
        print("Stopping ...", flush=True)
    print("Stopped.")
    return 0
