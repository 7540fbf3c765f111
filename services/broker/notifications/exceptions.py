from broker.kit.problems import Conflict, InvalidField, NotFound


class ChannelNotFound(NotFound):
    def __init__(self, kind: str) -> None:
        super().__init__(
            f"your organisation has no {kind} channel; register one with "
            f"PUT /v1/notifications/channels/{kind}",
            kind=kind,
        )


class InvalidChannel(InvalidField):
    slug = "invalid-notification-channel"
    title = "The notification channel's settings are refused"
    title_zh = "消息通知渠道设置无效"


class SmtpNotConfigured(Conflict):
    slug = "smtp-not-configured"
    title = "E-mail is not set up on this broker"
    title_zh = "本系统未配置电子邮件发送"

    def __init__(self) -> None:
        super().__init__(
            "e-mail channels need an SMTP server, which the operator sets with SMTP_HOST",
            field="kind",
        )
