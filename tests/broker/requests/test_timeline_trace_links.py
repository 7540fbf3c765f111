"""The timeline links each trace id to the operators' trace viewer (TRACE_UI_URL, e.g. the local
Jaeger's), so the trace of a stuck request is one click away; without the setting, no links."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from testing.apps import broker_with
from testing.clients import Headers, Sessions, file
from testing.people import new_person, sign_in
from testing.settings import Settings
from testing.workloads import request_body

pytestmark = pytest.mark.integration
VIEWER = "http://127.0.0.1:16686/trace/{trace_id}"


async def _timeline(http: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    filed = await file(http, headers, request_body("gz-gaj-household-migration", ["id_number"]))
    assert filed.status_code == 201, filed.text
    answer = await http.get(f"/v1/requests/{filed.json()['id']}/timeline", headers=headers)
    assert answer.status_code == 200, answer.text
    timeline: dict[str, Any] = answer.json()
    assert timeline["trace_id"] == filed.json()["trace_id"]
    return timeline


async def test_each_trace_id_links_to_the_trace_viewer(
    app: FastAPI, settings: Settings, as_org: Headers
) -> None:
    async with broker_with(app, settings, trace_ui_url=VIEWER) as http:
        timeline = await _timeline(http, await as_org("gz-rsj"))

    assert timeline["trace_url"] == f"http://127.0.0.1:16686/trace/{timeline['trace_id']}"
    assert timeline["events"]
    for event in timeline["events"]:
        assert event["trace_url"] == f"http://127.0.0.1:16686/trace/{event['trace_id']}"


async def test_the_consoles_request_page_links_its_trace_id_to_the_viewer(
    app: FastAPI, settings: Settings, sessionmaker: Sessions, as_org: Headers
) -> None:
    staff = await new_person(sessionmaker, settings, "gz-rsj", "staff")
    async with broker_with(app, settings, trace_ui_url=VIEWER) as http:
        headers = await as_org("gz-rsj")
        filed = await file(http, headers, request_body("gz-gaj-household-migration", ["id_number"]))
        assert filed.status_code == 201, filed.text
        await sign_in(http, staff)
        page = await http.get(f"/console/requests/{filed.json()['id']}")

    assert page.status_code == 200, page.text
    trace_id = filed.json()["trace_id"]
    assert f'href="http://127.0.0.1:16686/trace/{trace_id}"' in page.text


async def test_without_a_trace_viewer_there_are_no_links(
    client: httpx.AsyncClient, as_org: Headers
) -> None:
    timeline = await _timeline(client, await as_org("gz-rsj"))

    assert timeline["trace_url"] is None
    assert timeline["events"]
    assert {event["trace_url"] for event in timeline["events"]} == {None}


def test_a_viewer_url_must_say_where_the_trace_id_goes() -> None:
    with pytest.raises(ValidationError, match="TRACE_UI_URL must contain"):
        Settings.model_validate({"TRACE_UI_URL": "http://127.0.0.1:16686/trace/"})
