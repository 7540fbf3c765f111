"""OAuth clients' problems."""

from __future__ import annotations

from broker.kit.problems import NotFound, Problem


class UnknownScope(Problem):
    status = 422
    slug = "unknown-scope"
    title = "Unknown scope"
    title_zh = "未知的权限范围"


class InvalidRedirectUri(Problem):
    status = 422
    slug = "invalid-redirect-uri"
    title = "Invalid redirect URI"
    title_zh = "回调地址无效"


class ClientNotFound(NotFound):
    def __init__(self, client_id: str) -> None:
        super().__init__(f"no client '{client_id}'", client_id=client_id)
