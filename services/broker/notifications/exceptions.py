from broker.kit.problems import Conflict, InvalidField, NotFound, Stated
from broker.notifications.credentials import KINDS_ZH


class ChannelNotFound(NotFound):
    def __init__(self, kind: str) -> None:
        super().__init__(
            f"your organisation has no {kind} channel; register one with "
            f"PUT /v1/notifications/channels/{kind}",
            detail_zh=f"贵单位尚未登记{KINDS_ZH.get(kind, kind)}消息通知渠道；"
            f"请通过 PUT /v1/notifications/channels/{kind} 登记",
            kind=kind,
        )


class InvalidChannel(InvalidField):
    slug = "invalid-notification-channel"
    title = "The notification channel's settings are refused"
    title_zh = "消息通知渠道设置无效"


class SmtpNotConfigured(Stated, Conflict):
    slug = "smtp-not-configured"
    title = "E-mail is not set up on this broker"
    title_zh = "本系统未配置电子邮件发送"
    statement = (
        "e-mail channels need an SMTP server, which the operator sets with SMTP_HOST",
        "电子邮件渠道需要 SMTP 服务器，由运维人员以 SMTP_HOST 配置",
    )
    field = "kind"
