"""The queue in Redis Streams: one stream per pool, read through one consumer group.

Each lane of a pool is its own stream (`keys.stream(pool, lane)`); a claim reads the lanes in
order, so a job of a higher lane is delivered only while the lower lanes are empty.
A claim is an XREADGROUP delivery; an ack retires it (XACK, then XDEL so streams stay short).
A delivery that nobody acknowledges within `reclaim_after` seconds (its worker died between
claiming and finishing) is handed to the next claimer with XAUTOCLAIM; the store, not the queue,
decides whether a job still needs running, so a second delivery never runs a job twice.

A blocking read waits at most `MAX_BLOCK` seconds at a time, and the client waits `READ_TIMEOUT`
for any reply: longer than a read blocks (else every empty wait would end as a timeout and look
like an outage), short enough that a Redis that went silent is noticed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from pier.queue import keys
from pier.queue.base import HIGH_LANE, LANES, USER_LANE, Claim, QueueUnavailable, check_lane

MAX_BLOCK = 10.0  # seconds one XREADGROUP blocks; a longer claim reads again
READ_TIMEOUT = MAX_BLOCK + 5.0  # seconds the client waits for any reply

# Remove a queued job only if the group has not delivered it yet: atomically, so a worker
# cannot claim it between the check and the delete.
_REMOVE = """
local found = redis.call('HGET', KEYS[2], ARGV[1])
if not found then return 0 end
local entry = string.match(found, ' (%S+)$')
local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
for _, group in ipairs(groups) do
  local info = {}
  for i = 1, #group, 2 do info[group[i]] = group[i + 1] end
  if info['name'] == ARGV[2] then
    local last = info['last-delivered-id']
    local lm, ls = string.match(last, '(%d+)-(%d+)')
    local em, es = string.match(entry, '(%d+)-(%d+)')
    lm, ls, em, es = tonumber(lm), tonumber(ls), tonumber(em), tonumber(es)
    if em < lm or (em == lm and es <= ls) then return 0 end
  end
