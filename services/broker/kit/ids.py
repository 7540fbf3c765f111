import secrets
import time


def new_id(prefix: str) -> str:
    """Time-ordered, URL-safe ids (`apt_0193f1c2a4b5e6f7a8b9c0d1`): sortable like the rows."""
    return f"{prefix}_{int(time.time() * 1000):012x}{secrets.token_hex(6)}"
