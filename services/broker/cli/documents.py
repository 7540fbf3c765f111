"""The commands that print or write what the broker publishes: the OpenAPI document, the event
JSON Schemas."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from broker.cli.runner import Commands, command
from broker.settings import BrokerSettings


def _openapi(args: argparse.Namespace, settings: BrokerSettings) -> int:
    from broker.openapi import render

    sys.stdout.write(render())
    return 0


def _schemas(args: argparse.Namespace, settings: BrokerSettings) -> int:
    from broker.openapi import render
    from core.events import EVENT_MODELS, schema_of

    out = Path(args.out)
    (out / "events").mkdir(parents=True, exist_ok=True)
    (out / "openapi.json").write_text(render(), encoding="utf-8")
    for name in EVENT_MODELS:
        (out / "events" / f"{name}.schema.json").write_text(schema_of(name), encoding="utf-8")
    print(f"wrote {out}/openapi.json and {len(EVENT_MODELS)} event schemas", file=sys.stderr)
    return 0


def add(commands: Commands) -> None:
    command(commands, "openapi", _openapi, help="print the OpenAPI document")
    schemas = command(
        commands, "schemas", _schemas, help="write the OpenAPI and event JSON Schemas"
    )
    schemas.add_argument("--out", default="schemas", help="the schemas folder (default: schemas)")
