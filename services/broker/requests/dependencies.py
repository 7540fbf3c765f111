"""What filing and deciding need from the app, as typed dependencies (kit/deps.py says how): the
routing policy the lifespan (app.py) loads, and the links every notification carries."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from broker.kit.deps import AppResource, SettingsDep
from broker.requests.links import Links
from broker.routing.policy import Policy

ROUTING_POLICY = AppResource[Policy]("routing_policy")

PolicyDep = Annotated[Policy, Depends(ROUTING_POLICY.provide)]


async def get_links(settings: SettingsDep) -> Links:  # async: no worker thread (kit/deps.py)
    return Links.of(settings)


LinksDep = Annotated[Links, Depends(get_links)]
