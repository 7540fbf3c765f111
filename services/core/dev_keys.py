"""Keys that development mode generates when none is configured, kept under BROKER_DEV_KEY_DIR.

Production never generates one (each caller refuses to start without its setting). A key file is
created once: written aside and linked into place, so that processes starting together (a broker
and a notifier, a migration and a broker) agree on one key and never read a half-written file.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

logger = logging.getLogger(__name__)


def dev_key(directory: Path, name: str, generate: Callable[[], bytes]) -> bytes:
    """The key in `directory/name`, made by `generate` if the file does not exist yet."""
    path = directory / name
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        descriptor, draft_name = tempfile.mkstemp(prefix=f".{name}.", dir=directory)  # 0600
        draft = Path(draft_name)
        with os.fdopen(descriptor, "wb") as file:
            file.write(generate())
        try:
            os.link(draft, path)
            logger.warning("development mode: generated %s", path)
        except FileExistsError:
            pass  # another process or thread made it first: use theirs
        finally:
            with contextlib.suppress(FileNotFoundError):
                draft.unlink()
    return path.read_bytes().strip()
