"""A provider's data API (省人社厅's labour dispatch licences and HR service agencies) behind
GrantGuard: only holders of a grant get in, and only the granted fields come out.

    BROKER_URL=... CLIENT_ID=... CLIENT_SECRET=... uvicorn provider_api:app --port 9100

The provider's client needs `grants:read` (the feed of its grants' changes) and
`tokens:introspect` (to report uses).
"""

from __future__ import annotations

import os
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from cdo_broker_client import GrantGuard, ServedDataset

LICENCES = [
    {
        "licence_number": "粤人社派440100001",
        "company_name": "广州示例人力资源有限公司",
        "credit_code": "91440101MA59XXXX1X",
        "legal_representative": "陈某",
        "registered_capital": "2000000",
        "issued_on": "2024-03-01",
        "division_code": "440106",
    },
    {
        "licence_number": "粤人社派440300002",
        "company_name": "深圳示例劳务派遣有限公司",
        "credit_code": "91440300MA5GXXXX2Y",
        "legal_representative": "李某",
        "registered_capital": "3000000",
        "issued_on": "2023-11-15",
        "division_code": "440304",
    },
]
AGENCIES = [
    {
        "agency_name": "广州天河人才服务中心",
        "credit_code": "12440106XXXX3Z",
        "licence_number": "粤人服440106001",
        "service_scope": "职业介绍",
        "address": "广州市天河区示例路1号",
        "division_code": "440106",
    },
    {
        "agency_name": "韶关浈江人力资源服务站",
        "credit_code": "12440204XXXX4W",
        "licence_number": "粤人服440204002",
        "service_scope": "人力资源测评",
        "address": "韶关市浈江区示例街2号",
        "division_code": "440204",
    },
]
DATASETS = [
    ServedDataset("gd-rst-labour-dispatch-licences", "/licences", records_key="items"),
    # a city asks for its own part of this dataset (data return): rows by their division code
    ServedDataset("gd-rst-hr-service-agencies", "/agencies", jurisdiction_field="division_code"),
]


async def licences(request: Request) -> JSONResponse:
    # The guard removes what the grant does not cover: the API answers as if to anyone.
    body: dict[str, Any] = {"items": LICENCES, "next_cursor": None}
    return JSONResponse(body)


async def licence(request: Request) -> JSONResponse:
    number = request.path_params["number"]
    found = [row for row in LICENCES if row["licence_number"] == number]
    return JSONResponse(found[0] if found else {"detail": "not found"}, 200 if found else 404)


async def agencies(request: Request) -> JSONResponse:
    return JSONResponse(AGENCIES)


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def create_api() -> Starlette:
    return Starlette(
        routes=[
            Route("/licences", licences),
            Route("/licences/{number}", licence),
            Route("/agencies", agencies),
            Route("/healthz", healthz),
        ]
    )


def create_app(broker_url: str, client_id: str, client_secret: str, **options: Any) -> GrantGuard:
    return GrantGuard(
        create_api(),
        broker_url=broker_url,
        client_id=client_id,
        client_secret=client_secret,
        datasets=DATASETS,
        **options,
    )


def from_environment() -> GrantGuard:
    return create_app(
        os.environ["BROKER_URL"], os.environ["CLIENT_ID"], os.environ["CLIENT_SECRET"]
    )


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(from_environment(), port=int(os.environ.get("PORT", "9100")))
