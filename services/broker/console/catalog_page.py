"""政务数据资源目录 for everyone signed in: each published dataset with its provider, sharing
class, grade, catalog attributes and fields (personal ones flagged), found by a word of its name
or by sharing class, a page at a time; the staff of a body that files requests go on from a
dataset to the filing form. Draft entries (a demand's, until published) are not shown."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from broker.catalog import service as catalog
from broker.console.names import organisation_names
from broker.console.session import SignedInDep, may_act
from broker.console.web import language, render
from broker.kit.deps import SessionDep
from broker.oauth.scopes import Scope
from core.models.catalog import DatasetStatus, SharingClass

router = APIRouter()

PAGE = 50


@router.get("/catalog")
async def catalog_page(
    request: Request,
    session: SessionDep,
    me: SignedInDep,
    q: Annotated[str, Query(max_length=100)] = "",
    sharing_class: Annotated[str, Query(max_length=20)] = "",
    after: Annotated[str | None, Query(max_length=100)] = None,
) -> HTMLResponse:
    classes = [c.value for c in SharingClass]
    chosen = sharing_class if sharing_class in classes else ""  # "": every class
    rows = await catalog.list_datasets(
        session, owner_id=None, sharing_class=chosen or None, after=after, limit=PAGE + 1,
        words=q.strip() or None, status=DatasetStatus.published,
    )  # fmt: skip
    shown = rows[:PAGE]
    return render(
        request,
        "catalog.html",
        me=me,
        datasets=shown,
        owners=await organisation_names(session, [d.owner_id for d in shown], language(request)),
        q=q,
        sharing_class=chosen,
        classes=classes,
        next_after=shown[-1].id if len(rows) > PAGE else None,
        may_file=may_act(me.person.role, Scope.requests_submit),
    )
