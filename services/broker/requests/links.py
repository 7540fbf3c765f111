"""Where a request is acted on: the API's decision endpoint (for a CDO's system) and the
console's decision page (for a person, linked from every chat message and e-mail)."""

from __future__ import annotations

from dataclasses import dataclass

from broker.settings import BrokerSettings


@dataclass(frozen=True)
class Links:
    api_base: str  # OAUTH_ISSUER, the broker's public base URL
    console_base: str  # CONSOLE_BASE_URL

    @classmethod
    def of(cls, settings: BrokerSettings) -> Links:
        return cls(api_base=settings.issuer.rstrip("/"), console_base=settings.console_base)

    def decision(self, request_id: str) -> str:
        return f"{self.api_base.rstrip('/')}/v1/requests/{request_id}/decision"

    def console(self, request_id: str) -> str:
        return f"{self.console_base.rstrip('/')}/requests/{request_id}"

    def problem(self, problem_id: str) -> str:
        return f"{self.api_base.rstrip('/')}/v1/reports/problems/{problem_id}"

    def appeal_decision(self, request_id: str) -> str:
        return f"{self.api_base.rstrip('/')}/v1/requests/{request_id}/appeal/decision"
