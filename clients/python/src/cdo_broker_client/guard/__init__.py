"""GrantGuard: offline checks of grant tokens in front of a provider's data API."""

from cdo_broker_client.guard.checks import Granted, Refused, TokenChecker
from cdo_broker_client.guard.filtering import division_contains, filter_answer
from cdo_broker_client.guard.middleware import GrantGuard, ServedDataset

__all__ = [
    "GrantGuard",
    "Granted",
    "Refused",
    "ServedDataset",
    "TokenChecker",
    "division_contains",
    "filter_answer",
]
