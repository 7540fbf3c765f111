"""Who is calling: a verified access token, turned into the caller's organisation and scopes."""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request, Security
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import OAuth2
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwt import JWTClaimsRegistry
from redis.asyncio import Redis

from broker.audit.actor import Actor
from broker.kit.deps import RedisDep, SettingsDep
from broker.kit.problems import Forbidden, ServiceUnavailable, Unauthorized
from broker.oauth import revocation
from broker.oauth.dependencies import ExternalIssuerDep, KeyRingDep
from broker.oauth.external import (
    ExternalIssuer,
    ExternalKeysUnavailable,
    ExternalTokenRefused,
    scopes_of,
)
from broker.oauth.keys import ALGORITHM, KeyRing
from broker.oauth.scopes import Scope, parse_scope
from broker.settings import BrokerSettings

_Dependency = TypeVar("_Dependency", bound=Callable[..., Any])


@dataclass(frozen=True)
class Principal:
    client_id: str
    organisation_id: str
    scopes: frozenset[str]
    token_id: str
    expires_at: int
    person_id: str | None = None  # a person's token (authorization code): who signed in

    @property
    def actor(self) -> Actor:
        """Who the audit log names for what this caller does."""
        return Actor(
            org_id=self.organisation_id, client_id=self.client_id, person_id=self.person_id
        )


# Puts the client-credentials flow and each operation's scopes into the OpenAPI document. It only
# reads the header: `authenticated` answers a missing or bad token with problem JSON itself.
bearer_token = OAuth2(
    flows=OAuthFlows(
        clientCredentials=OAuthFlowClientCredentials(
            tokenUrl="/oauth/token", scopes={scope.value: scope.value for scope in Scope}
        )
    ),
    scheme_name="oauth2",
    description="Client credentials; send the access token as `Authorization: Bearer <token>`.",
    auto_error=False,
)


class InvalidToken(Unauthorized):
    """401 with the RFC 6750 challenge, whose error_description is the English reason."""

    slug = "invalid-token"
    title = "Invalid access token"
    title_zh = "访问令牌无效"

    def __init__(self, reason: str, reason_zh: str) -> None:
        super().__init__(reason, detail_zh=reason_zh, headers=_challenge("invalid_token", reason))


def _challenge(error: str, description: str, scope: str | None = None) -> dict[str, str]:
    value = f'Bearer error="{error}", error_description="{description}"'
    if scope:
        value += f', scope="{scope}"'
    return {"WWW-Authenticate": value}


def insufficient_scope(scope: Scope, detail: str, detail_zh: str) -> Forbidden:
    """403 with the RFC 6750 challenge naming the scope the call needs."""
    return Forbidden(
        detail,
        detail_zh=detail_zh,
        headers=_challenge("insufficient_scope", "scope missing", scope.value),
        required_scope=scope.value,
    )


def decode_access_token(token: str, keyring: KeyRing, issuer: str) -> dict[str, Any]:
    """The claims of a token this broker issued, checked offline (signature, typ, iss, aud, exp);
    InvalidToken otherwise. Revocation needs Redis: see `authenticated` and introspection.
    A signature this process verified before is not checked again (oauth/verified.py); the
    claims are judged on every call."""
    kept = keyring.verified.get(token)
    if kept is None:
        try:
            decoded = jwt.decode(token, keyring.verification_keys, algorithms=[ALGORITHM])
        except (JoseError, ValueError) as exc:
            raise InvalidToken(
                "the token is malformed or its signature does not verify",
                "访问令牌格式有误，或签名验证未通过",
            ) from exc
        kept = decoded.header, decoded.claims
        keyring.verified.keep(token, *kept)
    header, claims = kept
    if header.get("typ", "").lower() not in ("at+jwt", "application/at+jwt"):
        raise InvalidToken(
            "not an access token (typ must be at+jwt)", "不是访问令牌（typ 须为 at+jwt）"
        )
    try:
        _claims_registry(issuer).validate(claims)
    except JoseError as exc:
        raise InvalidToken(
            f"the token was refused: {exc.error}", f"访问令牌未通过校验：{exc.error}"
        ) from exc
    return dict(claims)  # a copy: the kept claims stay as verified


@functools.cache
def _claims_registry(issuer: str) -> JWTClaimsRegistry:
    """The same checks for every token of one issuer; `validate` reads the clock each call."""
    return JWTClaimsRegistry(
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": issuer},
        exp={"essential": True},
        jti={"essential": True},
        client_id={"essential": True},
        org_id={"essential": True},
    )


def verify_access_token(token: str, keyring: KeyRing, issuer: str) -> Principal:
    claims = decode_access_token(token, keyring, issuer)
    return Principal(
        client_id=str(claims["client_id"]),
        organisation_id=str(claims["org_id"]),
        scopes=frozenset(parse_scope(claims.get("scope"))),
        token_id=str(claims["jti"]),
        expires_at=int(claims["exp"]),
        person_id=str(claims["person_id"]) if claims.get("person_id") else None,
    )