end
redis.call('XDEL', KEYS[1], entry)
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
"""


DEPTH_LIMIT = 100_000  # depth is counted up to this many waiting jobs


def _after(entry: str) -> str:
    """The stream id just after `entry`, for exclusive ranges."""
    ms, _, seq = entry.partition("-")
    return f"{ms}-{int(seq) + 1}"


class RedisQueue:
    record_first = True

    def __init__(self, url: str, reclaim_after: float = 60.0) -> None:
        self.url = url
        self.reclaim_after = reclaim_after
        self.redis: aioredis.Redis = aioredis.Redis.from_url(
            url, decode_responses=True, health_check_interval=10, socket_timeout=READ_TIMEOUT
        )
        self._groups: set[str] = set()
        self._held: list[Claim] = []  # extra deliveries of a multi-stream read, served next
        self._remove = self.redis.register_script(_REMOVE)

    async def start(self) -> None:
        await self._call(self.redis.ping())

    async def close(self) -> None:
        await self.redis.aclose()

    async def _call(self, awaitable: Any) -> Any:
        try:
            return await awaitable
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            # Redis lost its data (a restart without persistence): make the groups again.
            self._groups.clear()
            raise QueueUnavailable(f"The queue at {self.url} lost its consumer group") from exc
        except (RedisError, OSError) as exc:
            raise QueueUnavailable(f"The queue at {self.url} is unreachable: {exc}") from exc

    async def _group(self, pool: str) -> None:
        if pool in self._groups:
            return
        for lane in LANES:
            try:
                await self._call(
                    self.redis.xgroup_create(keys.stream(pool, lane), keys.GROUP, "0", True)
                )
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise QueueUnavailable(f"The queue at {self.url} refused: {exc}") from exc
        self._groups.add(pool)

    async def put(self, pool: str, job_id: str, lane: int = USER_LANE) -> None:
        check_lane(lane)
        await self._group(pool)
        entry = await self._call(self.redis.xadd(keys.stream(pool, lane), {"job": job_id}))
        await self._call(self.redis.hset(keys.ENTRIES, job_id, f"{pool} {lane} {entry}"))

    async def claim(self, pools: Sequence[str], consumer: str, timeout: float) -> Claim | None:
        for index, held in enumerate(self._held):
            if held.pool in pools:
                return self._held.pop(index)
        deadline = time.monotonic() + timeout
        lanes = {keys.stream(pool, lane): (pool, lane) for lane in LANES for pool in pools}
        while True:
            for pool in pools:
                await self._group(pool)
            # The lanes in order, without blocking: a higher lane only once the lower are empty.
            # Abandoned deliveries (rare) are served in their lane's turn, held until then.
            reclaimed = await self._reclaim(pools, consumer)
            for lane in LANES:
                if reclaimed and reclaimed[0].lane == lane:
                    self._held.extend(reclaimed[1:])
                    return reclaimed[0]
                found = await self._read(
                    consumer, [keys.stream(pool, lane) for pool in pools], None, lanes
                )
                if found is not None:
                    self._held.extend(reclaimed)
                    return found
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            block = max(1, int(min(left, MAX_BLOCK) * 1000))
            found = await self._read(consumer, list(lanes), block, lanes)
            if found is not None:
                return found
            if left <= MAX_BLOCK:
                return None

    async def _read(
        self,
        consumer: str,
        streams: list[str],
        block: int | None,
        lanes: dict[str, tuple[str, int]],
    ) -> Claim | None:
        """One XREADGROUP of new entries; the most urgent delivery, the rest held for later."""
        reply = await self._call(
            self.redis.xreadgroup(
                keys.GROUP, consumer, {name: ">" for name in streams}, count=1, block=block
            )
        )
        delivered = [
            (lanes[stream][1], Claim(lanes[stream][0], fields["job"], entry, lanes[stream][1]))
            for stream, entries in reply or []
            for entry, fields in entries
            if fields
        ]
        if not delivered:
            return None
        delivered.sort(key=lambda item: item[0])
        self._held.extend(claim for _, claim in delivered[1:])
        return delivered[0][1]

    async def _reclaim(self, pools: Sequence[str], consumer: str) -> list[Claim]:
        """Deliveries nobody acknowledged for `reclaim_after` seconds, at most one per lane and
        pool, the most urgent lane first: every lane asked in one round trip."""
        order = [(pool, lane) for lane in LANES for pool in pools]
        async with self.redis.pipeline(transaction=False) as pipe:
            for pool, lane in order:
                pipe.xautoclaim(
                    keys.stream(pool, lane),
                    keys.GROUP,
                    consumer,
                    min_idle_time=int(self.reclaim_after * 1000),
                    start_id="0-0",
                    count=1,
                )
            replies = await self._call(pipe.execute())
        return [
            Claim(pool, fields["job"], entry, lane)
            for (pool, lane), reply in zip(order, replies, strict=True)
            for entry, fields in (reply[1] if reply else [])
            if fields
        ]

    async def _lane_of(self, job_id: str) -> tuple[int, str] | None:
        """The lane and stream entry of a queued or claimed job."""
        found = await self._call(self.redis.hget(keys.ENTRIES, job_id))
        if not found:
            return None
        parts = found.split(" ")
        # An entry written before lanes existed is in the pool's first stream.
        return (int(parts[1]) if len(parts) > 2 else HIGH_LANE), parts[-1]

    async def ack(self, claim: Claim) -> None:
        stream = keys.stream(claim.pool, claim.lane)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xack(stream, keys.GROUP, claim.receipt)
            pipe.xdel(stream, claim.receipt)
            pipe.hdel(keys.ENTRIES, claim.job_id)
            await self._call(pipe.execute())

    async def remove(self, pool: str, job_id: str) -> bool:
        await self._group(pool)
        where = await self._lane_of(job_id)
        if where is None:
            return False
        removed = await self._call(
            self._remove(
                keys=[keys.stream(pool, where[0]), keys.ENTRIES], args=[job_id, keys.GROUP]
            )
        )
        return bool(removed)

    async def holds(self, pool: str, job_id: str) -> bool:
        return bool(await self._call(self.redis.hexists(keys.ENTRIES, job_id)))

    async def _last_delivered(self, pool: str, lane: int) -> str:
        await self._group(pool)
        for group in await self._call(self.redis.xinfo_groups(keys.stream(pool, lane))):
            if group["name"] == keys.GROUP:
                return str(group["last-delivered-id"])
        return "0-0"

    async def _waiting(self, pool: str, lane: int, until: str = "+") -> int:
        """How many entries of a lane wait undelivered, up to entry `until` (included)."""
        last = await self._last_delivered(pool, lane)
        if until != "+" and _sortable(until) <= _sortable(last):
            return 0
        waiting = await self._call(
            self.redis.xrange(keys.stream(pool, lane), _after(last), until, count=DEPTH_LIMIT)
        )
        return len(waiting)

    async def position(self, pool: str, job_id: str) -> int | None:
        where = await self._lane_of(job_id)
        if where is None:
            return None
        lane, entry = where
        if _sortable(entry) <= _sortable(await self._last_delivered(pool, lane)):
            return None  # delivered: no longer waiting
        mine = await self._waiting(pool, lane, entry)
        before = sum([await self._waiting(pool, lower) for lower in LANES if lower < lane])
        return before + max(0, mine - 1)

    async def unfinished(self, pool: str) -> int:
        await self._group(pool)
        count = 0
        for lane in LANES:
            summary = await self._call(self.redis.xpending(keys.stream(pool, lane), keys.GROUP))
            count += int(summary.get("pending", 0)) if isinstance(summary, dict) else 0
        return count

    async def depth(self, pool: str, lane: int | None = None) -> int:
        # Counted, not read from the group's `lag`: after deletions (acks delete entries) Redis
        # may report a lag that is no longer true.
        lanes = LANES if lane is None else (lane,)
        return sum([await self._waiting(pool, one) for one in lanes])


def _sortable(entry: str) -> tuple[int, int]:
    ms, _, seq = entry.partition("-")
    return int(ms), int(seq or 0)
