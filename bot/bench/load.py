"""Load generation for the channel benchmark: closed-loop and open-loop, with latency stats."""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

#: Sends one message of one conversation and returns when the answer has arrived, with the
#: ``time.monotonic()`` at which it reached the platform (None: at the return itself).
#: Raises :class:`HandedOver`, without sending, once the bot has handed that conversation
#: to a person.
SendFn = Callable[[str, str], Awaitable[float | None]]


class HandedOver(Exception):
    """The bot handed this conversation to a person: it no longer answers there itself
    (what the customer writes goes to the agents), so a simulated customer starts anew."""


@dataclass
class LoadResult:
    """What one load run measured."""

    messages: int = 0
    errors: int = 0
    handed_over: int = 0  # conversations the bot handed to a person (then started anew)
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        """Latency percentile in milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
        return ordered[index] * 1000

    def summary(self) -> dict[str, float]:
        return {
            "messages": self.messages,
            "errors": self.errors,
            "handed_over": self.handed_over,
            "messages_per_second": round(self.per_second, 1),
            "p50_ms": round(self.percentile(50), 1),
            "p95_ms": round(self.percentile(95), 1),
            "p99_ms": round(self.percentile(99), 1),
            "mean_ms": round(statistics.fmean(self.latencies) * 1000, 1) if self.latencies else 0.0,
        }


async def timed(send: SendFn, conversation: str, text: str) -> float:
    """Seconds from sending ``text`` until its answer reached the platform."""
    start = time.monotonic()
    arrived = await send(conversation, text)
    return (arrived if arrived is not None else time.monotonic()) - start


async def _timed(send: SendFn, conversation: str, text: str, result: LoadResult) -> None:
    try:
        latency = await timed(send, conversation, text)
    except HandedOver:
        result.handed_over += 1
        raise
    except Exception:
        result.errors += 1
        await asyncio.sleep(0.05)  # a failing route must not spin the loop (and starve the fakes)
        return
    result.latencies.append(latency)
    result.messages += 1


async def closed_loop(
    send: SendFn, texts: Sequence[str], *, conversations: int, seconds: float, prefix: str
) -> LoadResult:
    """``conversations`` customers, each sending its next message as soon as it is answered."""
    result = LoadResult()
    deadline = time.perf_counter() + seconds
    rng = random.Random(7)

    async def customer(number: int) -> None:
        conversation, handovers = f"{prefix}-c{number}", 0
        while time.perf_counter() < deadline:
            try:
                await _timed(send, conversation, rng.choice(texts), result)
            except HandedOver:
                handovers += 1
                conversation = f"{prefix}-c{number}-h{handovers}"

    start = time.perf_counter()
    await asyncio.gather(*(customer(n) for n in range(conversations)))
    result.seconds = time.perf_counter() - start
    return result


async def open_loop(
    send: SendFn,
    texts: Sequence[str],
    *,
    rate: float,
    seconds: float,
    prefix: str,
    conversations: int = 200,
) -> LoadResult:
    """Messages arrive at ``rate`` per second (Poisson), whatever the answers' pace.

    Each message goes to a customer who is not waiting for an answer (a customer writes
    again only once answered); when all ``conversations`` are waiting, a new one starts.
    """
    result = LoadResult()
    rng = random.Random(11)
    tasks: list[asyncio.Task[None]] = []
    idle = [f"{prefix}-o{n}" for n in range(conversations)]
    extra = 0

    def new_conversation() -> str:
        nonlocal extra
        extra += 1
        return f"{prefix}-o{conversations + extra}"

    async def message(conversation: str) -> None:
        text = rng.choice(texts)
        try:
            await _timed(send, conversation, text, result)
        except HandedOver:  # the same message, from a customer the bot still serves
            conversation = new_conversation()
            await _timed(send, conversation, text, result)
        idle.append(conversation)

    start = time.perf_counter()
    next_at = start
    while next_at < start + seconds:
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        conversation = idle.pop(rng.randrange(len(idle))) if idle else new_conversation()
        tasks.append(asyncio.create_task(message(conversation)))
        next_at += rng.expovariate(rate)
    await asyncio.gather(*tasks)
    result.seconds = seconds
    return result
