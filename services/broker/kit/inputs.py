"""What a client sends in a JSON body: a member the API does not know is refused (422
`extra_forbidden`, naming it), never dropped in silence, so that a misspelt `comment` or a field
of a newer contract cannot pass as if it had been read."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")
