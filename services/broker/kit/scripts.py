"""A Lua script run by its SHA1 (EVALSHA), as redis-py's `Script` does, without that class's
per-call work: the body (the admission's is 1.4 kB) is packed and sent to a Redis server only
when it does not know the script yet, not on every call (docs/BENCHMARKS.md: ~10 µs of CPU a
call, on every token, filing and introspection).

A server that answers NOSCRIPT (restarted, failed over, its scripts flushed) gets the body with
EVAL, which runs the script and keeps it, so the next call's EVALSHA finds it: the answer is the
same either way, one round trip more once per server.
"""

from __future__ import annotations

import hashlib
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError


class LuaScript:
    def __init__(self, body: str) -> None:
        self.body = body
        self.sha = hashlib.sha1(body.encode(), usedforsecurity=False).hexdigest()

    async def run(self, redis: Redis, keys: int, *keys_and_args: Any) -> Any:
        try:
            return await redis.execute_command(  # type: ignore[no-untyped-call]
                "EVALSHA", self.sha, keys, *keys_and_args
            )
        except NoScriptError:
            return await redis.execute_command(  # type: ignore[no-untyped-call]
                "EVAL", self.body, keys, *keys_and_args
            )
