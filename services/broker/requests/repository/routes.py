"""A request's route (its steps, their approvers, the decisions taken) and what hangs off it: its
grant, an open clarification, the problem reports that name it, the approved demands a draft
entry answers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import exists, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.orm.util import identity_key

from core.models.catalog import Dataset
from core.models.directory import Organisation
from core.models.grants import Grant
from core.models.problems import ProblemNamedRequest
from core.models.requests import Clarification, DataRequest, Decision, RequestStep, StepApprover

_Routed = TypeVar("_Routed", RequestStep, StepApprover, Decision)


async def _of_requests(
    session: AsyncSession,
    model: type[_Routed],
    request_ids: Sequence[str],
    *order: InstrumentedAttribute[Any],
) -> Sequence[_Routed]:
    """The rows of `model` that belong to the requests, in `order`."""
    query = select(model).where(model.request_id.in_(request_ids)).order_by(*order)
    return (await session.scalars(query)).all()


async def steps_of(session: AsyncSession, request_ids: Sequence[str]) -> Sequence[RequestStep]:
    return await _of_requests(
        session, RequestStep, request_ids, RequestStep.request_id, RequestStep.index
    )


async def approvers_of(session: AsyncSession, request_ids: Sequence[str]) -> Sequence[StepApprover]:
    return await _of_requests(
        session, StepApprover, request_ids, StepApprover.added_at, StepApprover.id
    )


async def decisions_of(session: AsyncSession, request_ids: Sequence[str]) -> Sequence[Decision]:
    return await _of_requests(session, Decision, request_ids, Decision.created_at, Decision.id)


_Row = TypeVar("_Row", Organisation, Dataset)


def _held(session: AsyncSession, model: type[_Row], id: str) -> _Row | None:
    """The row if the session holds it loaded (what `session.get` would answer with no read)."""
    row = session.identity_map.get(identity_key(model, id))
    return row if isinstance(row, model) and not inspect(row).expired_attributes else None


async def parties_of(
    session: AsyncSession, requester_id: str, dataset_id: str | None
) -> tuple[Organisation | None, Dataset | None]:
    """The requester and the dataset (None without one): from the session when it holds them
    (a decision read them with its lock), else both in one statement."""
    requester = _held(session, Organisation, requester_id)
    dataset = _held(session, Dataset, dataset_id) if dataset_id is not None else None
    if requester is not None and (dataset_id is None or dataset is not None):
        return requester, dataset
    if dataset_id is None:
        return await session.get(Organisation, requester_id), None
    row = (
        await session.execute(
            select(Organisation, Dataset)
            .select_from(Organisation)
            .outerjoin(Dataset, Dataset.id == dataset_id)
            .where(Organisation.id == requester_id)
        )
    ).first()
    return (row[0], row[1]) if row else (None, None)


async def grants_of(session: AsyncSession, request_ids: Sequence[str]) -> dict[str, str]:
    rows = await session.execute(
        select(Grant.request_id, Grant.id).where(Grant.request_id.in_(request_ids))
    )
    return {a: b for a, b in rows}  # noqa: C416 (Row is not a 2-sequence for dict())


async def approved_demands_for(session: AsyncSession, dataset_id: str) -> Sequence[DataRequest]:
    """The approved demands whose draft entry is `dataset_id`, without a grant yet, locked."""
    return (
        await session.scalars(
            select(DataRequest)
            .where(
                DataRequest.kind == "demand",
                DataRequest.dataset_id == dataset_id,
                DataRequest.status == "approved",
                ~exists().where(Grant.request_id == DataRequest.id),
            )
            .order_by(DataRequest.id)
            .with_for_update()
        )
    ).all()


async def open_clarification(session: AsyncSession, step_id: str) -> Clarification | None:
    return await session.scalar(
        select(Clarification).where(
            Clarification.step_id == step_id, Clarification.answered_at.is_(None)
        )
    )


async def problems_naming(session: AsyncSession, request_id: str) -> list[str]:
    """The problem reports (问题反映) that name the request."""
    query = select(ProblemNamedRequest.problem_id).where(
        ProblemNamedRequest.request_id == request_id
    )
    return list(await session.scalars(query))
