"""Client for the CDO data-sharing broker (首席数据官数据共享申请中枢).

- `BrokerClient`: tokens, filing, listing, deciding, grants and grant tokens (async).
- `verify_webhook` / `parse_webhook`: the broker's signed webhooks, typed.
- `GrantGuard`: ASGI middleware that guards a provider's data API with grant tokens.
"""

from cdo_broker_client.client import BrokerClient
from cdo_broker_client.errors import (
    BrokerError,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    OAuthError,
    Problem,
    RateLimited,
    ServerError,
    TransportError,
    Unauthorized,
    Unavailable,
)
from cdo_broker_client.events import WebhookEvent, parse_webhook
from cdo_broker_client.grants import DataGrant, GrantToken
from cdo_broker_client.guard import Granted, GrantGuard, ServedDataset
from cdo_broker_client.webhooks import WebhookVerificationError, verify_webhook

__all__ = [
    "BrokerClient",
    "BrokerError",
    "Conflict",
    "DataGrant",
    "Forbidden",
    "GrantGuard",
    "GrantToken",
    "Granted",
    "Invalid",
    "NotFound",
    "OAuthError",
    "Problem",
    "RateLimited",
    "ServedDataset",
    "ServerError",
    "TransportError",
    "Unauthorized",
    "Unavailable",
    "WebhookEvent",
    "WebhookVerificationError",
    "parse_webhook",
    "verify_webhook",
]
