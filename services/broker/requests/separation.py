"""Separation of duties by person, for the kinds a body's own CDO decides (an IT project): the
body may decide its own request, but whoever filed it never does: the person who filed it, and
the client it was filed through when that client acts without a person."""

from __future__ import annotations

from broker.audit.actor import Actor
from broker.requests.exceptions import RequesterCannotDecide
from broker.routing.model import OWN_CDO_KINDS
from core.models.people import Person
from core.models.requests import DataRequest


def refuse_the_filer(request: DataRequest, actor: Actor, person: Person | None) -> None:
    if request.kind not in OWN_CDO_KINDS:
        return  # the requester body never decides at all (requests/access.py)
    if filed_it(request, actor, person):
        raise RequesterCannotDecide(
            f"you filed {request.kind} '{request.id}': whoever files it never decides it",
            detail_zh=f"您是该申请（{request.id}）的提交人，提交人不得审批自己提交的事项",
        )


def filed_it(request: DataRequest, actor: Actor, person: Person | None) -> bool:
    if person is not None:
        return person.id == request.filed_by_person_id
    # Without a person the client answers for whoever used it, so the client that carried the
    # filing is its filer even when a person signed in to file: otherwise that person could
    # approve their own request through the same system's client-credentials token.
    return actor.client_id == request.filed_by_client_id
