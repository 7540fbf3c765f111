from broker.kit.problems import Conflict, InvalidField, NotFound


class EndpointNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__(
            "your organisation has no webhook endpoint; register one with PUT /v1/webhooks/endpoint"
        )


class DeliveryNotFound(NotFound):
    def __init__(self, delivery_id: str) -> None:
        # 404 also for other organisations' deliveries: no existence oracle
        super().__init__(f"no webhook delivery '{delivery_id}' of yours", delivery_id=delivery_id)


class UnsafeUrl(InvalidField):
    slug = "unsafe-webhook-url"
    title = "The webhook URL is refused"
    title_zh = "Webhook 地址被拒绝"

    def __init__(self, reason: str, *, field: str = "url") -> None:
        super().__init__(field, reason)


class AlreadyDelivered(Conflict):
    slug = "webhook-already-delivered"
    title = "The delivery was delivered"
    title_zh = "该消息已送达"
