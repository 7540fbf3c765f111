"""A department's system: files a data-sharing request, waits for the CDOs' decision, and on
approval fetches a grant token to call the provider's data API with.

    BROKER_URL=http://127.0.0.1:8000 CLIENT_ID=... CLIENT_SECRET=... \\
        python department_system.py gd-rst-labour-dispatch-licences licence_number company_name

(`deploy/local/run` writes demo clients to .stack/demo-clients.json.)
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta

from cdo_broker_client import BrokerClient, GrantToken
from cdo_broker_client.models import PeriodIn, RequestIn, RequestOut


async def request_data(
    broker: BrokerClient,
    dataset_id: str,
    fields: list[str],
    *,
    purpose: str,
    days: int = 90,
    idempotency_key: str | None = None,
    limit_s: float = 3600.0,
    poll_s: float = 5.0,
) -> tuple[RequestOut, GrantToken | None]:
    """File, wait for the outcome; the grant token if it was approved."""
    start = datetime.now(UTC).replace(microsecond=0)
    body = RequestIn(
        kind="share",
        dataset_id=dataset_id,
        fields=fields,
        purpose=purpose,
        period=PeriodIn(start=start, end=start + timedelta(days=days)),
    )
    filed = await broker.file_request(body, idempotency_key=idempotency_key)
    print(f"filed {filed.id}: {filed.status}, route {[s.role for s in filed.route]}")
    decided = await broker.wait_for_decision(filed.id, limit_s=limit_s, poll_s=poll_s)
    print(f"{decided.id} is {decided.status}")
    if decided.status != "approved":
        return decided, None
    return decided, await broker.grant_token(dataset_id)


async def main() -> None:
    dataset_id, *fields = sys.argv[1:]
    async with BrokerClient(
        os.environ["BROKER_URL"], os.environ["CLIENT_ID"], os.environ["CLIENT_SECRET"]
    ) as broker:
        _, token = await request_data(
            broker, dataset_id, fields, purpose="企业资质核验 / checking a company's licences"
        )
        if token is not None:
            print(f"grant {token.grant.grant_id}: fields {token.grant.fields}")
            print(f"call the provider with: Authorization: Bearer {token.access_token}")


if __name__ == "__main__":
    asyncio.run(main())
