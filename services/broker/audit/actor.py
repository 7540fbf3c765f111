"""Who did something, as the audit log records it: the organisation, its OAuth client and, once
people sign in, the person. Built once per call from the caller's principal."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    org_id: str | None  # the acting organisation; None: the broker itself (the SLA job)
    client_id: str | None = None  # the OAuth client the call came through
    person_id: str | None = None  # the person signed in (the console, a person's token)

    @property
    def organisation(self) -> str:
        """The acting organisation, for what only a caller does (every API call has one)."""
        if self.org_id is None:
            raise ValueError("the broker itself acts for no organisation here")
        return self.org_id


# Work the broker does on its own: expiries, escalations, grants an automatic approval issues.
SYSTEM = Actor(org_id=None)