@dataclass(frozen=True)
class Signed:
    """A caller whose token verified offline; `revocable`: the broker's own token, whose
    revocation (in Redis) the caller of `signed` must still check before trusting it."""

    principal: Principal
    revocable: bool

    @property
    def revocation_keys(self) -> list[str]:
        if not self.revocable:
            return []
        return revocation.keys(self.principal.token_id, self.principal.client_id)


async def authenticated(
    request: Request,
    _documented: Annotated[str | None, Depends(bearer_token)],
    keyring: KeyRingDep,
    external: ExternalIssuerDep,
    settings: SettingsDep,
    redis: RedisDep,
) -> Principal:
    caller = await signed(request, keyring, external, settings)
    if await revoked(redis, caller):
        raise token_revoked()
    return caller.principal


async def revoked(redis: Redis | None, caller: Signed) -> bool:
    return caller.revocable and await revocation.is_revoked(
        redis, caller.principal.token_id, caller.principal.client_id
    )


def token_revoked() -> InvalidToken:
    return InvalidToken("the token or its client was revoked", "该令牌或其客户端已被撤销")


async def signed(
    request: Request, keyring: KeyRing, external: ExternalIssuer | None, settings: BrokerSettings
) -> Signed:
    """The caller of the Authorization header, checked offline (Unauthorized otherwise)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "send an access token: Authorization: Bearer <token> (get one at /oauth/token)",
            detail_zh="请提供访问令牌：Authorization: Bearer <令牌>（在 /oauth/token 获取）",
            headers={"WWW-Authenticate": 'Bearer realm="cdo-broker"'},
        )
    if external is not None and _issuer_of(token.strip()) == external.issuer:
        return Signed(await _external_principal(token.strip(), external), revocable=False)
    return Signed(verify_access_token(token.strip(), keyring, settings.issuer), revocable=True)


def _issuer_of(token: str) -> str | None:
    """The unverified `iss`, only to choose which keys verify the token."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    return issuer if isinstance(issuer, str) else None


async def _external_principal(token: str, external: ExternalIssuer) -> Principal:
    try:
        claims = await external.verify(token)
    except ExternalKeysUnavailable as exc:
        raise ServiceUnavailable(
            f"{exc} cannot be fetched; retry later",
            detail_zh="暂时无法获取统一身份认证平台的签名密钥，请稍后重试",
        ) from exc
    except ExternalTokenRefused as exc:
        raise InvalidToken(
            f"the identity provider's token was refused: {exc}",
            f"统一身份认证平台的令牌未通过校验：{exc}",
        ) from exc
    return Principal(
        client_id=str(claims.get("client_id") or claims.get("azp") or claims.get("sub")),
        organisation_id=str(claims[external.org_claim]),
        scopes=scopes_of(claims),
        token_id=str(claims.get("jti") or ""),
        expires_at=int(claims["exp"]),
    )


def require_scope(scope: Scope) -> Callable[[Principal], Awaitable[Principal]]:
    # A default, not an annotation: annotations are strings here, and `scope` is not a global.
    async def check(
        principal: Principal = Security(authenticated, scopes=[scope.value]),  # noqa: B008
    ) -> Principal:
        return scoped(principal, scope)

    return check


def checks_token(scope: Scope) -> Callable[[_Dependency], _Dependency]:
    """Marks a dependency that checks the bearer token and its revocation (as `authenticated`)
    and `scope` (as `require_scope(scope)`) itself, so that the route table's readers
    (testing/routes.py, the authorisation matrix) see the route guarded by both."""

    def mark(dependency: _Dependency) -> _Dependency:
        dependency.checks_scope = scope  # type: ignore[attr-defined]
        return dependency

    return mark


def scoped(principal: Principal, scope: Scope) -> Principal:
    """The caller, if its token has `scope`; else 403 naming it."""
    if scope.value not in principal.scopes:
        raise insufficient_scope(
            scope,
            f"this call needs the scope '{scope.value}'",
            f"此操作需要权限范围“{scope.value}”",
        )
    return principal


CallerDep = Annotated[Principal, Depends(authenticated)]
DirectoryAdminDep = Annotated[Principal, Depends(require_scope(Scope.directory_admin))]
CatalogAdminDep = Annotated[Principal, Depends(require_scope(Scope.catalog_admin))]
# One alias a scope that more than one router guards with, so the guard is written once.
GrantsReaderDep = Annotated[Principal, Depends(require_scope(Scope.grants_read))]
RequestsReaderDep = Annotated[Principal, Depends(require_scope(Scope.requests_read))]
RequestsSubmitterDep = Annotated[Principal, Depends(require_scope(Scope.requests_submit))]
WebhooksManagerDep = Annotated[Principal, Depends(require_scope(Scope.webhooks_manage))]
