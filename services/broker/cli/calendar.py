"""`cdo-broker calendar`: HOLIDAYS_FILE read as the broker reads it at start, and the working
calendar of some years printed as JSON, so an operator checks a new year before restarting."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime

from broker.calendar.days import year_summary
from broker.calendar.installed import calendar_from
from broker.cli.runner import Commands, command
from broker.settings import BrokerSettings


def _calendar(args: argparse.Namespace, settings: BrokerSettings) -> int:
    calendar = calendar_from(settings.holidays_file)
    this_year = datetime.now(UTC).year
    years = args.year or [this_year, this_year + 1]
    print(
        json.dumps(
            {
                "holidays_file": str(settings.holidays_file) if settings.holidays_file else None,
                "last_known_year": calendar.last_known_year,
                "years": [year_summary(calendar, year) for year in years],
            },
            ensure_ascii=False,
            indent=2,
        )
    )
    return 0


def add(commands: Commands) -> None:
    calendar = command(
        commands,
        "calendar",
        _calendar,
        help="check HOLIDAYS_FILE and print the working calendar of some years as JSON",
        description="Reads HOLIDAYS_FILE as the broker does at start (exit 2 naming a bad "
        "entry) and prints, per year, where its rules come from (package, file or "
        "weekends-only), the weekdays off, the weekends worked and the number of working days.",
    )
    calendar.add_argument(
        "--year",
        type=int,
        action="append",
        help="a year to print (repeatable; default: this year and the next)",
    )
