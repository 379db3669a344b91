"""``RedisTicketLockStore``: Rasa's conversation lock on Redis, safe across processes.

Rasa's own ``RedisLockStore`` reads a conversation's lock, adds a ticket and writes the
lock back in three separate calls. Two Rasa servers (or ``SANIC_WORKERS`` of one) taking
a ticket at the same moment both get the same number, both think it is their turn, and
handle two messages of one conversation at once: one turn's events are then lost (the
tracker store saves "the events after the ones already stored", which the other turn has
just written). RasaHQ/rasa#9213 reports it; the fix went into Rasa Pro only.

This store keeps Rasa's semantics (tickets served in the order taken, a ticket expires
after ``lock_lifetime``, ``LockError`` when a waiting ticket expired) with every step one
atomic Lua script on Redis's own clock. Waiting polls quickly at first (10 ms, doubling up
to ``wait_time_in_seconds``) instead of Rasa's fixed second.

A ticket is a short lease (``lease_seconds``, default 10 s) renewed every fifth of it
while its turn waits or runs, up to ``lock_lifetime`` in all: the tickets of a process
killed with -9 expire within one lease instead of blocking the conversation for Rasa's
minute. (3 s was too short: a busy Rasa worker's event loop, on a loaded 2-core machine,
missed renewals for longer than that and its waiting tickets lapsed.) The renewal is
stopped between commands, never cancelled in one: redis-py can leave a cancelled command's
reply on the pooled connection for the next command to read.
The Redis client checks idle pooled connections before use and retries a command once
on a new connection after a ``ConnectionError``, so a Redis restart costs no stale
connection errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)
DEFAULT_PREFIX = "support_bot:lock:"
FIRST_WAIT = 0.01
#: A ticket's lease: how long a killed process's ticket can still block its conversation.
LEASE_SECONDS = 10.0
RENEWALS_PER_LEASE = 5
#: Redis client: idle pooled connections are pinged before use after this long.
HEALTH_CHECK_SECONDS = 5
SOCKET_TIMEOUT_SECONDS = 5.0
CONNECT_TIMEOUT_SECONDS = 2.0
RETRIES = 2

# A ticket is a unique token, ordered by its number in the queue. KEYS: counter, queue
# (token by number), expiry (token by expiry ms); ARGV: lifetime ms, token
_ISSUE = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local lifetime = tonumber(ARGV[1])
redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[1]), ARGV[2])
redis.call('ZADD', KEYS[3], now + lifetime, ARGV[2])
for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, 2 * lifetime + 1000) end
return 1
"""
# KEYS: counter, queue, expiry; ARGV: lease ms, token. 1: renewed; 0: the ticket is gone
_RENEW = """
if not redis.call('ZSCORE', KEYS[2], ARGV[2]) then return 0 end
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local lease = tonumber(ARGV[1])
redis.call('ZADD', KEYS[3], now + lease, ARGV[2])
local keep = 2 * lease + 1000
for _, key in ipairs(KEYS) do
  if redis.call('PTTL', key) < keep then redis.call('PEXPIRE', key, keep) end
end
return 1
"""
# KEYS: queue, expiry; ARGV: token. 0: acquired; n > 0: tickets ahead; -1: ticket expired
_TRY = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for _, token in ipairs(expired) do redis.call('ZREM', KEYS[1], token) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local rank = redis.call('ZRANK', KEYS[1], ARGV[1])
if rank == false then return -1 end
return rank
"""
# KEYS: counter, queue, expiry; ARGV: token. The last ticket out removes every key.
_RELEASE = """
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if redis.call('ZCARD', KEYS[2]) == 0 then redis.call('DEL', KEYS[1], KEYS[2], KEYS[3]) end
return 1
"""


class RedisTicketLockStore(LockStore):  # type: ignore[misc]
    """Rasa's ticket lock per conversation, each step atomic on Redis.

    ``endpoints.yml``: ``type: bot.storage.redis_lock_store.RedisTicketLockStore`` with
    ``url`` (host), ``port``, ``db``, ``password``, ``key_prefix``, ``lease_seconds``;
    ``BOT_LOCK_STORE_URL`` sets it up (docs/configuration.md). Rasa only ever calls
    :meth:`lock`.
    """

    def __init__(
        self,
        endpoint_config: EndpointConfig | None = None,
        *,
        client: Any = None,
        key_prefix: str = DEFAULT_PREFIX,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        super().__init__()
        settings = dict(endpoint_config.kwargs) if endpoint_config else {}
        self.key_prefix = str(settings.pop("key_prefix", None) or key_prefix)
        self.lease_seconds = float(settings.pop("lease_seconds", None) or lease_seconds)
        if client is None:
            client = _client(endpoint_config.url if endpoint_config else None, settings)
        self.client = client
        self._issue = client.register_script(_ISSUE)
        self._try = client.register_script(_TRY)
        self._release = client.register_script(_RELEASE)
        self._renew = client.register_script(_RENEW)

    def _keys(self, conversation_id: str) -> list[str]:
        base = f"{self.key_prefix}{conversation_id}"
        return [f"{base}:counter", f"{base}:queue", f"{base}:expiry"]

    async def issue(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> str:
        """Takes the conversation's next ticket (a token)."""
        token = uuid.uuid4().hex
        lifetime = max(1, int(lock_lifetime * 1000))
        await self._issue(keys=self._keys(conversation_id), args=[lifetime, token])
        return token

    async def ahead(self, conversation_id: str, ticket: str) -> int:
        """How many live tickets come before ``ticket`` (0: its turn; -1: it expired)."""
        return int(await self._try(keys=self._keys(conversation_id)[1:], args=[ticket]))

    async def renew(self, conversation_id: str, ticket: str, lease: float) -> bool:
        """Extends the ticket's lease to ``lease`` seconds from now (False: it is gone)."""
        lease_ms = max(1, int(lease * 1000))
        keys = self._keys(conversation_id)
        return bool(await self._renew(keys=keys, args=[lease_ms, ticket]))

    async def release(self, conversation_id: str, ticket: str) -> None:
        """Gives the turn to the next ticket; the last one out leaves no key behind."""
        await self._release(keys=self._keys(conversation_id), args=[ticket])

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncIterator[TicketLock]:
        """Waits for the conversation's turn (tickets in the order taken); ``LockError``
        when the ticket expired while waiting or Redis cannot be reached."""
        ends = time.monotonic() + lock_lifetime
        lease = min(lock_lifetime, self.lease_seconds)
        try:
            ticket = await self.issue(conversation_id, lease)
        except Exception as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error
        done = asyncio.Event()
        renewing = asyncio.create_task(
            self._keep_renewed(conversation_id, ticket, lease, ends, done)
        )
        try:
            wait = FIRST_WAIT
            while (ahead := await self.ahead(conversation_id, ticket)) != 0:
                if ahead < 0:
                    raise LockError(
                        f"Could not acquire lock for conversation_id '{conversation_id}'."
                    )
                await asyncio.sleep(wait)
                wait = min(wait * 2, max(wait_time_in_seconds, FIRST_WAIT))
            yield TicketLock(conversation_id)
        finally:
            # never cancelled mid-command: a cancelled redis-py call can leave its reply on
            # the pooled connection for the next command to read (wrong turns, LockErrors)
            done.set()
            await renewing
            try:
                await self.release(conversation_id, ticket)
            except Exception:  # the ticket expires by itself after lock_lifetime
                logger.exception("could not release the lock of a conversation")

    async def _keep_renewed(
        self, conversation_id: str, ticket: str, lease: float, ends: float, done: asyncio.Event
    ) -> None:
        """Renews the ticket every fifth of its lease until ``done`` or ``ends`` (the lock
        lifetime)."""
        while (left := ends - time.monotonic()) > 0:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(done.wait(), min(lease / RENEWALS_PER_LEASE, left))
            left = ends - time.monotonic()
            if done.is_set() or left <= 0:
                return
            try:
                if not await self.renew(conversation_id, ticket, min(lease, left)):
                    return
            except Exception as error:  # Redis away: the ticket lapses like a dead process's
                logger.warning("could not renew a conversation's lock: %s", error)

    async def close(self) -> None:
        """Closes the Redis connections."""
        await self.client.close()


def _client(host: str | None, settings: dict[str, Any]) -> Any:
    """An asyncio Redis client that survives a Redis restart: idle connections are checked
    before use and a command that meets a dropped connection is retried on a new one."""
    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import ExponentialBackoff
    from redis.exceptions import ConnectionError, TimeoutError

    return Redis(
        host=host or "localhost",
        port=int(settings.get("port") or 6379),
        db=int(settings.get("db") or 0),
        password=settings.get("password"),
        ssl=bool(settings.get("use_ssl", False)),
        health_check_interval=HEALTH_CHECK_SECONDS,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        retry_on_error=[ConnectionError, TimeoutError],
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), RETRIES),
    )
