"""OAuth clients' problems."""

from __future__ import annotations

from broker.kit.problems import NotFound, Problem, Worded


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


class InvalidRedirectUri(Worded, Problem):
    status = 422
    slug = "invalid-redirect-uri"
    title = "Invalid redirect URI"
    title_zh = "回调地址无效"
    wording = (
        "'{}': a redirect URI is an absolute https URL without a fragment "
        "(http only on a loopback host)",
        "“{}”：回调地址须为不含片段（#）的绝对 https 地址（仅本机回环地址可用 http）",
    )
    field = "redirect_uris"


class ClientNotFound(Worded, NotFound):
    wording = ("no client '{}'", "未找到客户端“{}”")
    member = "client_id"
