"""The broker's commands of `cdo-broker` (cdo_cli), a module per group: `server` (serve, relay,
migrate), `documents` (openapi, schemas), `audit` (verify, anchor), `seed` (seed-pilot,
seed-province, seed-history), `accounts` (client, person), `webhooks` (replay), `calendar`
(calendar), `archive` (archive). Each reads BrokerSettings from the environment (`runner`)."""

from __future__ import annotations

from broker.cli import accounts, archive, audit, calendar, documents, seed, server, webhooks
from broker.cli.runner import Commands


def add_commands(commands: Commands) -> None:
    """The broker's commands, for cdo_cli's parser."""
    for group in (server, documents, audit, seed, accounts, webhooks, calendar, archive):
        group.add(commands)
