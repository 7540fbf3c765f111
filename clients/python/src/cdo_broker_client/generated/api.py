"""Generated from the broker's schemas by scripts/generate_models.py: do not edit."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, RootModel


class AnswerIn(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    resolution: Annotated[
        str,
        Field(
            description="how the bureau resolved it",
            max_length=8000,
            min_length=2,
            title="Resolution",
        ),
    ]


class Fields(RootModel[list[str]]):
    root: Annotated[
        list[str],
        Field(
            description="overturn: approve only these of those asked", min_length=1, title="Fields"
        ),
    ]


class AppealIn(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    reason: Annotated[
        str,
        Field(
            description="why the refusal is wrong", max_length=4000, min_length=2, title="Reason"
        ),
    ]


class AppointmentEnd(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    ends_at: Annotated[AwareDatetime | None, Field(description="default: now", title="Ends At")] = (
        None
    )
    reason: Annotated[str, Field(max_length=1000, min_length=1, title="Reason")]


class AppointmentIn(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    appointed_by: Annotated[str, Field(max_length=200, min_length=1, title="Appointed By")]
    ends_at: Annotated[AwareDatetime | None, Field(title="Ends At")] = None
    filed_with_id: Annotated[
        str | None,
        Field(
            description="the data bureau the appointment is filed with (备案): a government's CDO with the bureau one level up (a city's with the provincial bureau), a department's or bureau's with its own government's; default: that bureau; another is 422 wrong-filing-bureau",
            title="Filed With Id",
        ),
    ] = None
    organisation_id: Annotated[str, Field(title="Organisation Id")]
    person_id: Annotated[
        str | None,
        Field(
            description="the CDO's person account (of the same body): only that person decides",
            title="Person Id",
        ),
    ] = None
    person_name: Annotated[str, Field(max_length=100, min_length=1, title="Person Name")]
    replaces: Annotated[
        str | None,
        Field(
            description="id of the current appointment this one succeeds; it ends at starts_at",
            title="Replaces",
        ),
    ] = None
    starts_at: Annotated[AwareDatetime, Field(title="Starts At")]
    title: Annotated[str, Field(max_length=100, min_length=1, title="Title")]


class AppointmentOut(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    appointed_by: Annotated[str, Field(title="Appointed By")]
    created_at: Annotated[AwareDatetime, Field(title="Created At")]
    end_reason: Annotated[str | None, Field(title="End Reason")]
    ends_at: Annotated[AwareDatetime | None, Field(title="Ends At")]
    filed_at: Annotated[
        AwareDatetime, Field(description="when the bureau took the filing", title="Filed At")
    ]
    filed_with_id: Annotated[str, Field(title="Filed With Id")]
    filing_receipt: Annotated[
        str,
        Field(
            description="the filing receipt (备案号): the bureau's division code, the year and its sequence number that year, e.g. 440000-2021-0007",
            title="Filing Receipt",
        ),
    ]
    id: Annotated[str, Field(title="Id")]
    organisation_id: Annotated[str, Field(title="Organisation Id")]
    person_id: Annotated[
        str | None, Field(description="the CDO's person account", title="Person Id")
    ] = None
    person_name: Annotated[str, Field(title="Person Name")]
    starts_at: Annotated[AwareDatetime, Field(title="Starts At")]
    title: Annotated[str, Field(title="Title")]


class ApproverOut(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    acting_for: Annotated[str | None, Field(title="Acting For")]
    cdo: Annotated[
        str | None, Field(description="name of the approver's active CDO, if any", title="Cdo")
    ]
    current: Annotated[bool, Field(title="Current")]
    escalated_from: Annotated[str | None, Field(title="Escalated From")]
    organisation_id: Annotated[str, Field(title="Organisation Id")]


class AttemptOut(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    attempted_at: Annotated[AwareDatetime, Field(title="Attempted At")]
    endpoint_url: Annotated[str, Field(title="Endpoint Url")]
    error: Annotated[str | None, Field(title="Error")]
    latency_ms: Annotated[int, Field(title="Latency Ms")]
    outcome: Annotated[
        str, Field(description="delivered | retry | gone | failed_permanently", title="Outcome")
    ]
    status_code: Annotated[
        int | None,
        Field(description="the receiver's HTTP status; null if none", title="Status Code"),
    ]


class CDOSummary(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    appointment_id: Annotated[str, Field(title="Appointment Id")]
    ends_at: Annotated[AwareDatetime | None, Field(title="Ends At")]
    person_name: Annotated[str, Field(title="Person Name")]
    starts_at: Annotated[AwareDatetime, Field(title="Starts At")]
    title: Annotated[str, Field(title="Title")]


class Reason(RootModel[str]):
    root: Annotated[str, Field(max_length=2000, title="Reason")]


class CancelIn(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    reason: Annotated[Reason | None, Field(title="Reason")] = None


class Events(
    RootModel[
        list[
            Literal[
                "approval.requested",
                "approval.reminder",
                "approval.escalated",
                "request.decided",
                "grant.issued",
                "grant.revoked",
                "problem.reported",
                "problem.answered",
                "appeal.requested",
                "appeal.escalated",
                "appeal.decided",
            ]
        ]
    ]
):
    root: Annotated[
        list[
            Literal[
                "approval.requested",
                "approval.reminder",
                "approval.escalated",
                "request.decided",
                "grant.issued",
                "grant.revoked",
                "problem.reported",
                "problem.answered",
                "appeal.requested",
                "appeal.escalated",
                "appeal.decided",
            ]
        ],
        Field(
            description="which notifications the channel receives; default: approval tasks (requested, reminder, escalated), outcomes (`request.decided`) and problem reports (`problem.reported`, `problem.answered`)",
            min_length=1,
            title="Events",
        ),
    ]


class Recipients(RootModel[list[str]]):
    root: Annotated[
        list[str],
        Field(
            description="email: the addresses that receive the messages",
            examples=[["cdo-office@gz.gov.cn"]],
            max_length=10,
            min_length=1,
            title="Recipients",
        ),
    ]


class Secret(RootModel[str]):
    root: Annotated[
        str,
        Field(
            description="dingtalk: the robot's signing secret (加签, `SEC…`); messages are signed with it",
            max_length=200,
            min_length=1,
            title="Secret",
        ),
    ]


class WebhookUrl(RootModel[str]):
    root: Annotated[
        str,
        Field(
            description="wecom, dingtalk: the group robot's webhook URL as the group's robot settings show it, with its `key` (WeCom) or `access_token` (DingTalk)",
            examples=["https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-…"],
            max_length=2000,
            min_length=1,
            title="Webhook Url",
        ),
    ]


class ChannelIn(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    events: Annotated[
        Events | None,
        Field(
            description="which notifications the channel receives; default: approval tasks (requested, reminder, escalated), outcomes (`request.decided`) and problem reports (`problem.reported`, `problem.answered`)",
            title="Events",
        ),
    ] = None
    recipients: Annotated[
        Recipients | None,
        Field(
            description="email: the addresses that receive the messages",
            examples=[["cdo-office@gz.gov.cn"]],
            title="Recipients",
        ),
    ] = None
    secret: Annotated[
        Secret | None,
        Field(
            description="dingtalk: the robot's signing secret (加签, `SEC…`); messages are signed with it",
            title="Secret",
        ),
    ] = None
    webhook_url: Annotated[
        WebhookUrl | None,
        Field(
            description="wecom, dingtalk: the group robot's webhook URL as the group's robot settings show it, with its `key` (WeCom) or `access_token` (DingTalk)",
            examples=["https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-…"],
            title="Webhook Url",
        ),
    ] = None


class ChannelOut(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    created_at: Annotated[AwareDatetime, Field(title="Created At")]
    credentials: Annotated[
        dict[str, str],
        Field(
            description="each stored credential's last characters (`key`, `access_token`, `secret`), to tell which one is set; the values are never answered",
            title="Credentials",
        ),
    ]
    disabled_at: Annotated[
        AwareDatetime | None,
        Field(
            description="set when the vendor answered that the robot is gone; PUT to re-enable",
            title="Disabled At",
        ),
    ]
    disabled_reason: Annotated[str | None, Field(title="Disabled Reason")]
    events: Annotated[
        list[
            Literal[
                "approval.requested",
                "approval.reminder",
                "approval.escalated",
                "request.decided",
                "grant.issued",
                "grant.revoked",
                "problem.reported",
                "problem.answered",
                "appeal.requested",
                "appeal.escalated",
                "appeal.decided",
            ]
        ],
        Field(title="Events"),
    ]
    id: Annotated[str, Field(title="Id")]
    kind: Annotated[Literal["wecom", "dingtalk", "email"], Field(title="Kind")]
    organisation_id: Annotated[str, Field(title="Organisation Id")]
    recipients: Annotated[list[str] | None, Field(title="Recipients")]
    updated_at: Annotated[AwareDatetime, Field(title="Updated At")]
    webhook_url: Annotated[
        str | None, Field(description="the robot's URL without its credential", title="Webhook Url")
    ]


class ClarificationAnswerIn(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    answer: Annotated[str, Field(max_length=4000, min_length=1, title="Answer")]


class ClarificationIn(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    question: Annotated[str, Field(max_length=2000, min_length=2, title="Question")]


class Concerns(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    organisations: Annotated[
        list[str] | None,
        Field(
            description="ids of the bodies the problem is about (a body that does not answer, ...)",
            max_length=50,
            title="Organisations",
        ),
    ] = None
    requests: Annotated[
        list[str] | None,
        Field(
            description="ids of requests the problem is about; only ones your organisation may see",
            max_length=50,
            title="Requests",
        ),
    ] = None


class CoordinatorOut(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    added_at: Annotated[AwareDatetime, Field(title="Added At")]
    current: Annotated[bool, Field(title="Current")]
    escalated_from: Annotated[str | None, Field(title="Escalated From")]
    organisation_id: Annotated[str, Field(title="Organisation Id")]


class Description(RootModel[str]):
    root: Annotated[str, Field(max_length=2000, title="Description")]


class Name(RootModel[str]):
    root: Annotated[str, Field(max_length=200, min_length=1, title="Name")]


class NameEn(RootModel[str]):
    root: Annotated[str, Field(max_length=300, min_length=1, title="Name En")]


class ResourceCode(RootModel[str]):
    root: Annotated[str, Field(max_length=60, title="Resource Code")]


class SharingConditions(RootModel[str]):
    root: Annotated[str, Field(max_length=2000, title="Sharing Conditions")]


class DatasetField(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    label: Annotated[str, Field(max_length=100, min_length=1, title="Label")]
    name: Annotated[str, Field(pattern="^[a-z][a-z0-9_]{0,63}$", title="Name")]
    personal: Annotated[
        bool | None, Field(description="personal information (个人信息)", title="Personal")
    ] = False
    sensitive: Annotated[
        bool | None,
        Field(
            description="sensitive personal information (敏感个人信息); implies `personal`",
            title="Sensitive",
        ),
    ] = False


class ResourceCode1(RootModel[str]):
    root: Annotated[
        str,
        Field(
            description="资源代码 in the government data catalog",
            max_length=60,
            title="Resource Code",
        ),
    ]


class SharingConditions1(RootModel[str]):
    root: Annotated[
        str,
        Field(
            description="共享条件, for a conditional dataset",
            max_length=2000,
            title="Sharing Conditions",
        ),
    ]


class Comment(RootModel[str]):
    root: Annotated[str, Field(max_length=2000, title="Comment")]


class Fields2(RootModel[list[str]]):
    root: Annotated[
        list[str],
        Field(
            description="approve only these (a subset of those asked)", min_length=1, title="Fields"
        ),
    ]


class Reason1(RootModel[str]):
    root: Annotated[str, Field(max_length=1000, title="Reason")]


class DelegationIn(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    delegate_name: Annotated[str, Field(max_length=100, min_length=1, title="Delegate Name")]
    delegate_org_id: Annotated[
        str | None,
        Field(
            description="the body whose systems the deputy uses; default: the same",
            title="Delegate Org Id",
        ),
    ] = None
    delegate_title: Annotated[str, Field(max_length=100, min_length=1, title="Delegate Title")]
    ends_at: Annotated[
        AwareDatetime,
        Field(
            description="at most one year after starts_at, and not after the appointment ends",
            title="Ends At",
        ),
    ]
    organisation_id: Annotated[
        str | None,
        Field(
            description="whose CDO delegates; default: the caller's organisation",
            title="Organisation Id",
        ),
    ] = None
    reason: Annotated[Reason1 | None, Field(title="Reason")] = None
    starts_at: Annotated[
        AwareDatetime,
        Field(
            description="now or later (a few minutes' clock skew is tolerated)", title="Starts At"
        ),
    ]


class DelegationOut(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    appointment_id: Annotated[str, Field(title="Appointment Id")]
    created_at: Annotated[AwareDatetime, Field(title="Created At")]
    delegate_name: Annotated[str, Field(title="Delegate Name")]
    delegate_org_id: Annotated[str, Field(title="Delegate Org Id")]
    delegate_title: Annotated[str, Field(title="Delegate Title")]
    ends_at: Annotated[AwareDatetime, Field(title="Ends At")]
    id: Annotated[str, Field(title="Id")]
    reason: Annotated[str | None, Field(title="Reason")]
    revoked_at: Annotated[AwareDatetime | None, Field(title="Revoked At")]
    starts_at: Annotated[AwareDatetime, Field(title="Starts At")]


class DelegationRevokeIn(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    reason: Annotated[Reason1 | None, Field(title="Reason")] = None


class DeliveryOut(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    attempts: Annotated[list[AttemptOut], Field(title="Attempts")]
    attempts_in_schedule: Annotated[
        int,
        Field(
            description="attempts since the delivery was queued or last replayed: the retry schedule's position (`attempts` lists every attempt ever made)",
            title="Attempts In Schedule",
        ),
    ]
    channel: Annotated[
        Literal["webhook", "wecom", "dingtalk", "email"],
        Field(
            description="`webhook`: the signed POST to your endpoint; `wecom`, `dingtalk`, `email`: the message to your notification channel of that kind",
            title="Channel",
        ),
    ]
    created_at: Annotated[AwareDatetime, Field(title="Created At")]
    dead_at: Annotated[AwareDatetime | None, Field(title="Dead At")]
    delivered_at: Annotated[AwareDatetime | None, Field(title="Delivered At")]
    event_type: Annotated[str, Field(title="Event Type")]
    id: Annotated[str, Field(description="the `webhook-id` header of every attempt", title="Id")]
    last_error: Annotated[str | None, Field(title="Last Error")]
    last_status_code: Annotated[int | None, Field(title="Last Status Code")]
    next_attempt_at: Annotated[AwareDatetime | None, Field(title="Next Attempt At")]
    payload: Annotated[
        dict[str, Any], Field(description="the body that is signed and sent", title="Payload")
    ]
    request_id: Annotated[str | None, Field(title="Request Id")]
    status: Annotated[
        Literal["pending", "delivered", "dead", "undeliverable"], Field(title="Status")
    ]


class EndpointIn(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    url: Annotated[
        str,
        Field(
            description="https URL on the public internet that receives the signed webhooks",
            examples=["https://cdo.gz.gov.cn/hooks/cdo-broker"],
            max_length=2000,
            min_length=1,
            title="Url",
        ),
    ]


class EndpointOut(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    created_at: Annotated[AwareDatetime, Field(title="Created At")]
    disabled_at: Annotated[
        AwareDatetime | None,
        Field(
            description="set when the receiver answered 410 Gone; PUT the endpoint to re-enable it",
            title="Disabled At",
        ),
    ]
    disabled_reason: Annotated[str | None, Field(title="Disabled Reason")]
    id: Annotated[str, Field(title="Id")]
    organisation_id: Annotated[str, Field(title="Organisation Id")]
    rotation_ends_at: Annotated[
        AwareDatetime | None,
        Field(
            description="while a rotation overlaps: when the previous secret stops signing",
            title="Rotation Ends At",
        ),
    ]
    updated_at: Annotated[AwareDatetime, Field(title="Updated At")]
    url: Annotated[str, Field(title="Url")]


class EndpointWithSecret(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    created_at: Annotated[AwareDatetime, Field(title="Created At")]
    disabled_at: Annotated[
        AwareDatetime | None,
        Field(
            description="set when the receiver answered 410 Gone; PUT the endpoint to re-enable it",
            title="Disabled At",
        ),
    ]
    disabled_reason: Annotated[str | None, Field(title="Disabled Reason")]
    id: Annotated[str, Field(title="Id")]
    organisation_id: Annotated[str, Field(title="Organisation Id")]
    rotation_ends_at: Annotated[
        AwareDatetime | None,
        Field(
            description="while a rotation overlaps: when the previous secret stops signing",
            title="Rotation Ends At",
        ),
    ]
    secret: Annotated[
        str,
        Field(
            description="the signing secret, `whsec_` + base64 of 32 bytes; shown this once only",
            examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw8QtLEfSYbDg="],
            title="Secret",
        ),
    ]
    updated_at: Annotated[AwareDatetime, Field(title="Updated At")]
    url: Annotated[str, Field(title="Url")]


class FieldError(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    field: Annotated[str, Field(description="the field, dotted (`period.end`)", title="Field")]
    in_: Annotated[str, Field(alias="in", description="body, query, path or header", title="In")]
    message: Annotated[str, Field(title="Message")]


class Reason3(RootModel[str]):
    root: Annotated[str, Field(max_length=2000, title="Reason")]


class GrantChangeIn(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    reason: Annotated[Reason3 | None, Field(title="Reason")] = None


class GrantOut(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    created_at: Annotated[AwareDatetime, Field(title="Created At")]
    dataset_id: Annotated[str, Field(title="Dataset Id")]
    decision_ids: Annotated[list[str], Field(title="Decision Ids")]
    ends_at: Annotated[AwareDatetime, Field(title="Ends At")]
    fields: Annotated[list[str], Field(title="Fields")]
    grantee_id: Annotated[str, Field(title="Grantee Id")]
    id: Annotated[str, Field(title="Id")]
    jurisdiction: Annotated[str | None, Field(title="Jurisdiction")]
    last_used_at: Annotated[AwareDatetime | None, Field(title="Last Used At")]
    provider_id: Annotated[str, Field(title="Provider Id")]
    purpose: Annotated[str, Field(title="Purpose")]
    request_id: Annotated[str, Field(title="Request Id")]
    revoke_reason: Annotated[str | None, Field(title="Revoke Reason")]
    revoked_at: Annotated[AwareDatetime | None, Field(title="Revoked At")]
    scope: Annotated[str, Field(title="Scope")]
    starts_at: Annotated[AwareDatetime, Field(title="Starts At")]
    status: Annotated[str, Field(title="Status")]
    use_count: Annotated[int, Field(title="Use Count")]


class GrantRevokeIn(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    reason: Annotated[
        str,
        Field(
            description="why: it is recorded and sent",
            max_length=2000,
            min_length=2,
            title="Reason",
        ),
    ]


class GrantUseIn(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    count: Annotated[
        int, Field(description="uses since the last report", ge=1, le=1000000000, title="Count")
    ]
    grant_id: Annotated[str, Field(max_length=40, min_length=1, title="Grant Id")]
    last_used_at: Annotated[
        AwareDatetime, Field(description="the latest of those uses", title="Last Used At")
    ]


class GrantUsesIn(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    uses: Annotated[list[GrantUseIn], Field(max_length=500, min_length=1, title="Uses")]


class GrantUsesOut(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    counted: Annotated[
        list[str],
        Field(description="grants on your datasets: their counts were added", title="Counted"),
    ]
    ignored: Annotated[
        list[str],
        Field(description="grants not on your datasets, or unknown: not counted", title="Ignored"),
    ]


class GroupOut(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    id: Annotated[str, Field(title="Id")]
    name: Annotated[str, Field(title="Name")]
    name_en: Annotated[str, Field(title="Name En")]


class IndicatorOut(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    best: Annotated[float | None, Field(title="Best")]
    group: Annotated[str, Field(title="Group")]
    id: Annotated[str, Field(title="Id")]
    measure: Annotated[str | None, Field(title="Measure")]
    name: Annotated[str, Field(title="Name")]
    name_en: Annotated[str, Field(title="Name En")]
    source: Annotated[str, Field(title="Source")]
    weight: Annotated[float, Field(title="Weight")]
    worst: Annotated[float | None, Field(title="Worst")]


class IndicatorResult(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    comment: Annotated[
        str | None, Field(description="an entered score's comment", title="Comment")
    ] = None
    indicator: Annotated[str, Field(title="Indicator")]
    score: Annotated[float | None, Field(description="0-100; null without a value", title="Score")]
    value: Annotated[
        float | None,
        Field(description="the measure, or the entered score; null: none", title="Value"),
    ]
    weight: Annotated[float, Field(title="Weight")]


class IndicatorsOut(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    groups: Annotated[list[GroupOut], Field(title="Groups")]
    indicators: Annotated[list[IndicatorOut], Field(title="Indicators")]


class OAuthError(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    error: Annotated[
        str, Field(description="invalid_request, invalid_client, invalid_scope, ...", title="Error")
    ]
    error_description: Annotated[str | None, Field(title="Error Description")] = None


class DivisionCode(RootModel[str]):
    root: Annotated[str, Field(pattern="^\\d{6}(\\d{3})?$", title="Division Code")]


class OrganisationChange(BaseModel):
    """
    What may change of a body. Its place in the tree (kind, level, government, parent) does
    not: that would move it between jurisdictions and under routes already planned.
    """

    model_config = ConfigDict(
        extra="ignore",
    )
    division_code: Annotated[DivisionCode | None, Field(title="Division Code")] = None
    name: Annotated[Name | None, Field(title="Name")] = None
    name_en: Annotated[NameEn | None, Field(title="Name En")] = None
    pilot: Annotated[bool | None, Field(title="Pilot")] = None


class OrganisationIn(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    division_code: Annotated[str, Field(pattern="^\\d{6}(\\d{3})?$", title="Division Code")]
    government_id: Annotated[str | None, Field(title="Government Id")] = None
    id: Annotated[
        str, Field(max_length=64, min_length=2, pattern="^[a-z0-9][a-z0-9-]*$", title="Id")
    ]
    kind: Annotated[Literal["government", "department", "data_bureau"], Field(title="OrgKind")]
    level: Annotated[Literal["province", "city", "county", "town"], Field(title="Level")]
    name: Annotated[str, Field(max_length=200, min_length=1, title="Name")]
    name_en: Annotated[str, Field(max_length=300, min_length=1, title="Name En")]
    parent_id: Annotated[str | None, Field(title="Parent Id")] = None
    pilot: Annotated[bool | None, Field(title="Pilot")] = False


class OrganisationOut(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    cdo: CDOSummary | None
    division_code: Annotated[str, Field(title="Division Code")]
    government_id: Annotated[str | None, Field(title="Government Id")]
    id: Annotated[str, Field(title="Id")]
    kind: Annotated[Literal["government", "department", "data_bureau"], Field(title="OrgKind")]
    level: Annotated[Literal["province", "city", "county", "town"], Field(title="Level")]
    name: Annotated[str, Field(title="Name")]
    name_en: Annotated[str, Field(title="Name En")]
    parent_id: Annotated[str | None, Field(title="Parent Id")]
    pilot: Annotated[bool, Field(title="Pilot")]


class PageDeliveryOut(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    items: Annotated[list[DeliveryOut], Field(title="Items")]
    next_cursor: Annotated[str | None, Field(title="Next Cursor")]


class PageGrantOut(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    items: Annotated[list[GrantOut], Field(title="Items")]
    next_cursor: Annotated[str | None, Field(title="Next Cursor")]


class PageOrganisationOut(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    items: Annotated[list[OrganisationOut], Field(title="Items")]
    next_cursor: Annotated[str | None, Field(title="Next Cursor")]


class Period(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    end: Annotated[AwareDatetime, Field(title="End")]
    start: Annotated[AwareDatetime, Field(title="Start")]


class PeriodIn(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    end: Annotated[AwareDatetime, Field(title="End")]
    start: Annotated[AwareDatetime, Field(title="Start")]


class PersonRef(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    id: Annotated[str, Field(title="Id")]
    name: Annotated[str, Field(title="Name")]


class Problem(BaseModel):
    """
    RFC 9457 problem details. A problem may carry further members (`required_scope`,
    `field`, `checks`, ...).
    """

    model_config = ConfigDict(
        extra="ignore",
    )
    detail: Annotated[str | None, Field(title="Detail")] = None
    errors: Annotated[
        list[FieldError] | None, Field(description="each invalid field", title="Errors")
    ] = None
    instance: Annotated[
        str | None, Field(description="the path that was called", title="Instance")
    ] = None
    status: Annotated[int, Field(title="Status")]
    title: Annotated[str, Field(title="Title")]
    type: Annotated[str, Field(description="stable URI naming the kind of problem", title="Type")]


class ProblemIn(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    concerns: Concerns | None = None
    details: Annotated[
        str,
        Field(
            description="what happened, what is asked",
            max_length=8000,
            min_length=2,
            title="Details",
        ),
    ]
    summary: Annotated[
        str,
        Field(description="one line: what is wrong", max_length=200, min_length=2, title="Summary"),
    ]


class ProblemOut(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    addressed_to: Annotated[
        str, Field(description="the provincial data bureau, who answers", title="Addressed To")
    ]
    answered_at: Annotated[AwareDatetime | None, Field(title="Answered At")]
    concerns: Concerns
    created_at: Annotated[AwareDatetime, Field(title="Created At")]
    details: Annotated[str, Field(title="Details")]
    id: Annotated[str, Field(title="Id")]
    reporter_id: Annotated[str, Field(title="Reporter Id")]
    resolution: Annotated[str | None, Field(title="Resolution")]
    status: Annotated[Literal["open", "answered"], Field(title="Status")]
    summary: Annotated[str, Field(title="Summary")]


class ProjectIn(BaseModel):
    """
    An IT project (信息化项目) at a stage where its body's CDO may veto it (一票否决).
    """

    model_config = ConfigDict(
        extra="ignore",
    )
    budget_cny: Annotated[
        int, Field(description="budget in yuan", ge=0, le=10000000000000, title="Budget Cny")
    ]
    code: Annotated[
        str,
        Field(
            description="the project's code (项目编号)", max_length=60, min_length=1, title="Code"
        ),
    ]
    name: Annotated[str, Field(max_length=200, min_length=2, title="Name")]
    stage: Annotated[
        Literal["initiation", "acceptance"], Field(description="立项 or 验收", title="Stage")
    ]


class RangeReplayIn(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    force: Annotated[bool | None, Field(title="Force")] = False
    from_: Annotated[
        AwareDatetime,
        Field(alias="from", description="created at or after this time", title="From"),
    ]
    status: Annotated[
        Literal["dead", "undeliverable", "delivered"] | None,
        Field(
            description="only deliveries in this status; default: dead and undeliverable ones (`delivered` needs `force`)",
            title="Status",
        ),
    ] = None
    to: Annotated[AwareDatetime, Field(description="created before this time", title="To")]


class ReplayIn(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    force: Annotated[
        bool | None, Field(description="also send a delivery that was delivered", title="Force")
    ] = False


class ReplayOut(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    requeued: Annotated[
        int, Field(description="how many deliveries went back to pending", title="Requeued")
    ]


class Jurisdiction(RootModel[str]):
    root: Annotated[
        str,
        Field(
            description="for a return: the division code of the jurisdiction the data concerns",
            pattern="^\\d{6}(\\d{3})?$",
            title="Jurisdiction",
        ),
    ]


class LegalBasis(RootModel[str]):
    root: Annotated[str, Field(max_length=2000, min_length=2, title="Legal Basis")]


class RequestIn(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    dataset_id: Annotated[
        str | None, Field(description="share, return: 1-100 characters", title="Dataset Id")
    ] = None
    description: Annotated[
        str | None,
        Field(description="a demand: the data wanted, 4-4000 characters", title="Description"),
    ] = None
    fields: Annotated[
        list[str] | None, Field(description="share, return: 1-200 names", title="Fields")
    ] = None
    jurisdiction: Annotated[
        Jurisdiction | None,
        Field(
            description="for a return: the division code of the jurisdiction the data concerns",
            title="Jurisdiction",
        ),
    ] = None
    kind: Annotated[
        Literal["share", "return", "demand", "it_project"],
        Field(
            description="share 共享 and return 回流 name a dataset; demand 需求 asks for data the catalog lacks; it_project 信息化项目 asks the body's CDO to pass a project",
            title="Kind",
        ),
    ]
    legal_basis: Annotated[LegalBasis | None, Field(title="Legal Basis")] = None
    period: Annotated[
        PeriodIn | None, Field(description="the period wanted (share, return, demand)")
    ] = None
    presumed_provider_id: Annotated[
        str | None,
        Field(
            description="a demand: the body presumed to hold the data", title="Presumed Provider Id"
        ),
    ] = None
    project: Annotated[ProjectIn | None, Field(description="an IT project")] = None
    purpose: Annotated[
        str,
        Field(
            description="purpose and usage scenario", max_length=2000, min_length=4, title="Purpose"
        ),
    ]


class RequestStatus(
    RootModel[Literal["pending", "approved", "rejected", "cancelled", "expired", "vetoed"]]
):
    root: Annotated[
        Literal["pending", "approved", "rejected", "cancelled", "expired", "vetoed"],
        Field(title="RequestStatus"),
    ]


class RosterEntry(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    cdo: CDOSummary | None
    expected_filed_with_id: Annotated[
        str | None,
        Field(
            description="the data bureau the rules name for this body's CDO",
            title="Expected Filed With Id",
        ),
    ]
    filed_at: Annotated[AwareDatetime | None, Field(title="Filed At")]
    filed_with_id: Annotated[str | None, Field(title="Filed With Id")]
    filing_receipt: Annotated[
        str | None, Field(description="the filing receipt (备案号)", title="Filing Receipt")
    ]
    filing_state: Annotated[
        Literal["filed", "misfiled", "vacant"],
        Field(
            description="filed: a CDO in office, filed with the bureau the rules name; misfiled: filed with another (before the rule, or since the body moved); vacant: no CDO in office",
            title="FilingState",
        ),
    ]
    kind: Annotated[Literal["government", "department", "data_bureau"], Field(title="OrgKind")]
    level: Annotated[Literal["province", "city", "county", "town"], Field(title="Level")]
    organisation_id: Annotated[str, Field(title="Organisation Id")]
    organisation_name: Annotated[str, Field(title="Organisation Name")]
    pilot: Annotated[bool, Field(title="Pilot")]


class OverlapSeconds(RootModel[int]):
    root: Annotated[
        int,
        Field(
            description="how long the old secret still signs (default WEBHOOK_ROTATION_OVERLAP)",
            ge=0,
            le=604800,
            title="Overlap Seconds",
        ),
    ]


class RotateIn(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    overlap_seconds: Annotated[
        OverlapSeconds | None,
        Field(
            description="how long the old secret still signs (default WEBHOOK_ROTATION_OVERLAP)",
            title="Overlap Seconds",
        ),
    ] = None


class ScoreIn(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    comment: Annotated[
        str,
        Field(
            description="评价意见: why this score", max_length=2000, min_length=2, title="Comment"
        ),
    ]
    indicator: Annotated[
        str,
        Field(
            description="an `entered` indicator's id (GET /v1/evaluation/indicators)",
            title="Indicator",
        ),
    ]
    organisation_id: Annotated[
        str, Field(description="the body whose CDO is evaluated", title="Organisation Id")
    ]
    period_end: Annotated[
        date,
        Field(description="the day after the period's last (end exclusive)", title="Period End"),
    ]
    period_start: Annotated[
        date,
        Field(
            description="first day of the period scored (China Standard Time)", title="Period Start"
        ),
    ]
    score: Annotated[int, Field(ge=0, le=100, title="Score")]


class ScoreOut(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    comment: Annotated[str, Field(title="Comment")]
    created_at: Annotated[AwareDatetime, Field(title="Created At")]
    entered_by_org_id: Annotated[str, Field(title="Entered By Org Id")]
    entered_by_person_id: Annotated[str | None, Field(title="Entered By Person Id")]
    id: Annotated[str, Field(title="Id")]
    indicator: Annotated[str, Field(title="Indicator")]
    organisation_id: Annotated[str, Field(title="Organisation Id")]
    period_end: Annotated[date, Field(title="Period End")]
    period_start: Annotated[date, Field(title="Period Start")]
    score: Annotated[int, Field(title="Score")]


class ScorecardRow(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    appointment_id: Annotated[str | None, Field(title="Appointment Id")]
    groups: Annotated[
        dict[str, float | None], Field(description="each group's weighted mean", title="Groups")
    ]
    indicators: Annotated[list[IndicatorResult], Field(title="Indicators")]
    level: Annotated[str, Field(title="Level")]
    organisation_id: Annotated[str, Field(title="Organisation Id")]
    organisation_name: Annotated[str, Field(title="Organisation Name")]
    person_name: Annotated[str | None, Field(title="Person Name")]
    total: Annotated[
        float | None,
        Field(
            description="weighted mean (0-100) of the indicators with a score; null: none has",
            title="Total",
        ),
    ]


class TimelineAttempt(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    at: Annotated[AwareDatetime, Field(title="At")]
    error: Annotated[str | None, Field(title="Error")]
    latency_ms: Annotated[int, Field(title="Latency Ms")]
    outcome: Annotated[str, Field(title="Outcome")]
    status_code: Annotated[int | None, Field(title="Status Code")]


class TimelineEvent(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    actor: Annotated[str | None, Field(title="Actor")]
    at: Annotated[AwareDatetime, Field(title="At")]
    decision: Annotated[
        str | None,
        Field(
            description="for a decided step: approve, reject or veto (一票否决)", title="Decision"
        ),
    ] = None
    due_at: Annotated[
        AwareDatetime | None,
        Field(description="for approval tasks: the step's SLA deadline", title="Due At"),
    ]
    published_at: Annotated[
        AwareDatetime | None,
        Field(description="when Kafka acknowledged it; null: waiting", title="Published At"),
    ]
    reason: Annotated[
        str | None,
        Field(
            description="why: a rejection's or veto's comment, a cancellation's reason",
            title="Reason",
        ),
    ] = None
    span_id: Annotated[str | None, Field(title="Span Id")]
    step: Annotated[int | None, Field(title="Step")]
    topic: Annotated[str, Field(title="Topic")]
    trace_id: Annotated[str | None, Field(title="Trace Id")]
    trace_url: Annotated[
        str | None,
        Field(
            description="the trace in the operators' trace viewer (`TRACE_UI_URL`); null when unset",
            title="Trace Url",
        ),
    ]
    type: Annotated[
        str,
        Field(description="e.g. request.submitted, approval.requested, grant.issued", title="Type"),
    ]


class TimelineWebhook(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    attempts: Annotated[list[TimelineAttempt], Field(title="Attempts")]
    channel: Annotated[
        str,
        Field(
            description="webhook, or the notification channel: wecom, dingtalk, email",
            title="Channel",
        ),
    ]
    created_at: Annotated[AwareDatetime, Field(title="Created At")]
    next_attempt_at: Annotated[AwareDatetime | None, Field(title="Next Attempt At")]
    recipient: Annotated[str, Field(title="Recipient")]
    status: Annotated[str, Field(title="Status")]
    type: Annotated[str, Field(title="Type")]
    webhook_id: Annotated[str, Field(title="Webhook Id")]


class AppealDecisionIn(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    comment: Annotated[
        str,
        Field(
            description="the coordinator's reason", max_length=2000, min_length=2, title="Comment"
        ),
    ]
    decision: Annotated[Literal["uphold", "overturn"], Field(title="Decision")]
    fields: Annotated[
        Fields | None,
        Field(description="overturn: approve only these of those asked", title="Fields"),
    ] = None
    period: Annotated[
        PeriodIn | None, Field(description="overturn: approve a shorter period than asked")
    ] = None


class AppealOut(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    against: Annotated[
        list[str], Field(description="the bodies whose refusal is appealed", title="Against")
    ]
    comment: Annotated[str | None, Field(title="Comment")]
    created_at: Annotated[AwareDatetime, Field(title="Created At")]
    decided_at: Annotated[AwareDatetime | None, Field(title="Decided At")]
    decided_by: Annotated[
        str | None, Field(description="the coordinating body that decided", title="Decided By")
    ]
    decided_by_person: PersonRef | None
    due_at: Annotated[
        AwareDatetime,
        Field(description="when the current coordinator's time to decide ends", title="Due At"),
    ]
    grounds: Annotated[Literal["rejected", "narrowed"], Field(title="Grounds")]
    id: Annotated[str, Field(title="Id")]
    narrowing: Annotated[dict[str, Any] | None, Field(title="Narrowing")]
    reason: Annotated[str, Field(title="Reason")]
    route: Annotated[
        list[CoordinatorOut],
        Field(description="who coordinates, in order (申请协调流程)", title="Route"),
    ]
    status: Annotated[Literal["pending", "upheld", "overturned"], Field(title="Status")]


class CdoEvaluationRow(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    appeals_overturned: Annotated[
        int,
        Field(
            description="appeals it decided by overturning the refusal", title="Appeals Overturned"
        ),
    ]
    appeals_received: Annotated[
        int,
        Field(
            description="appeals (申请协调) that came to it to coordinate", title="Appeals Received"
        ),
    ]
    appeals_upheld: Annotated[
        int,
        Field(description="appeals it decided by upholding the refusal", title="Appeals Upheld"),
    ]
    appointment_id: Annotated[
        str | None,
        Field(
            description="the CDO appointment; null in per-body rows, and for a body's activity while it had no CDO",
            title="Appointment Id",
        ),
    ]
    approved: Annotated[int, Field(title="Approved")]
    clarifications_asked: Annotated[int, Field(title="Clarifications Asked")]
    decided: Annotated[int, Field(title="Decided")]
    decided_by_delegate: Annotated[int, Field(title="Decided By Delegate")]
    decision_seconds_median: Annotated[
        int | None,
        Field(description="nearest-rank; null without decisions", title="Decision Seconds Median"),
    ]
    decision_seconds_p90: Annotated[
        int | None,
        Field(description="nearest-rank; null without decisions", title="Decision Seconds P90"),
    ]
    decision_working_seconds_median: Annotated[
        int | None,
        Field(
            description="in working time (office hours of working days, holds excluded); nearest-rank; null without decisions",
            title="Decision Working Seconds Median",
        ),
    ] = None
    decision_working_seconds_p90: Annotated[
        int | None,
        Field(
            description="in working time; nearest-rank; null without decisions",
            title="Decision Working Seconds P90",
        ),
    ] = None
    escalations_caused: Annotated[int, Field(title="Escalations Caused")]
    escalations_received: Annotated[int, Field(title="Escalations Received")]
    grants_revoked_after_approval: Annotated[int, Field(title="Grants Revoked After Approval")]
    level: Annotated[Literal["province", "city", "county", "town"], Field(title="Level")]
    organisation_id: Annotated[str, Field(title="Organisation Id")]
    organisation_name: Annotated[str, Field(title="Organisation Name")]
    person_name: Annotated[str | None, Field(title="Person Name")]
    problem_answer_seconds_median: Annotated[
        int | None,
        Field(
            description="nearest-rank median of the seconds from filing to answer of those answered",
            title="Problem Answer Seconds Median",
        ),
    ]
    problems_answered: Annotated[
        int, Field(description="problem reports the body answered", title="Problems Answered")
    ]
    problems_filed: Annotated[
        int, Field(description="problem reports (问题反映) the body filed", title="Problems Filed")
    ]
    problems_naming: Annotated[
        int, Field(description="problem reports filed that name the body", title="Problems Naming")
    ]
    rejected: Annotated[int, Field(title="Rejected")]
    requests_routed: Annotated[int, Field(title="Requests Routed")]
    sla_breaches: Annotated[int, Field(title="Sla Breaches")]
    title: Annotated[str | None, Field(title="Title")]


class CdoRoster(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    as_of: Annotated[AwareDatetime, Field(title="As Of")]
    counts: Annotated[
        dict[Literal["filed", "misfiled", "vacant"], int],
        Field(description="the entries listed, by filing state", title="Counts"),
    ]
    entries: Annotated[list[RosterEntry], Field(title="Entries")]
    organisation_id: Annotated[str, Field(title="Organisation Id")]


class ChannelList(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    items: Annotated[list[ChannelOut], Field(title="Items")]


class Fields1(RootModel[list[DatasetField]]):
    root: Annotated[list[DatasetField], Field(max_length=200, min_length=1, title="Fields")]


class DatasetChange(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    description: Annotated[Description | None, Field(title="Description")] = None
    fields: Annotated[Fields1 | None, Field(title="Fields")] = None
    grade: Literal["general", "important", "core"] | None = None
    name: Annotated[Name | None, Field(title="Name")] = None
    name_en: Annotated[NameEn | None, Field(title="Name En")] = None
    open_attribute: Literal["not_open", "conditional", "unconditional"] | None = None
    resource_code: Annotated[ResourceCode | None, Field(title="Resource Code")] = None
    sharing_class: Literal["unconditional", "conditional", "not_shareable"] | None = None
    sharing_conditions: Annotated[SharingConditions | None, Field(title="Sharing Conditions")] = (
        None
    )
    sharing_method: Literal["api", "table", "file"] | None = None
    update_cycle: (
        Literal["real_time", "daily", "weekly", "monthly", "quarterly", "yearly", "irregular"]
        | None
    ) = None


class DatasetIn(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    description: Annotated[Description | None, Field(title="Description")] = None
    fields: Annotated[list[DatasetField], Field(max_length=200, min_length=1, title="Fields")]
    grade: Annotated[
        Literal["general", "important", "core"] | None,
        Field(
            description="数据分级: general 一般, important 重要 (adds the provider government's CDO), core 核心 (needs a legal basis and adds the provincial data bureau)",
            title="Grade",
        ),
    ] = "general"
    id: Annotated[
        str, Field(max_length=100, min_length=2, pattern="^[a-z0-9][a-z0-9-]*$", title="Id")
    ]
    name: Annotated[str, Field(max_length=200, min_length=1, title="Name")]
    name_en: Annotated[str, Field(max_length=300, min_length=1, title="Name En")]
    open_attribute: Annotated[
        Literal["not_open", "conditional", "unconditional"] | None, Field(description="开放属性")
    ] = None
    owner_id: Annotated[str, Field(title="Owner Id")]
    resource_code: Annotated[
        ResourceCode1 | None,
        Field(description="资源代码 in the government data catalog", title="Resource Code"),
    ] = None
    sharing_class: Annotated[
        Literal["unconditional", "conditional", "not_shareable"], Field(title="SharingClass")
    ]
    sharing_conditions: Annotated[
        SharingConditions1 | None,
        Field(description="共享条件, for a conditional dataset", title="Sharing Conditions"),
    ] = None
    sharing_method: Annotated[
        Literal["api", "table", "file"] | None, Field(description="共享方式")
    ] = None
    update_cycle: Annotated[
        Literal["real_time", "daily", "weekly", "monthly", "quarterly", "yearly", "irregular"]
        | None,
        Field(description="更新周期"),
    ] = None


class DatasetOut(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    description: Annotated[str | None, Field(title="Description")]
    fields: Annotated[list[DatasetField], Field(title="Fields")]
    grade: Annotated[
        Literal["general", "important", "core"] | None,
        Field(
            description="数据分级: general 一般, important 重要 (adds the provider government's CDO), core 核心 (needs a legal basis and adds the provincial data bureau)",
            title="Grade",
        ),
    ] = "general"
    id: Annotated[str, Field(title="Id")]
    name: Annotated[str, Field(title="Name")]
    name_en: Annotated[str, Field(title="Name En")]
    open_attribute: Annotated[
        Literal["not_open", "conditional", "unconditional"] | None, Field(description="开放属性")
    ] = None
    owner_id: Annotated[str, Field(title="Owner Id")]
    resource_code: Annotated[
        ResourceCode1 | None,
        Field(description="资源代码 in the government data catalog", title="Resource Code"),
    ] = None
    sharing_class: Annotated[
        Literal["unconditional", "conditional", "not_shareable"], Field(title="SharingClass")
    ]
    sharing_conditions: Annotated[
        SharingConditions1 | None,
        Field(description="共享条件, for a conditional dataset", title="Sharing Conditions"),
    ] = None
    sharing_method: Annotated[
        Literal["api", "table", "file"] | None, Field(description="共享方式")
    ] = None
    status: Annotated[
        Literal["published", "draft"] | None,
        Field(
            description="draft: created by an approved demand, not yet requestable",
            title="DatasetStatus",
        ),
    ] = "published"
    update_cycle: Annotated[
        Literal["real_time", "daily", "weekly", "monthly", "quarterly", "yearly", "irregular"]
        | None,
        Field(description="更新周期"),
    ] = None


class DecisionIn(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    comment: Annotated[Comment | None, Field(title="Comment")] = None
    decision: Annotated[
        Literal["approve", "reject", "veto"],
        Field(
            description="an IT project is approved or vetoed (一票否决); every other kind is approved or rejected",
            title="Decision",
        ),
    ]
    fields: Annotated[
        Fields2 | None,
        Field(description="approve only these (a subset of those asked)", title="Fields"),
    ] = None
    period: Annotated[PeriodIn | None, Field(description="approve a shorter period only")] = None


class DecisionOut(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    comment: Annotated[str | None, Field(title="Comment")]
    created_at: Annotated[AwareDatetime, Field(title="Created At")]
    decided_by: Annotated[str, Field(title="Decided By")]
    decided_by_person: Annotated[
        PersonRef | None, Field(description="the person who signed in and decided; null: a system")
    ] = None
    decision: Annotated[Literal["approve", "reject", "veto"], Field(title="Decision")]
    id: Annotated[str, Field(title="Id")]
    narrowing: Annotated[dict[str, Any] | None, Field(title="Narrowing")]
    on_behalf_of: Annotated[str | None, Field(title="On Behalf Of")]
    organisation_id: Annotated[str, Field(title="Organisation Id")]
    signature: Annotated[
        str | None,
        Field(
            description="compact JWS (RS256, broker JWKS) over the decision's content",
            title="Signature",
        ),
    ]


class PageDatasetOut(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    items: Annotated[list[DatasetOut], Field(title="Items")]
    next_cursor: Annotated[str | None, Field(title="Next Cursor")]


class PageProblemOut(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    items: Annotated[list[ProblemOut], Field(title="Items")]
    next_cursor: Annotated[str | None, Field(title="Next Cursor")]


class Scorecard(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    evaluated_by: Annotated[
        str,
        Field(
            description="the organisation whose jurisdiction bounds the rows", title="Evaluated By"
        ),
    ]
    from_: Annotated[AwareDatetime, Field(alias="from", title="From")]
    rows: Annotated[list[ScorecardRow], Field(title="Rows")]
    to: Annotated[AwareDatetime, Field(title="To")]


class StepOut(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    approvers: Annotated[list[ApproverOut], Field(title="Approvers")]
    calendar_note: Annotated[
        str | None,
        Field(
            description="set when due_at counted a year the broker's calendar does not know by weekends only (the operator adds the year to HOLIDAYS_FILE)",
            title="Calendar Note",
        ),
    ] = None
    decisions: Annotated[list[DecisionOut], Field(title="Decisions")]
    due_at: Annotated[
        AwareDatetime | None,
        Field(
            description="when the current approvers' limit ends: with working days, 18:00 China Standard Time on a working day; after a clarification, which carries the working time that was left, a moment in a working day's office hours (09:00-18:00)",
            title="Due At",
        ),
    ]
    escalations: Annotated[int, Field(title="Escalations")]
    index: Annotated[int, Field(title="Index")]
    on_hold_since: Annotated[AwareDatetime | None, Field(title="On Hold Since")]
    required: Annotated[int, Field(title="Required")]
    role: Annotated[str, Field(title="Role")]
    sla_seconds: Annotated[
        int,
        Field(
            description="the limit in elapsed seconds; for a working-day limit its nominal length (N x 86400), which no deadline uses: read due_at",
            title="Sla Seconds",
        ),
    ]
    sla_working_days: Annotated[
        int | None,
        Field(
            description="the step's limit in working days (工作日); null when the policy gives elapsed seconds",
            title="Sla Working Days",
        ),
    ] = None
    started_at: Annotated[AwareDatetime | None, Field(title="Started At")]
    status: Annotated[str, Field(title="Status")]


class Timeline(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    current_step: Annotated[int | None, Field(title="Current Step")]
    events: Annotated[list[TimelineEvent], Field(title="Events")]
    request_id: Annotated[str, Field(title="Request Id")]
    status: Annotated[str, Field(title="Status")]
    trace_id: Annotated[str, Field(title="Trace Id")]
    trace_url: Annotated[
        str | None,
        Field(
            description="the request's trace in the operators' trace viewer (`TRACE_UI_URL`, e.g. Jaeger's); null when unset",
            title="Trace Url",
        ),
    ]
    webhooks: Annotated[list[TimelineWebhook], Field(title="Webhooks")]


class CdoEvaluationReport(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    from_: Annotated[AwareDatetime, Field(alias="from", title="From")]
    group_by: Annotated[Literal["cdo", "body"], Field(title="GroupBy")]
    level: Literal["province", "city", "county", "town"] | None
    rows: Annotated[list[CdoEvaluationRow], Field(title="Rows")]
    to: Annotated[AwareDatetime, Field(title="To")]


class RequestOut(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    appeal: Annotated[
        AppealOut | None, Field(description="the requester's appeal (申请协调), once there is one")
    ] = None
    created_at: Annotated[AwareDatetime, Field(title="Created At")]
    current_step: Annotated[int | None, Field(title="Current Step")]
    dataset_id: Annotated[
        str | None,
        Field(
            description="null for an IT project, and for a demand until its approval drafts the catalog entry",
            title="Dataset Id",
        ),
    ]
    decided_at: Annotated[AwareDatetime | None, Field(title="Decided At")]
    description: Annotated[
        str | None, Field(description="a demand's data wanted", title="Description")
    ] = None
    fields: Annotated[list[str], Field(title="Fields")]
    grant_id: Annotated[str | None, Field(title="Grant Id")]
    granted_fields: Annotated[list[str], Field(title="Granted Fields")]
    granted_period: Period
    id: Annotated[str, Field(title="Id")]
    jurisdiction: Annotated[str | None, Field(title="Jurisdiction")]
    kind: Annotated[Literal["share", "return", "demand", "it_project"], Field(title="Kind")]
    legal_basis: Annotated[str | None, Field(title="Legal Basis")]
    period: Period
    project: Annotated[ProjectIn | None, Field(description="an IT project")] = None
    provider_id: Annotated[
        str,
        Field(
            description="the dataset's owner; a demand's presumed provider; an IT project's body",
            title="Provider Id",
        ),
    ]
    purpose: Annotated[str, Field(title="Purpose")]
    requester_id: Annotated[str, Field(title="Requester Id")]
    route: Annotated[list[StepOut], Field(title="Route")]
    routing_rule: Annotated[str, Field(title="Routing Rule")]
    status: Annotated[str, Field(title="Status")]
    status_reason: Annotated[str | None, Field(title="Status Reason")]
    trace_id: Annotated[str, Field(title="Trace Id")]
    updated_at: Annotated[AwareDatetime, Field(title="Updated At")]


class PageRequestOut(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
    )
    items: Annotated[list[RequestOut], Field(title="Items")]
    next_cursor: Annotated[str | None, Field(title="Next Cursor")]
