"""OAuth clients (each belongs to one organisation, the caller's identity), and what people's
sign-in leaves behind: authorization codes and refresh tokens, kept as hashes only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from core.db import Base, UTCDateTime


class OAuthClient(Base):
    __tablename__ = "oauth_clients"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the client_id
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(Text)  # space-separated scopes the client may ask for
    # sha256 of a 256-bit random secret: high entropy makes a slow password hash unnecessary.
    secret_hash: Mapped[str] = mapped_column(String(64))
    # Space-separated redirect URIs: a client with any signs people in (authorization code).
    redirect_uris: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class _HeldForPerson:
    """What a client holds for a signed-in person (a code, a refresh token): kept by its sha256,
    with the scope granted and when it stops working."""

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the code or token
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.id"))
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    scope: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def get_scope(self) -> str:
        return self.scope


class AuthorizationCode(_HeldForPerson, Base):
    __tablename__ = "oauth_authorization_codes"

    redirect_uri: Mapped[str] = mapped_column(Text)
    nonce: Mapped[str | None] = mapped_column(Text)
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(10))
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # What authlib's grants ask of a code (AuthorizationCodeMixin), besides get_scope:
    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return int(self.auth_time.timestamp())

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None


class RefreshToken(_HeldForPerson, Base):
    __tablename__ = "oauth_refresh_tokens"

    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # What authlib's refresh grant asks of a token (TokenMixin), besides get_scope:
    def check_client(self, client: Any) -> bool:
        return bool(self.client_id == client.get_client_id())
