from broker.kit.problems import Conflict, InvalidField, NotFound


class EndpointNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__(
            "your organisation has no webhook endpoint; register one with "
            "PUT /v1/webhooks/endpoint",
            detail_zh="贵单位尚未登记 Webhook 接收地址；请通过 PUT /v1/webhooks/endpoint 登记",
        )


class DeliveryNotFound(NotFound):
    def __init__(self, delivery_id: str) -> None:
        # 404 also for other organisations' deliveries: no existence oracle
        super().__init__(
            f"no webhook delivery '{delivery_id}' of yours",
            detail_zh=f"未找到贵单位的 Webhook 投递记录“{delivery_id}”",
            delivery_id=delivery_id,
        )


class UnsafeUrl(InvalidField):
    slug = "unsafe-webhook-url"
    title = "The webhook URL is refused"
    title_zh = "Webhook 地址被拒绝"

    def __init__(self, reason: str, reason_zh: str, *, field: str = "url") -> None:
        super().__init__(field, reason, reason_zh)  # core/webhooks/urls.py words both


class AlreadyDelivered(Conflict):
    slug = "webhook-already-delivered"
    title = "The delivery was delivered"
    title_zh = "该消息已送达"
