"""OAuth clients' problems."""

from __future__ import annotations

from broker.kit.problems import NotFound, Problem


class UnknownScope(Problem):
    status = 422
    slug = "unknown-scope"
    title = "Unknown scope"
    title_zh = "未知的权限范围"

    def __init__(self, unknown: list[str]) -> None:
        super().__init__(
            f"unknown scope(s): {', '.join(unknown)}",
            detail_zh=f"未知的权限范围：{'、'.join(unknown)}",
            field="scope",
        )


class InvalidRedirectUri(Problem):
    status = 422
    slug = "invalid-redirect-uri"
    title = "Invalid redirect URI"
    title_zh = "回调地址无效"

    def __init__(self, uri: str) -> None:
        super().__init__(
            f"'{uri}': a redirect URI is an absolute https URL without a fragment "
            "(http only on a loopback host)",
            detail_zh=f"“{uri}”：回调地址须为不含片段（#）的绝对 https 地址"
            "（仅本机回环地址可用 http）",
            field="redirect_uris",
        )


class ClientNotFound(NotFound):
    def __init__(self, client_id: str) -> None:
        super().__init__(
            f"no client '{client_id}'", detail_zh=f"未找到客户端“{client_id}”", client_id=client_id
        )
