import itertools
import secrets
import time

_sequence = itertools.count()


def new_id(prefix: str) -> str:
    """Time-ordered, URL-safe ids (`req_0193f1c2a4b5e0001a7c3f9e21`): sortable like the rows.

    Milliseconds first, then a per-process counter (ids made in one millisecond keep their
    order), then randomness so that processes never collide.
    """
    millis = int(time.time() * 1000)
    return f"{prefix}_{millis:012x}{next(_sequence) % 0x10000:04x}{secrets.token_hex(5)}"
