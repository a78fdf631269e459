"""How many prediction creates an account may make: a token bucket per account that holds up
to a minute's worth (`create_rate_per_minute`) and refills at that rate.

With the in-process queue there is one API process, so the buckets live in its memory. With a
Redis queue several API processes share the limit: each bucket is a small hash in that Redis,
taken from and refilled by one script (one round trip), on Redis's clock.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Protocol

from pier.queue import QueueUnavailable

if TYPE_CHECKING:
    import redis.asyncio as aioredis

KEY_PREFIX = "pier:create-rate:"

# KEYS[1]: the account's bucket; ARGV: tokens per second, most tokens. Returns "0" when a token
# was taken, else the seconds until one will be there.
_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return tostring(wait)
"""


class RateLimiter(Protocol):
    async def take(self, account_id: str) -> float:
        """Take one create from the account's bucket: 0 when allowed, else the seconds until
        the next one is."""


class LocalLimiter:
    """The buckets in this process's memory: (tokens, when last refilled) per account."""

    def __init__(self, per_minute: int) -> None:
        self.burst = float(per_minute)
        self.rate = per_minute / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}

    async def take(self, account_id: str) -> float:
        now = time.monotonic()
        tokens, at = self._buckets.get(account_id, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        if tokens < 1:
            self._buckets[account_id] = (tokens, now)
            return (1 - tokens) / self.rate
        self._buckets[account_id] = (tokens - 1, now)
        return 0.0


class RedisLimiter:
    """The buckets in Redis, shared by every API process that uses it."""

    def __init__(self, client: aioredis.Redis, per_minute: int) -> None:
        self.burst = per_minute
        self.rate = per_minute / 60.0
        self._take = client.register_script(_TAKE)

    async def take(self, account_id: str) -> float:
        from redis.exceptions import RedisError

        try:
            reply = await self._take(keys=[KEY_PREFIX + account_id], args=[self.rate, self.burst])
        except (RedisError, OSError) as exc:
            raise QueueUnavailable(f"The queue's Redis is unreachable: {exc}") from exc
        return float(reply)
