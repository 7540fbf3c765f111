"""The `cdo-broker` command: the broker's commands (serve, relay, migrate, seed-pilot, client,
webhooks, audit, openapi, schemas) and the notifier's (notifier, dlq) in one command line.

It is the one package that imports both services: each registers its commands (`add_commands`)
and reads its own settings, so neither service imports the other (pyproject's import contracts).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import broker.cli
import notifier.cli


def build_parser() -> argparse.ArgumentParser:
    what = (__doc__ or "").split("\n\n")[0]  # for its users, not how it is built
    parser = argparse.ArgumentParser(prog="cdo-broker", description=what)
    commands = parser.add_subparsers(dest="command", required=True)
    broker.cli.add_commands(commands)
    notifier.cli.add_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    raise SystemExit(handler(args))
