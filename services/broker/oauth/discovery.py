"""What the authorization server's two discovery documents say alike: RFC 8414's metadata
(`/.well-known/oauth-authorization-server`, oauth/endpoints.py) and OpenID Connect's
(`/.well-known/openid-configuration`, oauth/oidc_endpoints.py) name the same issuer, endpoints
and methods. They are written once here, so that a moved endpoint or a new client
authentication method cannot reach one document and miss the other."""

from __future__ import annotations

from typing import Any

from broker.oauth.server import TOKEN_AUTH_METHODS


def shared_metadata(issuer: str) -> dict[str, Any]:
    """The fields both documents carry with the same values; `issuer` without a trailing `/`.
    Each document adds its own (its grant types, its scopes, the endpoints only it names)."""
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oauth/authorize",
        "token_endpoint": f"{issuer}/oauth/token",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "response_types_supported": ["code"],
        "token_endpoint_auth_methods_supported": TOKEN_AUTH_METHODS,
        "code_challenge_methods_supported": ["S256"],
    }
