from broker.kit.problems import Conflict, InvalidField, NotFound, Stated, Worded


class EndpointNotFound(Stated, NotFound):
    statement = (
        "your organisation has no webhook endpoint; register one with PUT /v1/webhooks/endpoint",
        "贵单位尚未登记 Webhook 接收地址；请通过 PUT /v1/webhooks/endpoint 登记",
    )


class DeliveryNotFound(Worded, NotFound):
    # 404 also for other organisations' deliveries: no existence oracle
    wording = ("no webhook delivery '{}' of yours", "未找到贵单位的 Webhook 投递记录“{}”")
    member = "delivery_id"


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
