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

from bot.chat.terminal import ChatEndpoint, chat, stdin_reader
from bot.runtime.private_files import write_private_text
from bot.runtime.secrets import (
    MissingSecrets,
    authenticated_action_endpoint,
    bind_host,
    runtime_secrets,
)
from bot.runtime.services import action_server_url, bot_services, child_environment, rasa_url
from bot.runtime.settings import (
    external_channels,
    runtime_credentials,
    runtime_endpoints,
    with_rest_channel,
)
from bot.runtime.supervisor import RestartPolicy, running


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


def prepare(args: argparse.Namespace, host: str) -> tuple[Path, Path, list[str]]:
    """Writes the runtime endpoints and credentials (mode 0600: they may hold passwords);
    returns their paths and the external channels."""
    args.state.mkdir(parents=True, exist_ok=True)
    endpoints = runtime_endpoints(Path("endpoints.yml"))
    if "BOT_ACTION_SERVER_URL" not in os.environ:
        endpoints["action_endpoint"] = {"url": action_server_url(host, args.actions_port)}
    endpoints["action_endpoint"] = authenticated_action_endpoint(endpoints["action_endpoint"])
    tracker_store = endpoints.get("tracker_store") or {}
    if tracker_store.get("dialect") == "sqlite" and str(tracker_store.get("db", "")).startswith(
        ".state/"
    ):
        tracker_store["db"] = str(args.state / Path(tracker_store["db"]).name)
    credentials = with_rest_channel(runtime_credentials(Path("credentials.yml")))
    endpoints_file, credentials_file = args.state / "endpoints.yml", args.state / "credentials.yml"
    write_private_text(endpoints_file, yaml.safe_dump(endpoints, sort_keys=False))
    write_private_text(credentials_file, yaml.safe_dump(credentials, sort_keys=False))
    return endpoints_file, credentials_file, external_channels(credentials)


async def handle(args: argparse.Namespace) -> int:
    if not args.model.exists():
        print(f"error: no trained model at {args.model}; run `make run` (it trains first).")
        return 1
    host = bind_host()
    try:
        secrets = runtime_secrets(host)
    except MissingSecrets as error:
        print(f"error: {error}")
        return 1
    endpoints_file, credentials_file, channels = prepare(args, host)
    services = bot_services(
        model=args.model,
        host=host,
        port=args.port,
        actions_port=args.actions_port,
        endpoints_file=endpoints_file,
        credentials_file=credentials_file,
        logs=args.state / "logs",
        worker=True,
    )
    env = child_environment(secrets, host, args.port)
    if "BOT_TRACKER_STORE_URL" not in os.environ:  # forget-me deletes transcripts there
        env["BOT_TRACKER_STORE_URL"] = f"sqlite:///{(args.state / 'tracker.db').resolve()}"
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    print(f"Starting the bot (logs in {args.state / 'logs'}) ...", flush=True)
    async with running(services, env=env, restart=RestartPolicy()):
        print(f"Ready: Rasa on {rasa_url(host, args.port)}, actions on :{args.actions_port}.")
        if channels:
            print(f"Channels: {', '.join(channels)}. Press Ctrl-C to stop.")
        waiters: list[asyncio.Task[object]] = [asyncio.create_task(stopping.wait())]
        if not channels and not args.no_chat:
            sender = f"local-{getpass.getuser()}"
            reader = await stdin_reader()
            endpoint = ChatEndpoint(
                rasa_url(host, args.port),
                secrets.rasa_token,
                secrets.rest_token,
                secrets.payload_secret,
            )
            waiters.append(asyncio.create_task(chat(endpoint, sender, reader)))
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await waiter
        print("Stopping ...", flush=True)
    print("Stopped.")
    return 0
