"""Separation of duties by person, for the kinds a body's own CDO decides (an IT project): the
body may decide its own request, but whoever filed it (the person, or the system's client
when no person filed) never does."""

from __future__ import annotations

from broker.audit.actor import Actor
from broker.requests.exceptions import RequesterCannotDecide
from broker.routing.model import OWN_CDO_KINDS
from core.models.people import Person
from core.models.requests import DataRequest


def refuse_the_filer(request: DataRequest, actor: Actor, person: Person | None) -> None:
    if request.kind not in OWN_CDO_KINDS:
        return  # the requester body never decides at all (requests/access.py)
    if request.filed_by_person_id is not None:
        filed_it = person is not None and person.id == request.filed_by_person_id
    else:
        filed_it = person is None and actor.client_id == request.filed_by_client_id
    if filed_it:
        raise RequesterCannotDecide(
            f"you filed {request.kind} '{request.id}': whoever files it never decides it",
            detail_zh=f"您是该申请（{request.id}）的提交人，提交人不得审批自己提交的事项",
        )
